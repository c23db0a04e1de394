"""NCRONTAB schedules as Azure Functions timer triggers read them.

Six fields: second minute hour day month day-of-week (0 = Sunday). Each field takes `*`,
numbers, ranges `a-b`, lists `a,b` and steps `*/n` or `a-b/n`; months and days also take
English three-letter names. A five-field expression is read with second 0, as the host does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# Names by field index: 4 is the month, 5 the day of the week.
_NAMES = {
    4: {name: number for number, name in enumerate(_MONTHS, 1)},
    5: {name: number for number, name in enumerate(_WEEKDAYS)},
}
_RANGES = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def _value(text: str, index: int) -> int:
    lowered = text.lower()
    if lowered in _NAMES.get(index, {}):
        return _NAMES[index][lowered]
    if not lowered.isdigit():
        raise ValueError(f"not a number: {text!r}")
    return int(lowered)


def _field(text: str, index: int) -> frozenset[int]:
    low, high = _RANGES[index]
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"step must be positive: {part!r}")
        if body == "*":
            start, end = low, high
        elif "-" in body:
            first, last = body.split("-", 1)
            start, end = _value(first, index), _value(last, index)
        else:
            start = _value(body, index)
            end = high if step_text else start
        if index == 5 and end == 7:  # 7 is Sunday too
            values.add(0)
            end = 6
            if start == 7:
                continue
        if not low <= start <= end <= high:
            raise ValueError(f"out of range {low}-{high}: {part!r}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Schedule:
    """A parsed NCRONTAB expression."""

    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]

    @classmethod
    def parse(cls, expression: str) -> Schedule:
        """Parse six (or five) whitespace-separated fields; ValueError when malformed."""
        fields = expression.split()
        if len(fields) == 5:
            fields = ["0", *fields]
        if len(fields) != 6:
            raise ValueError(f"NCRONTAB needs 6 fields, got {len(fields)}: {expression!r}")
        parsed = [_field(text, i) for i, text in enumerate(fields)]
        return cls(*parsed)

    def _day_matches(self, moment: datetime) -> bool:
        # Cron's rule: when both day fields are restricted, either may match.
        weekday = (moment.weekday() + 1) % 7
        day_restricted = self.days != frozenset(range(1, 32))
        weekday_restricted = self.weekdays != frozenset(range(7))
        if day_restricted and weekday_restricted:
            return moment.day in self.days or weekday in self.weekdays
        return moment.day in self.days and weekday in self.weekdays

    def next_after(self, moment: datetime) -> datetime:
        """The first time strictly after `moment` that the schedule fires (same tzinfo)."""
        candidate = moment.replace(microsecond=0) + timedelta(seconds=1)
        limit = candidate + timedelta(days=366 * 5)
        while candidate < limit:
            if candidate.month not in self.months or not self._day_matches(candidate):
                candidate = (candidate + timedelta(days=1)).replace(hour=0, minute=0, second=0)
            elif candidate.hour not in self.hours:
                candidate = (candidate + timedelta(hours=1)).replace(minute=0, second=0)
            elif candidate.minute not in self.minutes:
                candidate = (candidate + timedelta(minutes=1)).replace(second=0)
            elif candidate.second not in self.seconds:
                candidate += timedelta(seconds=1)
            else:
                return candidate
        raise ValueError("schedule never fires")
