"""The open sessions' tally: one small document the consoles' polls read instead of the rows.

It lives in `sessions:open` and holds a desk-wide `version`, raised by every change a console
shows (a session opened, taken, closed or marked; a message filed; a flag; a new viewer), and,
per open session, its change count (`t_{id}`), how many messages the user wrote in it
(`u_{id}`) and how many of those staff have seen (`s_{id}`). Every change is one `increment`
(a Cosmos DB patch): two instances changing it at once both count, and nobody reads it first.
A session's fields go when it closes, so the document is the size of the open sessions.
A poll that brings the version it last saw is answered "unchanged" after one point read; a
changed queue takes its message counts and unread marks from here, not a count per row.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime

from shared.errors import PreconditionFailed
from shared.ports import DESK, Document, DocumentStore

TALLY_PARTITION = "sessions:open"
_DOC: Document = {"id": "tally", "pk": TALLY_PARTITION, "type": "tally"}
_PREFIXES = ("t_", "u_", "s_")
_ATTEMPTS = 3


@dataclass(frozen=True)
class Tally:
    """What the tally document said when it was read."""

    version: int = 0
    changes: dict[str, int] = field(default_factory=dict)
    user_messages: dict[str, int] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)

    def token(self, now: datetime) -> str:
        """What a poll sends back to learn whether anything changed: the version, and the
        minute (waits, viewers and staff presence age with the clock, not with writes)."""
        return f"{self.version}.{now:%Y%m%d%H%M}"

    def counted(self, session_id: str) -> int | None:
        """How many messages the user wrote in an open session (None: not in the tally, such
        as a closed session: count them)."""
        if session_id not in self.changes:
            return None
        return self.user_messages.get(session_id, 0)

    def unread(self, session_id: str) -> bool:
        """The user wrote something in the session that no one on the staff has seen."""
        return self.user_messages.get(session_id, 0) > self.seen.get(session_id, 0)


class SessionTally:
    """Reads and raises the tally (one store operation each)."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def read(self) -> Tally:
        """The tally now (an empty one before the first change)."""
        doc = self._store.read(DESK, TALLY_PARTITION, str(_DOC["id"]))
        return _tally(doc) if doc else Tally()

    def touch(self, session_id: str | None = None, *, user_messages: int = 0) -> None:
        """Something consoles show changed (in `session_id`, which got `user_messages` more
        messages from its user)."""
        deltas = {"version": 1}
        if session_id is not None:
            deltas[f"t_{session_id}"] = 1
            if user_messages:
                deltas[f"u_{session_id}"] = user_messages
        self._store.increment(DESK, _DOC, deltas)

    def seen(self, session_id: str, user_messages: int, tally: Tally) -> None:
        """Staff have read the session's `user_messages` messages from the user (its
        transcript as just read, after `tally` was). A count short of the transcript (a
        store failure between a message and its count) is made up here."""
        missing = max(0, user_messages - tally.user_messages.get(session_id, 0))
        counted = tally.user_messages.get(session_id, 0) + missing
        if not missing and tally.seen.get(session_id) == counted:
            return
        deltas = {"version": 1, f"u_{session_id}": missing}
        self._store.increment(DESK, _DOC, deltas, {f"s_{session_id}": counted})

    def drop(self, session_id: str) -> None:
        """A session closed: its fields go, so the document stays the size of the open
        sessions. Best effort (a read and an ETag-guarded replace, tried a few times against
        the webhook's increments): what a busy moment leaves, `forget` takes later."""
        self._without(lambda sid: sid == session_id)

    def forget(self, open_ids: Collection[str]) -> int:
        """Drop the fields of every session not in `open_ids` (the idle timer); returns how
        many sessions' fields went (0 after losing every race: the next run tries again)."""
        return self._without(lambda sid: sid not in open_ids)

    def _without(self, stale: Callable[[str], bool]) -> int:
        for _ in range(_ATTEMPTS):
            doc = self._store.read(DESK, TALLY_PARTITION, str(_DOC["id"]))
            if doc is None:
                return 0
            names = {n for n in doc if n.startswith(_PREFIXES) and stale(n[2:])}
            if not names:
                return 0
            kept = {k: v for k, v in doc.items() if k not in names}
            try:
                self._store.replace(DESK, kept, etag=str(doc["_etag"]))
            except PreconditionFailed:
                continue
            return len({n[2:] for n in names})
        return 0


def _tally(doc: Document) -> Tally:
    def of(prefix: str) -> dict[str, int]:
        return {k[2:]: int(v) for k, v in doc.items() if k.startswith(prefix)}

    return Tally(int(doc.get("version") or 0), of("t_"), of("u_"), of("s_"))
