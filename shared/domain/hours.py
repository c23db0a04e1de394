"""When the desk's experts answer: business hours and closed days, in Japan time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

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

    def label(self) -> str:
        """`月〜金 9:00〜17:00` style, for messages."""
        days = sorted(self.days)
        if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
            names = f"{_JA_WEEKDAYS[days[0]]}〜{_JA_WEEKDAYS[days[-1]]}"
        else:
            names = "・".join(_JA_WEEKDAYS[d] for d in days)
        return f"{names} {_clock(self.opens)}〜{_clock(self.closes)}"


def _clock(moment: time) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


def japan_day_and_time(moment: datetime) -> str:
    """`11月4日（火） 9:00` (full-width brackets, as all user-facing text)."""
    local = moment.astimezone(JST)
    return f"{local.month}月{local.day}日（{_JA_WEEKDAYS[local.weekday()]}） {_clock(local.time())}"
