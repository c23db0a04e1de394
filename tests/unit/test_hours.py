"""Business hours and Japanese public holidays, in Japan time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from shared.domain.holidays import holidays, is_holiday
from shared.domain.hours import BusinessHours, japan_day_and_time

HOURS = BusinessHours.parse(
    "09:00-17:00",
    "mon,tue,wed,thu,fri",
    "12-29,12-30,12-31,01-01,01-02,01-03,2026-05-01",
    closed_on_holidays=True,
)


def jst(y: int, m: int, d: int, h: int, mi: int = 0) -> datetime:
    return (
        datetime(y, m, d, h - 9, mi, tzinfo=UTC)
        if h >= 9
        else datetime(y, m, d - 1, h + 15, mi, tzinfo=UTC)
    )


def test_2025_and_2026_holidays_match_the_cabinet_office_calendar() -> None:
    expected_2025 = [
        "01-01",
        "01-13",
        "02-11",
        "02-23",
        "02-24",
        "03-20",
        "04-29",
        "05-03",
        "05-04",
        "05-05",
        "05-06",
        "07-21",
        "08-11",
        "09-15",
        "09-23",
        "10-13",
        "11-03",
        "11-23",
        "11-24",
    ]
    assert sorted(d.strftime("%m-%d") for d in holidays(2025)) == expected_2025
    assert {date(2026, 9, 21), date(2026, 9, 22), date(2026, 9, 23)} <= holidays(2026)  # 国民の休日
    assert is_holiday(date(2026, 5, 6))  # 振替休日 for 5/3 (Sunday)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (jst(2025, 11, 4, 9), True),  # Tuesday, opening time
        (jst(2025, 11, 4, 16, 59), True),
        (jst(2025, 11, 4, 17), False),  # closing time
        (jst(2025, 11, 4, 8, 59), False),
        (jst(2025, 11, 3, 10), False),  # 文化の日
        (jst(2025, 11, 8, 10), False),  # Saturday
        (jst(2025, 12, 30, 10), False),  # year-end
        (jst(2026, 5, 1, 10), False),  # a dated closure
    ],
)
def test_is_open(moment: datetime, is_open: bool) -> None:
    assert HOURS.is_open(moment) is is_open


def test_the_next_opening_skips_holidays_weekends_and_the_year_end() -> None:
    assert japan_day_and_time(HOURS.next_opening(jst(2025, 11, 3, 10))) == "11月4日（火） 9:00"
    assert japan_day_and_time(HOURS.next_opening(jst(2025, 11, 4, 8))) == "11月4日（火） 9:00"
    assert japan_day_and_time(HOURS.next_opening(jst(2025, 11, 7, 18))) == "11月10日（月） 9:00"
    assert japan_day_and_time(HOURS.next_opening(jst(2025, 12, 26, 18))) == "1月5日（月） 9:00"


def test_the_label_reads_as_a_schedule() -> None:
    assert HOURS.label() == "月〜金 9:00〜17:00"


@pytest.mark.parametrize(
    ("hours", "days", "closed"),
    [
        ("17:00-09:00", "mon", ""),
        ("9-5", "mon", ""),
        ("09:00-17:00", "", ""),
        ("09:00-17:00", "monday", ""),
        ("09:00-17:00", "mon", "13-01"),
    ],
)
def test_bad_settings_are_refused(hours: str, days: str, closed: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 -- settings turn it into ConfigurationError
        BusinessHours.parse(hours, days, closed, closed_on_holidays=True)


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        (jst(2025, 11, 4, 9), jst(2025, 11, 4, 9, 45), 45),  # within one day
        (jst(2025, 11, 4, 8), jst(2025, 11, 4, 10), 60),  # before opening does not count
        (jst(2025, 11, 4, 16, 30), jst(2025, 11, 5, 9, 10), 40),  # the night does not count
        (jst(2025, 11, 7, 16, 30), jst(2025, 11, 10, 9, 10), 40),  # nor the weekend
        (jst(2025, 11, 3, 10), jst(2025, 11, 3, 12), 0),  # 文化の日: a holiday
        (jst(2025, 12, 26, 16), jst(2026, 1, 5, 10), 120),  # the year-end break
        (jst(2025, 11, 4, 12), jst(2025, 11, 4, 11), 0),  # backwards: nothing
    ],
)
def test_waits_count_business_minutes_only(start, end, minutes) -> None:
    assert HOURS.business_minutes(start, end) == minutes


def test_long_waits_agree_with_a_minute_by_minute_count() -> None:
    start, end = jst(2025, 12, 20, 10, 7), jst(2026, 1, 13, 11, 30)
    counted = 0
    moment = start
    while moment < end:
        counted += HOURS.is_open(moment)
        moment += timedelta(minutes=1)
    assert HOURS.business_minutes(start, end) == counted
