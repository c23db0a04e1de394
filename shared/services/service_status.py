"""The service status board (§7): what operators set, read by every webhook event.

Reading it is part of every event, so each instance keeps it for a short while: at most one
point read per instance per `cache_seconds`, never one per event. A change made on one
instance is answered once the others have read it again (`Settle`): after the 2xx, no
instance files a message against it or sends a stale notice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from shared.domain.consent import JST
from shared.domain.hours import BusinessHours
from shared.domain.messages import utf16_length
from shared.domain.service_status import Effective, ServiceState, ServiceStatus, Window, effective
from shared.errors import ValidationError
from shared.ports import Clock, DocumentStore
from shared.repositories.status_records import ClosedDays, StatusRecords
from shared.services.audit import Auditor
from shared.services.cached import NO_WAIT, Cached, Settle

MAX_MESSAGE = 500
# How far ahead a maintenance end or a planned window may lie: a typo in the year must not
# close the desk for decades, nor plan a window nobody will remember.
MAX_AHEAD = timedelta(days=90)
MAX_DAY_NOTE = 200


@dataclass(frozen=True)
class ServiceChange:
    """An operator's change: a state now, or (`start` in the future) a planned window."""

    state: ServiceState
    message: str | None = None
    until: datetime | None = None
    start: datetime | None = None
    cancel_windows: bool = False

    def __post_init__(self) -> None:
        # It goes into LINE messages: counted as LINE counts.
        if self.message is not None and utf16_length(self.message) > MAX_MESSAGE:
            raise ValidationError("message", "text_max", max=MAX_MESSAGE)


@dataclass(frozen=True)
class StatusView:
    """The state in force, what operators set, and the windows still to come or running."""

    effective: Effective
    configured: ServiceStatus
    windows: tuple[Window, ...]


class StatusBoard:
    """Reads (cached) and changes (audited) the service status."""

    def __init__(
        self,
        store: DocumentStore,
        auditor: Auditor,
        clock: Clock,
        *,
        cache_seconds: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
        settle: Settle = NO_WAIT,
    ) -> None:
        self._records = StatusRecords(store)
        self._auditor = auditor
        self._clock = clock
        self._settle = settle
        self._status_kept: Cached[ServiceStatus] = Cached(cache_seconds, monotonic)
        self._days = ClosedDays(store)
        self._closed_kept: Cached[frozenset[date]] = Cached(cache_seconds, monotonic)

    def current(self) -> Effective:
        """The state in force now (from a status read at most `cache_seconds` ago)."""
        return effective(self._status(), self._clock())

    def describe(self) -> StatusView:
        """`GET /api/admin/service`: the state in force, what is set, and planned windows."""
        status = self._status(fresh=True)
        now = self._clock()
        live = tuple(w for w in status.windows if w.end > now)
        return StatusView(effective(status, now), status, live)

    def change(self, command: ServiceChange, operator: str) -> StatusView:
        """Set the state now; with `start` in the future (maintenance only), plan a window
        instead: it begins and ends on its own. `cancel_windows` also drops the plans."""
        now = self._clock()
        until, start = command.until, command.start
        if start is not None and start > now + MAX_AHEAD:
            raise ValidationError("from", "days_ahead", days=MAX_AHEAD.days)
        if until is not None and until <= now:
            raise ValidationError("until", "future_time")
        if until is not None and until > now + MAX_AHEAD:
            raise ValidationError("until", "days_ahead", days=MAX_AHEAD.days)
        status = self._status(fresh=True)
        planned = start is not None and start > now
        if start is not None and planned:
            if command.state is not ServiceState.MAINTENANCE or until is None or until <= start:
                raise ValidationError("from", "window_needs_until")
            window = Window(start, until, command.message)
            status = ServiceStatus(
                status.state,
                status.message,
                status.until,
                status.since,
                tuple(sorted((*status.windows, window), key=lambda w: w.start)),
            )
        else:
            windows = () if command.cancel_windows else status.windows
            live = tuple(w for w in windows if w.end > now)
            status = ServiceStatus(command.state, command.message, until, now, live)
        self._records.write(status)
        self._status_kept.forget()
        self._auditor.record(
            operator, "service.change", None, state=command.state.value, planned=planned
        )
        view = self.describe()
        self._settle()  # last: nothing is left to read or write once the wait is over
        return view

    # -- closed days (臨時休業) -------------------------------------------------------------

    def closed_days(self) -> dict[date, str]:
        """The days closed by an operator, from today on (Japan time), with their notes."""
        today = self._clock().astimezone(JST).date()
        return {day: note for day, note in self._days.read().items() if day >= today}

    def close_day(self, day: date, note: str, operator: str) -> None:
        """Close the desk on `day` (today or later): the hours answers announce it and the
        next opening skips it. Audited."""
        today = self._clock().astimezone(JST).date()
        if day < today:
            raise ValidationError("day", "future_time")
        if day > today + MAX_AHEAD:
            raise ValidationError("day", "days_ahead", days=MAX_AHEAD.days)
        if len(note) > MAX_DAY_NOTE:
            raise ValidationError("note", "text_max", max=MAX_DAY_NOTE)
        self._days.change(day, note.strip())
        self._closed_kept.forget()
        self._auditor.record(operator, "service.close_day", None, day=day.isoformat())
        self._settle()

    def reopen_day(self, day: date, operator: str) -> None:
        """Open a closed day again. Audited."""
        self._days.change(day, None)
        self._closed_kept.forget()
        self._auditor.record(operator, "service.reopen_day", None, day=day.isoformat())
        self._settle()

    def opening_hours(self, hours: BusinessHours) -> BusinessHours:
        """`hours` with the operators' closed days (read at most `cache_seconds` ago)."""
        closed = frozenset(d.isoformat() for d in self._closed())
        return replace(hours, closed_dates=hours.closed_dates | closed) if closed else hours

    def closed_ahead(self) -> tuple[date, ...]:
        """The closed days from today on, as the webhook announces them (the same read at most
        `cache_seconds` ago as `opening_hours`; the status screen reads `closed_days` fresh)."""
        today = self._clock().astimezone(JST).date()
        return tuple(sorted(d for d in self._closed() if d >= today))

    def _closed(self) -> frozenset[date]:
        return self._closed_kept.get(lambda: frozenset(self._days.read()))

    def _status(self, *, fresh: bool = False) -> ServiceStatus:
        return self._status_kept.get(self._records.read, fresh=fresh)
