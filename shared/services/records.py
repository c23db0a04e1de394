"""Typed access to the desk's records: dataclasses in, documents out, over a DocumentStore."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum

from shared.domain.consent import ConsentMethod, ConsentRecord
from shared.domain.events import EventMeta
from shared.domain.users import UserRecord
from shared.errors import AlreadyExists, PreconditionFailed
from shared.services.ports import USERS, Clock, Document, DocumentStore

USER_DOC_ID = "user"


def _event_doc_id(event_id: str) -> str:
    return f"event:{event_id}"


class Claim(StrEnum):
    """What claiming an event's receipt found."""

    CLAIMED = "claimed"
    DUPLICATE = "duplicate"
    IN_PROGRESS = "in_progress"


class EventReceipts:
    """One receipt per webhook event, so a redelivery changes nothing and sends nothing.

    Two phases: a claim writes a `pending` receipt with a short lease, and `complete` marks it
    `done`. A redelivery that finds `done` is a duplicate. One that finds `pending` under a
    live lease is still being handled elsewhere (answer 503; LINE tries again later). One that
    finds an expired lease takes the event over: the attempt that held it died, or failed and
    could not even release its claim, and the event must not be lost.
    """

    def __init__(
        self, store: DocumentStore, ttl_seconds: int, clock: Clock, lease_seconds: int = 60
    ) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._clock = clock
        self._lease = timedelta(seconds=lease_seconds)

    def claim(self, meta: EventMeta) -> Claim:
        """Take the event for handling, unless it is done or someone else holds it."""
        doc = self._doc(meta, "pending", lease_until=self._clock() + self._lease)
        try:
            self._store.create(USERS, doc)
        except AlreadyExists:
            return self._take_over(meta, doc)
        return Claim.CLAIMED

    def complete(self, meta: EventMeta) -> None:
        """Mark the event handled for good."""
        self._store.upsert(USERS, self._doc(meta, "done", lease_until=None))

    def release(self, meta: EventMeta) -> None:
        """Forget a claim whose handling failed, so LINE's redelivery is handled afresh."""
        self._store.delete(USERS, meta.source.partition, _event_doc_id(meta.event_id))

    def _take_over(self, meta: EventMeta, doc: Document) -> Claim:
        existing = self._store.read(USERS, meta.source.partition, doc["id"])
        if existing is None:  # released (or expired) since: try once more
            try:
                self._store.create(USERS, doc)
            except AlreadyExists:
                return Claim.IN_PROGRESS
            return Claim.CLAIMED
        if existing.get("status") != "pending":
            return Claim.DUPLICATE
        lease = existing.get("leaseUntil")
        if lease and datetime.fromisoformat(lease) > self._clock():
            return Claim.IN_PROGRESS
        try:
            self._store.replace(USERS, doc, etag=existing["_etag"])
        except PreconditionFailed:
            return Claim.IN_PROGRESS
        return Claim.CLAIMED

    def _doc(self, meta: EventMeta, status: str, lease_until: datetime | None) -> Document:
        return {
            "id": _event_doc_id(meta.event_id),
            "userId": meta.source.partition,
            "type": "event",
            "eventType": meta.event_type,
            "status": status,
            "leaseUntil": _iso(lease_until),
            "ttl": self._ttl,
        }


class Users:
    """The per-user record (follow state, consent summary), one point read away."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def get(self, user_id: str) -> UserRecord | None:
        """The stored record, or None for a user the desk has not seen."""
        doc = self._store.read(USERS, user_id, USER_DOC_ID)
        if doc is None:
            return None
        method = doc.get("consentMethod")
        return UserRecord(
            user_id=user_id,
            followed=bool(doc["followed"]),
            first_followed_at=_time(doc.get("firstFollowedAt")),
            updated_at=datetime.fromisoformat(doc["updatedAt"]),
            consent_version=doc.get("consentVersion"),
            consent_method=ConsentMethod(method) if method else None,
            consent_at=_time(doc.get("consentAt")),
            last_prompt_at=_time(doc.get("lastPromptAt")),
            etag=doc.get("_etag"),
        )

    def save(self, user: UserRecord) -> UserRecord:
        """Write the record; PreconditionFailed if someone else wrote it since it was read."""
        doc: Document = {
            "id": USER_DOC_ID,
            "userId": user.user_id,
            "type": "user",
            "followed": user.followed,
            "firstFollowedAt": _iso(user.first_followed_at),
            "updatedAt": user.updated_at.isoformat(),
            "consentVersion": user.consent_version,
            "consentMethod": user.consent_method.value if user.consent_method else None,
            "consentAt": _iso(user.consent_at),
            "lastPromptAt": _iso(user.last_prompt_at),
        }
        if user.etag is None:
            try:
                stored = self._store.create(USERS, doc)
            except AlreadyExists:
                raise PreconditionFailed("user record was created concurrently") from None
        else:
            stored = self._store.replace(USERS, doc, etag=user.etag)
        return replace(user, etag=stored["_etag"])


class ConsentLog:
    """Append-only consent records in the user's partition."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def append(self, record: ConsentRecord) -> None:
        """Store one record; the same event's record (a redelivery) is stored once."""
        doc: Document = {
            "id": f"consent:{record.event_id}:{record.method.value}",
            "userId": record.user_id,
            "type": "consent",
            "policyVersion": record.version_id,
            "textSha256": record.text_sha256,
            "privacyPolicyVersion": record.privacy_policy_version,
            "method": record.method.value,
            "at": record.at.isoformat(),
            "eventId": record.event_id,
        }
        try:
            self._store.create(USERS, doc)
        except AlreadyExists:
            return

    def history(self, user_id: str) -> list[ConsentRecord]:
        """Every record of the user, oldest first."""
        docs = self._store.query_partition(USERS, user_id, doc_type="consent")
        records = [
            ConsentRecord(
                user_id=user_id,
                version_id=doc["policyVersion"],
                text_sha256=doc["textSha256"],
                privacy_policy_version=doc["privacyPolicyVersion"],
                method=ConsentMethod(doc["method"]),
                at=datetime.fromisoformat(doc["at"]),
                event_id=doc["eventId"],
            )
            for doc in docs
        ]
        return sorted(records, key=lambda r: r.at)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
