"""When the desk's experts answer: business hours and closed days, in Japan time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from shared.domain.consent import JST
from shared.domain.holidays import is_holiday

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_JA_WEEKDAYS = "月火水木金土日"


@dataclass(frozen=True)
class BusinessHours:
    """Open `opens`-`closes` on `days` (0 = Monday), except public holidays and closed dates.

    `closed_dates` holds `MM-DD` (every year, e.g. the year-end break) or `YYYY-MM-DD`.
    """

    opens: time
    closes: time
    days: frozenset[int]
    closed_dates: frozenset[str]
    closed_on_holidays: bool = True

    @classmethod
    def parse(cls, hours: str, days: str, closed: str, closed_on_holidays: bool) -> BusinessHours:
        """From settings: `09:00-17:00`, `mon,tue,...`, `12-29,2026-05-01`; ValueError if bad."""
        start, _, end = hours.partition("-")
        opens, closes = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
        if opens >= closes:
            raise ValueError("business hours must open before they close")
        names = [d.strip().lower() for d in days.split(",") if d.strip()]
        if not names or any(n not in WEEKDAY_NAMES for n in names):
            raise ValueError("business days are names like mon,tue,wed")
        closed_dates = frozenset(c.strip() for c in closed.split(",") if c.strip())
        for entry in closed_dates:
            date.fromisoformat(entry if len(entry) == 10 else f"2024-{entry}")  # 2024: leap
        return cls(
            opens=opens,
            closes=closes,
            days=frozenset(WEEKDAY_NAMES.index(n) for n in names),
            closed_dates=closed_dates,
            closed_on_holidays=closed_on_holidays,
        )

    def is_business_day(self, day: date) -> bool:
        """Open at all on this (Japan) date?"""
        if day.weekday() not in self.days:
            return False
        if day.isoformat() in self.closed_dates or day.strftime("%m-%d") in self.closed_dates:
            return False
        return not (self.closed_on_holidays and is_holiday(day))

    def is_open(self, moment: datetime) -> bool:
        """Are experts answering at `moment`?"""
        local = moment.astimezone(JST)
        return self.is_business_day(local.date()) and self.opens <= local.time() < self.closes

    def next_opening(self, moment: datetime) -> datetime:
        """When experts next start answering (Japan time), strictly after `moment`."""
        local = moment.astimezone(JST)
        day = local.date()
        if local.time() >= self.opens:
            day += timedelta(days=1)
        for _ in range(400):
            if self.is_business_day(day):
                return datetime.combine(day, self.opens, JST)
            day += timedelta(days=1)
        raise ValueError("the desk is never open")

    def business_minutes(self, start: datetime, end: datetime) -> int:
        """Whole minutes of business hours between `start` and `end` (0 if end is not later).

        How long a user has waited, as the desk counts it: nights, weekends, holidays and
        closed dates do not count.
        """
        if end <= start:
            return 0
        first, last = start.astimezone(JST), end.astimezone(JST)
        if first.date() == last.date():
            return self._minutes_within(first.date(), first, last)
        whole_days = _business_days(self, first.date() + timedelta(days=1), last.date())
        day_length = datetime.combine(first.date(), self.closes) - datetime.combine(
            first.date(), self.opens
        )
        total = (
            self._minutes_within(first.date(), first, last)
            + self._minutes_within(last.date(), first, last)
            + whole_days * int(day_length.total_seconds() // 60)
        )
        return int(total)

    def _minutes_within(self, day: date, first: datetime, last: datetime) -> int:
        """Business minutes of `day` that fall between `first` and `last`."""
        if not self.is_business_day(day):
            return 0
        opens = datetime.combine(day, self.opens, JST)
        closes = datetime.combine(day, self.closes, JST)
        overlap = min(closes, last) - max(opens, first)
        return max(0, int(overlap.total_seconds() // 60))

    def label(self) -> str:
        """`月〜金 9:00〜17:00` style, for messages."""
        days = sorted(self.days)
        if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
            names = f"{_JA_WEEKDAYS[days[0]]}〜{_JA_WEEKDAYS[days[-1]]}"
        else:
            names = "・".join(_JA_WEEKDAYS[d] for d in days)
        return f"{names} {_clock(self.opens)}〜{_clock(self.closes)}"


@lru_cache(maxsize=32)
def _year_prefix(hours: BusinessHours, year: int) -> tuple[int, ...]:
    """prefix[i]: business days among the first i days of `year` (computed once a year)."""
    start = date(year, 1, 1)
    prefix = [0]
    for offset in range((date(year + 1, 1, 1) - start).days):
        prefix.append(prefix[-1] + hours.is_business_day(start + timedelta(days=offset)))
    return tuple(prefix)


def _business_days(hours: BusinessHours, first: date, last: date) -> int:
    """Business days in [first, last): long waits cost a few look-ups, not a day-by-day walk."""
    if last <= first:
        return 0
    total = 0
    day = first
    while day < last:
        year_end = date(day.year + 1, 1, 1)
        stop = min(last, year_end)
        prefix = _year_prefix(hours, day.year)
        start_index = (day - date(day.year, 1, 1)).days
        total += prefix[start_index + (stop - day).days] - prefix[start_index]
        day = stop
    return total


def _clock(moment: time) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


def japan_day_and_time(moment: datetime) -> str:
    """`11月4日（火） 9:00` (full-width brackets, as all user-facing text)."""
    local = moment.astimezone(JST)
    return f"{local.month}月{local.day}日（{_JA_WEEKDAYS[local.weekday()]}） {_clock(local.time())}"


def japan_day(day: date) -> str:
    """`12月29日（月）`."""
    return f"{day.month}月{day.day}日（{_JA_WEEKDAYS[day.weekday()]}）"
