"""The service status board (§7): what operators set, read by every webhook event.

Reading it is part of every event, so each worker keeps it for a short while: at most one
point read per worker per `cache_seconds`, never one per event. A change made on one worker
reaches the others within that time.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.domain.messages import utf16_length
from shared.domain.service_status import Effective, ServiceState, ServiceStatus, Window, effective
from shared.errors import ValidationError
from shared.services.audit import Auditor
from shared.services.ports import DESK, Clock, Document, DocumentStore

PARTITION = "service"
DOC_ID = "status"
MAX_MESSAGE = 500
# ISO 8601 with ASCII digits and an offset, matched in full (`$` would let "\n" pass).
_MOMENT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})"
)
# How far ahead a maintenance end or a planned window may lie: a typo in the year must not
# close the desk for decades, nor plan a window nobody will remember.
MAX_AHEAD = timedelta(days=90)


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
    ) -> None:
        self._store = store
        self._auditor = auditor
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cached: ServiceStatus | None = None
        self._read_at = 0.0

    def current(self) -> Effective:
        """The state in force now (from a status read at most `cache_seconds` ago)."""
        return effective(self._status(), self._clock())

    def describe(self) -> dict[str, Any]:
        """`GET /api/admin/service`: the state in force, what is set, and planned windows."""
        status = self._status(fresh=True)
        now = self._clock()
        state = effective(status, now)
        return {
            "state": state.state.value,
            "message": state.message,
            "until": state.until.isoformat() if state.until else None,
            "configured": {
                "state": status.state.value,
                "message": status.message,
                "until": status.until.isoformat() if status.until else None,
                "since": status.since.isoformat() if status.since else None,
            },
            "windows": [_window_json(w) for w in status.windows if w.end > now],
        }

    def change(self, payload: dict[str, Any], operator: str) -> dict[str, Any]:
        """`PUT /api/admin/service`: `{"state", "message"?, "until"?, "from"?}`.

        With `from` in the future (maintenance only), a window is planned instead: it begins
        and ends on its own. `{"state": "open", "cancelWindows": true}` also drops the plans.
        """
        try:
            state = ServiceState(str(payload.get("state")))
        except ValueError:
            names = ", ".join(s.value for s in ServiceState)
            raise ValidationError("state", "one_of", choices=names) from None
        message = payload.get("message")
        if message is not None and (
            not isinstance(message, str) or utf16_length(message) > MAX_MESSAGE
        ):  # it goes into LINE messages: counted as LINE counts
            raise ValidationError("message", "text_max", max=MAX_MESSAGE)
        now = self._clock()
        until = _moment(payload.get("until"), "until")
        start = _moment(payload.get("from"), "from")
        if start is not None and start > now + MAX_AHEAD:
            raise ValidationError("from", "days_ahead", days=MAX_AHEAD.days)
        if until is not None and until <= now:
            raise ValidationError("until", "future_time")
        if until is not None and until > now + MAX_AHEAD:
            raise ValidationError("until", "days_ahead", days=MAX_AHEAD.days)
        status = self._status(fresh=True)
        if start is not None and start > now:
            if state is not ServiceState.MAINTENANCE or until is None or until <= start:
                raise ValidationError("from", "window_needs_until")
            window = Window(start, until, message)
            status = ServiceStatus(
                status.state,
                status.message,
                status.until,
                status.since,
                tuple(sorted((*status.windows, window), key=lambda w: w.start)),
            )
        else:
            windows = () if payload.get("cancelWindows") is True else status.windows
            live = tuple(w for w in windows if w.end > now)
            status = ServiceStatus(state, message, until, now, live)
        self._store.upsert(DESK, _doc(status))
        with self._lock:
            self._cached = None
        self._auditor.record(
            operator,
            "service.change",
            None,
            state=state.value,
            planned=start is not None and start > now,
        )
        return self.describe()

    def _status(self, *, fresh: bool = False) -> ServiceStatus:
        with self._lock:
            tick = self._monotonic()
            if fresh or self._cached is None or tick - self._read_at >= self._cache_seconds:
                doc = self._store.read(DESK, PARTITION, DOC_ID)
                self._cached = _status(doc) if doc else ServiceStatus()
                self._read_at = tick
            return self._cached


def _moment(raw: object, name: str) -> datetime | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not _MOMENT.fullmatch(raw):
        raise ValidationError(name, "iso_time")
    try:
        moment = datetime.fromisoformat(raw)
        moment.astimezone(UTC)
    except ValueError:
        raise ValidationError(name, "iso_time") from None
    except OverflowError:  # 0001-01-01T00:00+09:00 lies before the first representable instant
        raise ValidationError(name, "time_out_of_range") from None
    return moment


def _window_json(window: Window) -> dict[str, Any]:
    return {
        "from": window.start.isoformat(),
        "until": window.end.isoformat(),
        "message": window.message,
    }


def _doc(status: ServiceStatus) -> Document:
    return {
        "id": DOC_ID,
        "pk": PARTITION,
        "type": "service",
        "state": status.state.value,
        "message": status.message,
        "until": status.until.isoformat() if status.until else None,
        "since": status.since.isoformat() if status.since else None,
        "windows": [_window_json(w) for w in status.windows],
    }


def _status(doc: Document) -> ServiceStatus:
    def moment(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    return ServiceStatus(
        state=ServiceState(doc["state"]),
        message=doc.get("message"),
        until=moment(doc.get("until")),
        since=moment(doc.get("since")),
        windows=tuple(
            Window(
                datetime.fromisoformat(w["from"]),
                datetime.fromisoformat(w["until"]),
                w.get("message"),
            )
            for w in doc.get("windows") or []
        ),
    )
