"""Typed access to the desk's records: dataclasses in, documents out, over a DocumentStore."""

from __future__ import annotations

from datetime import datetime

from shared.domain.events import EventMeta
from shared.domain.users import UserRecord
from shared.errors import AlreadyExists
from shared.services.ports import USERS, Document, DocumentStore

USER_DOC_ID = "user"


def _event_doc_id(event_id: str) -> str:
    return f"event:{event_id}"


class EventReceipts:
    """One receipt per handled webhook event, so a redelivery changes nothing and sends nothing."""

    def __init__(self, store: DocumentStore, ttl_seconds: int) -> None:
        self._store = store
        self._ttl = ttl_seconds

    def claim(self, meta: EventMeta) -> bool:
        """Record that this event is being handled; False when it already was (a duplicate)."""
        doc: Document = {
            "id": _event_doc_id(meta.event_id),
            "userId": meta.source.partition,
            "type": "event",
            "eventType": meta.event_type,
            "ttl": self._ttl,
        }
        try:
            self._store.create(USERS, doc)
        except AlreadyExists:
            return False
        return True

    def release(self, meta: EventMeta) -> None:
        """Forget a claim whose handling failed, so LINE's redelivery is handled afresh."""
        self._store.delete(USERS, meta.source.partition, _event_doc_id(meta.event_id))


class Users:
    """The per-user record (follow state), one point read away."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def get(self, user_id: str) -> UserRecord | None:
        """The stored record, or None for a user the desk has not seen."""
        doc = self._store.read(USERS, user_id, USER_DOC_ID)
        if doc is None:
            return None
        first = doc.get("firstFollowedAt")
        return UserRecord(
            user_id=user_id,
            followed=bool(doc["followed"]),
            first_followed_at=datetime.fromisoformat(first) if first else None,
            updated_at=datetime.fromisoformat(doc["updatedAt"]),
            etag=doc.get("_etag"),
        )

    def save(self, user: UserRecord) -> None:
        """Write the record (last writer wins: follow state has no concurrent editors)."""
        self._store.upsert(
            USERS,
            {
                "id": USER_DOC_ID,
                "userId": user.user_id,
                "type": "user",
                "followed": user.followed,
                "firstFollowedAt": (
                    user.first_followed_at.isoformat() if user.first_followed_at else None
                ),
                "updatedAt": user.updated_at.isoformat(),
            },
        )
