"""Erasure tombstones: when a user's data was erased, so that older events change nothing.

LINE signs each event for good: a captured webhook body stays valid, and event receipts (the
deduplication) go with the user's partition when they are erased. Without a mark, a consent
sent before an erasure and posted again afterwards would bring the user back with a fresh
consent. The eraser therefore leaves a tombstone: a keyed hash of the user id (never the id;
derived apart from the hash audit and suspension records use, so the tombstone cannot be
joined with them without the raw id) and the time the erasure was asked for, in the
desk-wide container. It expires with the
deduplication window (`DESK_EVENT_TTL_SECONDS`): events older than that are refused anyway.

The webhook reads it only for a user it has no record of (one point read, on that rarer path);
a record created after an erasure carries the erasure time itself (`UserRecord.erased_at`), so
the common path (a known user's text) costs nothing more.
"""

from __future__ import annotations

from datetime import datetime

from shared.domain.privacy import user_key
from shared.services.ports import DESK, DocumentStore

PARTITION = "erasures"


class Tombstones:
    """The erasure marks, by keyed hash."""

    def __init__(self, store: DocumentStore, hash_key: str, ttl_seconds: int) -> None:
        self._store = store
        self._hash_key = hash_key
        self._ttl = ttl_seconds

    def mark(self, user_id: str, erased_at: datetime) -> None:
        """Remember that this user was erased at `erased_at` (stored by keyed hash only)."""
        self._store.upsert(
            DESK,
            {
                "id": self._key(user_id),
                "pk": PARTITION,
                "type": "tombstone",
                "erasedAt": erased_at.isoformat(),
                "ttl": self._ttl,
            },
        )

    def _key(self, user_id: str) -> str:
        return user_key(self._hash_key, f"tombstone:{user_id}")

    def erased_at(self, user_id: str) -> datetime | None:
        """When this user was last erased, if within the window; else None."""
        doc = self._store.read(DESK, PARTITION, self._key(user_id))
        return datetime.fromisoformat(doc["erasedAt"]) if doc else None
