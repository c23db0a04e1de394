"""Each user's message counts of one JST day, for the flood limits (one document a day)."""

from __future__ import annotations

from collections.abc import Mapping

from shared.ports import USERS, DocumentStore

# The day's document outlives its day (the minute window looks back across no midnight).
_TTL = 2 * 24 * 3600


class FloodCounts:
    """`flood:{YYYYMMDD}` in the user's partition: named counters, changed atomically."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def add(self, user_id: str, day: str, deltas: Mapping[str, int]) -> dict[str, int]:
        """Add `deltas` to the day's counters; returns every counter after the change."""
        doc = {"id": f"flood:{day}", "userId": user_id, "type": "flood", "ttl": _TTL}
        stored = self._store.increment(USERS, doc, deltas)
        return {
            name: value
            for name, value in stored.items()
            if type(value) is int and name != "ttl" and not name.startswith("_")
        }
