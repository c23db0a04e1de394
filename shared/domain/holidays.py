"""Japanese public holidays (国民の祝日), computed from the law's rules, 2022-2099.

Fixed dates, "Happy Monday" holidays, the equinoxes (by the usual astronomical
approximation), substitute holidays (振替休日: a holiday on a Sunday moves to the next day that
is not a holiday) and citizens' holidays (国民の休日: a day between two holidays). One-off
changes (the 2020-2021 Olympic moves) lie before the desk's range and are not modelled.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

_FIXED = {(1, 1), (2, 11), (2, 23), (4, 29), (5, 3), (5, 4), (5, 5), (8, 11), (11, 3), (11, 23)}
# (month, which Monday): 成人の日, 海の日, 敬老の日, スポーツの日
_MONDAYS = ((1, 2), (7, 3), (9, 3), (10, 2))


def _nth_monday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(7 - first.weekday()) % 7 + 7 * (n - 1))


def _equinoxes(year: int) -> tuple[date, date]:
    shift = 0.242194 * (year - 1980) - (year - 1980) // 4
    return date(year, 3, int(20.8431 + shift)), date(year, 9, int(23.2488 + shift))


@cache
def holidays(year: int) -> frozenset[date]:
    """Every public holiday of `year`."""
    if not 2022 <= year <= 2099:
        raise ValueError("holidays are computed for 2022-2099")
    days = {date(year, m, d) for m, d in _FIXED}
    days.update(_nth_monday(year, m, n) for m, n in _MONDAYS)
    days.update(_equinoxes(year))
    for day in sorted(days):
        if day.weekday() == 6:  # Sunday: the next non-holiday is off instead
            substitute = day + timedelta(days=1)
            while substitute in days:
                substitute += timedelta(days=1)
            days.add(substitute)
    for day in sorted(days):
        between = day + timedelta(days=1)
        if day + timedelta(days=2) in days and between not in days and between.weekday() != 6:
            days.add(between)
    return frozenset(days)


def is_holiday(day: date) -> bool:
    """True on a Japanese public holiday."""
    return day in holidays(day.year)
