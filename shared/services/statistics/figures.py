"""The supervisor's internal figures (never published): consultations per day and per
consultant, first-answer and total times in business minutes (median and 90th percentile),
crisis cases and how fast an expert took them, satisfaction per consultant, and what is open
and overdue now. They name staff, so only Desk.Admin sees them; what is published stays the
suppressed table of `reporting.py`.

They are read from the session records of the period (sessions opened in it): the session's
holder (or whoever closed it) is its consultant; the first answer is when LINE first took an
expert's answer; a crisis case is one the crisis rule marked, taken when an expert claimed it.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from shared.domain.consent import JST
from shared.domain.hours import BusinessHours
from shared.domain.sessions import SURVEY_RATINGS, SessionStatus
from shared.errors import ValidationError
from shared.ports import Clock
from shared.repositories.user_records import SessionIndex

MAX_DAYS = 366
UNASSIGNED = ""


@dataclass(frozen=True)
class Times:
    """Median and 90th percentile of some waits, in business minutes (None: no case)."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, minutes: Iterable[int]) -> Times:
        """The summary of these waits (nearest-rank percentiles)."""
        ordered = sorted(minutes)
        if not ordered:
            return cls(0, None, None)
        return cls(len(ordered), _median(ordered), float(_rank(ordered, 0.9)))


@dataclass
class ConsultantFigures:
    """One consultant's period."""

    name: str
    consultations: int = 0
    closed: int = 0
    crisis: int = 0
    first_answer: list[int] = field(default_factory=list)
    total: list[int] = field(default_factory=list)
    ratings: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SURVEY_RATINGS, 0))

    @property
    def first_answer_times(self) -> Times:
        """Opening to the first answer LINE took, in business minutes."""
        return Times.of(self.first_answer)

    @property
    def total_times(self) -> Times:
        """Opening to closing, in business minutes (closed consultations)."""
        return Times.of(self.total)


@dataclass(frozen=True)
class Figures:
    """Everything the figures screen shows for a period (Japan dates, inclusive)."""

    start: date
    end: date
    per_day: tuple[tuple[date, int], ...]
    consultants: tuple[ConsultantFigures, ...]
    first_answer: Times
    total: Times
    crisis_cases: int
    crisis_taken: Times
    crisis_untaken: int
    open_now: int
    waiting_now: int
    overdue_now: int


class SupervisorFigures:
    """Computes the internal figures from the session records."""

    def __init__(
        self,
        index: SessionIndex,
        hours: BusinessHours,
        clock: Clock,
        *,
        alert_minutes: int,
    ) -> None:
        self._index = index
        self._hours = hours
        self._clock = clock
        self._alert_minutes = alert_minutes

    def period(self, start: date | None, end: date | None) -> tuple[date, date]:
        """The period asked for (Japan dates, inclusive), by default this month so far."""
        today = self._clock().astimezone(JST).date()
        first = start or today.replace(day=1)
        last = end or today
        if last < first:
            raise ValidationError("to", "date_order")
        if (last - first).days >= MAX_DAYS:
            raise ValidationError("to", "period_too_long", days=MAX_DAYS)
        return first, last

    def figures(self, start: date, end: date) -> Figures:
        """The period's figures, and what is open and overdue now."""
        sessions = self._index.opened_between(_utc_start(start), _utc_start(end + timedelta(1)))
        per_day = dict.fromkeys(_days(start, end), 0)
        consultants: dict[str, ConsultantFigures] = {}
        first, total, crisis_taken = [], [], []
        crisis = untaken = 0
        for session in sessions:
            day = session.opened_at.astimezone(JST).date()
            per_day[day] = per_day.get(day, 0) + 1
            name = session.closed_by_name or session.assigned_to or UNASSIGNED
            person = consultants.setdefault(name, ConsultantFigures(name))
            person.consultations += 1
            if session.first_answer_at is not None:
                minutes = self._minutes(session.opened_at, session.first_answer_at)
                person.first_answer.append(minutes)
                first.append(minutes)
            if session.status is SessionStatus.CLOSED and session.closed_at is not None:
                person.closed += 1
                minutes = self._minutes(session.opened_at, session.closed_at)
                person.total.append(minutes)
                total.append(minutes)
            if session.survey_rating in person.ratings:
                person.ratings[session.survey_rating] += 1
            if session.urgent:
                crisis += 1
                person.crisis += 1
                raised = session.urgent_at or session.opened_at
                if session.claimed_at is not None and session.claimed_at >= raised:
                    crisis_taken.append(_clock_minutes(raised, session.claimed_at))
                elif session.claimed_at is None:
                    untaken += 1
        now = self._clock()
        waiting = self._index.page(SessionStatus.WAITING, None, 1000)
        overdue = sum(self._minutes(s.opened_at, now) >= self._alert_minutes for s in waiting)
        return Figures(
            start=start,
            end=end,
            per_day=tuple(sorted(per_day.items())),
            consultants=tuple(sorted(consultants.values(), key=lambda c: (c.name == "", c.name))),
            first_answer=Times.of(first),
            total=Times.of(total),
            crisis_cases=crisis,
            crisis_taken=Times.of(crisis_taken),
            crisis_untaken=untaken,
            open_now=self._index.count(SessionStatus.ACTIVE) + len(waiting),
            waiting_now=len(waiting),
            overdue_now=overdue,
        )

    def _minutes(self, start: datetime, end: datetime) -> int:
        return self._hours.business_minutes(start, end)


def as_csv(figures: Figures, labels: dict[str, str]) -> str:
    """The figures as CSV for the monthly report; `labels` are the column names, in Japanese."""
    out = io.StringIO()
    rows = csv.writer(out, lineterminator="\r\n")
    rows.writerow([labels["period"], f"{figures.start.isoformat()}〜{figures.end.isoformat()}"])
    rows.writerow([])
    rows.writerow([labels["day"], labels["consultations"]])
    rows.writerows([day.isoformat(), count] for day, count in figures.per_day)
    rows.writerow([])
    rows.writerow(
        [
            labels["consultant"],
            labels["consultations"],
            labels["closed"],
            labels["first_median"],
            labels["first_p90"],
            labels["total_median"],
            labels["total_p90"],
            labels["crisis"],
            *(labels[f"rating_{r}"] for r in SURVEY_RATINGS),
        ]
    )
    for person in figures.consultants:
        rows.writerow(
            [
                person.name or labels["unassigned"],
                person.consultations,
                person.closed,
                _shown(person.first_answer_times.median),
                _shown(person.first_answer_times.p90),
                _shown(person.total_times.median),
                _shown(person.total_times.p90),
                person.crisis,
                *(person.ratings[r] for r in SURVEY_RATINGS),
            ]
        )
    rows.writerow([])
    rows.writerow([labels["crisis"], figures.crisis_cases])
    rows.writerow([labels["crisis_taken_median"], _shown(figures.crisis_taken.median)])
    rows.writerow([labels["crisis_untaken"], figures.crisis_untaken])
    rows.writerow([labels["open_now"], figures.open_now])
    rows.writerow([labels["overdue_now"], figures.overdue_now])
    return out.getvalue()


def _shown(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _median(ordered: list[int]) -> float:
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def _rank(ordered: list[int], share: float) -> int:
    """The nearest-rank percentile: the smallest value with at least `share` at or below."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _clock_minutes(start: datetime, end: datetime) -> int:
    """Wall-clock minutes (a crisis is taken whatever the hours)."""
    return max(0, int((end - start).total_seconds() // 60))


def _utc_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=JST).astimezone(UTC)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]
