"""The service status document (one per desk): what operators set and the windows they planned."""

from __future__ import annotations

from datetime import date, datetime

from shared.domain.service_status import ServiceState, ServiceStatus, Window
from shared.errors import AlreadyExists, PreconditionFailed
from shared.ports import DESK, Document, DocumentStore
from shared.repositories.timestamps import iso_or_none, time_or_none

PARTITION = "service"
DOC_ID = "status"
CLOSED_DAYS_ID = "closed-days"
_ATTEMPTS = 10


class StatusRecords:
    """Reads and writes the one status document."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def read(self) -> ServiceStatus:
        """What is stored; open with no windows when nothing is."""
        doc = self._store.read(DESK, PARTITION, DOC_ID)
        return _status(doc) if doc else ServiceStatus()

    def write(self, status: ServiceStatus) -> None:
        """Replace the stored status."""
        self._store.upsert(DESK, _doc(status))


def _doc(status: ServiceStatus) -> Document:
    return {
        "id": DOC_ID,
        "pk": PARTITION,
        "type": "service",
        "state": status.state.value,
        "message": status.message,
        "until": iso_or_none(status.until),
        "since": iso_or_none(status.since),
        "windows": [_window_doc(w) for w in status.windows],
    }


def _status(doc: Document) -> ServiceStatus:
    return ServiceStatus(
        state=ServiceState(doc["state"]),
        message=doc.get("message"),
        until=time_or_none(doc.get("until")),
        since=time_or_none(doc.get("since")),
        windows=tuple(
            Window(
                datetime.fromisoformat(w["from"]),
                datetime.fromisoformat(w["until"]),
                w.get("message"),
            )
            for w in doc.get("windows") or []
        ),
    )


def _window_doc(window: Window) -> Document:
    return {
        "from": window.start.isoformat(),
        "until": window.end.isoformat(),
        "message": window.message,
    }


class ClosedDays:
    """The days an operator closed the desk on (臨時休業), beside the status document: one
    document, changed with its ETag so two operators' changes never undo each other."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def read(self) -> dict[date, str]:
        """Each closed day and its staff-only note."""
        doc = self._store.read(DESK, PARTITION, CLOSED_DAYS_ID)
        days = doc.get("days", {}) if doc else {}
        return {date.fromisoformat(day): str(note) for day, note in sorted(days.items())}

    def change(self, day: date, note: str | None) -> None:
        """Close `day` (with `note`), or open it again (`note` None)."""
        for _ in range(_ATTEMPTS):
            doc = self._store.read(DESK, PARTITION, CLOSED_DAYS_ID)
            days = dict(doc.get("days", {})) if doc else {}
            if note is None:
                days.pop(day.isoformat(), None)
            else:
                days[day.isoformat()] = note
            fields = {"id": CLOSED_DAYS_ID, "pk": PARTITION, "type": "closed-days", "days": days}
            try:
                if doc is None:
                    self._store.create(DESK, fields)
                else:
                    self._store.replace(DESK, {**doc, **fields}, etag=str(doc["_etag"]))
            except (AlreadyExists, PreconditionFailed):
                continue
            return
        raise PreconditionFailed(None, "record_race")
