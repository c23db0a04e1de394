"""Desk-wide records that are not one user's: flags, suspensions, audit, statistics entries.

Each lives in its own partition of the `desk` container. Only flags, a suspension still
awaiting its purge and a restriction in force carry a raw LINE user id (operators act on
them); erasure deletes the flags and the restriction entry and strips the id from the
suspension, which then keeps only the keyed hash. A restriction entry with an end expires
with the store's TTL a day after it, whether or not anyone opens the list.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.domain.consent import JST
from shared.domain.moderation import Flag, FlagAction, FlagStatus
from shared.domain.screening import Finding
from shared.errors import AlreadyExists
from shared.ports import DESK, USERS, Document, DocumentStore, Filters
from shared.repositories.layout import Layout, query_months
from shared.repositories.timestamps import iso_or_none, time_or_none

FLAGS = "flags"
SUSPENSIONS = "suspensions"
RESTRICTIONS = "restrictions"


def audit_partition(month: str) -> str:
    """The audit records of one month (`YYYYMM`, UTC; their ids begin with their time)."""
    return f"audit:{month}"


class FlagLog:
    """Flags for review, oldest first."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def add(self, flag: Flag) -> bool:
        """Raise a flag; False if this one was raised already (a redelivery)."""
        try:
            self._store.create(DESK, _flag_doc(flag))
        except AlreadyExists:
            return False
        return True

    def get(self, flag_id: str) -> Flag | None:
        """One flag."""
        doc = self._store.read(DESK, FLAGS, flag_id)
        return _flag(doc) if doc else None

    def save(self, flag: Flag) -> Flag:
        """Replace with the flag's ETag (PreconditionFailed if it changed)."""
        if flag.etag is None:
            raise ValueError("save a flag that was read")
        return _flag(self._store.replace(DESK, _flag_doc(flag), etag=flag.etag))

    def page(self, status: FlagStatus, after: str | None, limit: int) -> list[Flag]:
        """Flags in `status`, oldest first."""
        docs = self._store.query_partition(
            DESK,
            FLAGS,
            doc_type="flag",
            where={"status": status.value},
            after_id=after,
            limit=limit,
        )
        return [_flag(d) for d in docs]

    def open_of_user(self, user_id: str) -> list[Flag]:
        """The user's flags still waiting for review."""
        docs = self._store.query_partition(
            DESK, FLAGS, doc_type="flag", where={"userId": user_id, "status": "open"}
        )
        return [_flag(d) for d in docs]

    def delete_of_user(self, user_id: str) -> int:
        """Erase every flag about a user."""
        docs = self._store.query_partition(DESK, FLAGS, doc_type="flag", where={"userId": user_id})
        return sum(self._store.delete(DESK, FLAGS, d["id"]) for d in docs)


@dataclass(frozen=True)
class Suspension:
    """A suspended user, by keyed hash. `user_id` is kept only until the purge erases them."""

    user_key: str
    clause: str
    suspended_at: datetime
    user_id: str | None = None
    purged_at: datetime | None = None
    noticed: bool = False

    @property
    def purged(self) -> bool:
        """Their personal data is gone; only the hash remains, to keep them suspended."""
        return self.purged_at is not None


class Suspensions:
    """The suspension list the purge timer works through and the webhook checks for the erased."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._claims = RunClaims(store, SUSPENSIONS)  # purge claims beside the suspensions

    def get(self, user_key: str) -> Suspension | None:
        """The suspension of a user, by keyed hash."""
        doc = self._store.read(DESK, SUSPENSIONS, user_key)
        if doc is None:
            return None
        return Suspension(
            user_key=doc["id"],
            clause=doc["clause"],
            suspended_at=datetime.fromisoformat(doc["suspendedAt"]),
            user_id=doc.get("userId"),
            purged_at=time_or_none(doc.get("purgedAt")),
            noticed=bool(doc.get("noticed")),
        )

    def put(self, suspension: Suspension) -> None:
        """Write (idempotent)."""
        doc: Document = {
            "id": suspension.user_key,
            "pk": SUSPENSIONS,
            "type": "suspension",
            "clause": suspension.clause,
            "suspendedAt": suspension.suspended_at.isoformat(),
            "purged": suspension.purged,
            "purgedAt": iso_or_none(suspension.purged_at),
            "noticed": suspension.noticed,
        }
        if suspension.user_id is not None:
            doc["userId"] = suspension.user_id
        self._store.upsert(DESK, doc)

    def claim_purge(self, user_key: str, lease_seconds: int) -> bool:
        """Take the purge of one suspended user for this run (False: another run has it); the
        suspension document itself is never rewritten for it (see RunClaims)."""
        return self._claims.take("purging", user_key, lease_seconds)

    def release_purge(self, user_key: str) -> None:
        """Drop a purge claim: the purge is done (the suspension says so now)."""
        self._claims.release("purging", user_key)

    def remove(self, user_key: str) -> None:
        """Forget a suspension (reinstatement), and any purge claim that names its hash."""
        self._store.delete(DESK, SUSPENSIONS, user_key)
        self.release_purge(user_key)

    def awaiting_purge(self, after: str | None, limit: int) -> list[Suspension]:
        """Suspensions whose user has not been erased yet, by key."""
        docs = self._store.query_partition(
            DESK,
            SUSPENSIONS,
            doc_type="suspension",
            where={"purged": False},
            after_id=after,
            limit=limit,
        )
        return [s for d in docs if (s := self.get(d["id"])) is not None]


CLAIMS = "claims"


class RunClaims:
    """Claims that keep two overlapping timer runs (a restart, a deployment) off one item.

    A claim is its own document, created once (a second run's create is refused), named by a
    keyed hash (never a user id: it may outlive an erasure by its lease), and gone with the
    store's TTL after `lease_seconds`, so a run that died half-way is resumed by a later one.
    """

    def __init__(self, store: DocumentStore, partition: str = CLAIMS) -> None:
        self._store = store
        self._partition = partition

    def take(self, kind: str, key: str, lease_seconds: int) -> bool:
        """Claim item `key` of `kind` for this run (False: another run holds it)."""
        claim: Document = {"id": f"{kind}-{key}", "pk": self._partition, "type": "claim"}
        try:
            self._store.create(DESK, {**claim, "ttl": lease_seconds})
        except AlreadyExists:
            return False
        return True

    def release(self, kind: str, key: str) -> None:
        """The item is done (or was not due after all)."""
        self._store.delete(DESK, self._partition, f"{kind}-{key}")


RESTRICTION_MARGIN = 86_400  # seconds an ended restriction's entry outlives its end


@dataclass(frozen=True)
class RestrictedUser:
    """A restricted user, listed for the operators' screen by keyed hash; `user_id` lets an
    operator lift it without ever seeing the id (erasure and reinstatement remove the entry)."""

    user_key: str
    user_id: str
    mode: str
    since: datetime
    until: datetime | None = None


class Restrictions:
    """The list of restricted users (the operators' screen of sanctioned users)."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def put(self, entry: RestrictedUser) -> None:
        """Write (idempotent: a new restriction replaces the old). An entry with an end
        expires a day after it: the LINE id is kept no longer than the restriction needs."""
        doc: Document = {
            "id": entry.user_key,
            "pk": RESTRICTIONS,
            "type": "restriction",
            "userId": entry.user_id,
            "mode": entry.mode,
            "since": entry.since.isoformat(),
            "until": iso_or_none(entry.until),
        }
        if entry.until is not None:
            doc["ttl"] = int((entry.until - entry.since).total_seconds()) + RESTRICTION_MARGIN
        self._store.upsert(DESK, doc)

    def get(self, user_key: str) -> RestrictedUser | None:
        """One entry by keyed hash."""
        doc = self._store.read(DESK, RESTRICTIONS, user_key)
        return _restricted(doc) if doc else None

    def remove(self, user_key: str) -> None:
        """Forget an entry (reinstatement, erasure)."""
        self._store.delete(DESK, RESTRICTIONS, user_key)

    def page(self, after: str | None, limit: int) -> list[RestrictedUser]:
        """Entries by key, `limit` after the key `after`."""
        docs = self._store.query_partition(
            DESK, RESTRICTIONS, doc_type="restriction", after_id=after, limit=limit
        )
        return [_restricted(d) for d in docs]


def _restricted(doc: Document) -> RestrictedUser:
    return RestrictedUser(
        user_key=doc["id"],
        user_id=doc["userId"],
        mode=doc["mode"],
        since=datetime.fromisoformat(doc["since"]),
        until=time_or_none(doc.get("until")),
    )


@dataclass(frozen=True)
class AuditRecord:
    """Who did what, when, to which user (by keyed hash only)."""

    at: datetime
    who: str
    action: str
    user_key: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    record_id: str = ""
    # The operator a key-only caller named (not verified); `who` is then the key's caller.
    asserted_operator: str | None = None
    # Who `who` is: a signed-in person's Entra key (shared/domain/staff.py); None for a key.
    who_key: str | None = None


class AuditLog:
    """Append-only audit of admin actions and reads, oldest first.

    The one exception to append-only is erasure: `scrub` cuts an erased user's records down
    to what may stay (see `shared/services/audit.py`).
    """

    def __init__(
        self,
        store: DocumentStore,
        retention: timedelta = timedelta(days=1825),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._retention = retention
        self._clock = clock
        self._layout = Layout(store)

    def record(self, record: AuditRecord) -> AuditRecord:
        """Append one record (kept `retention` after its time); returns it with its id."""
        record = replace(record, record_id=f"{record.at:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}")
        self._layout.note(record.record_id[:6])
        self._store.create(DESK, self._doc(record))
        return record

    def _doc(self, record: AuditRecord) -> Document:
        """The record's document, expiring `retention` after the record's time (a rewrite by
        `scrub` keeps that end: the store's TTL counts from the last write)."""
        left = self._retention - (self._clock() - record.at)
        return {**_audit_doc(record), "ttl": max(1, int(left.total_seconds()))}

    def page(self, after: str | None, limit: int) -> list[AuditRecord]:
        """Records after the id `after`, oldest first."""
        docs = self._months(after=after, limit=limit)
        return [_audit_record(d) for d in docs]

    def _months(
        self, *, where: Filters | None = None, after: str | None = None, limit: int | None = None
    ) -> list[Document]:
        return query_months(
            self._store,
            self._layout.months(),
            audit_partition,
            doc_type="audit",
            where=where,
            after=after,
            after_month=after[:6] if after else None,
            limit=limit,
        )

    def scrub(self, user_key: str, subject: str | None) -> int:
        """Rewrite every record naming `user_key` with its action, time and actor only, naming
        `subject` instead (idempotent); returns how many were rewritten."""
        docs = self._months(where={"userKey": user_key})
        for doc in docs:
            kept = _audit_record(doc)
            self._store.upsert(
                DESK,
                self._doc(
                    AuditRecord(
                        at=kept.at,
                        who=kept.who,
                        action=kept.action,
                        user_key=subject,
                        record_id=kept.record_id,
                        asserted_operator=kept.asserted_operator,  # the actor, not the user
                        who_key=kept.who_key,
                    )
                ),
            )
        return len(docs)


def _audit_doc(record: AuditRecord) -> Document:
    return {
        "id": record.record_id,
        "pk": audit_partition(record.record_id[:6]),
        "type": "audit",
        "at": record.at.isoformat(),
        "who": record.who,
        "action": record.action,
        "userKey": record.user_key,
        "details": record.details,
        "assertedOperator": record.asserted_operator,
        "whoKey": record.who_key,
    }


def _audit_record(doc: Document) -> AuditRecord:
    return AuditRecord(
        at=datetime.fromisoformat(doc["at"]),
        who=doc["who"],
        action=doc["action"],
        user_key=doc.get("userKey"),
        details=doc.get("details") or {},
        record_id=doc["id"],
        asserted_operator=doc.get("assertedOperator"),
        who_key=doc.get("whoKey"),
    )


class StatEntries:
    """Anonymous statistics entries, one per counted occurrence, by month (Japan time).

    An entry names no user and no session: its id is random (handed out by `StatMarks`), and
    it holds only its kind, its month and the dimensions counted (topic, outcome, message
    count...). It survives the erasure of the user it came from, so published figures do
    not change, and nothing in it leads back to them.
    """

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    @property
    def store(self) -> DocumentStore:
        """Where the entries are (the month summaries live beside them)."""
        return self._store

    def add(self, kind: str, entry_id: str, at: datetime, **dims: str | int) -> None:
        """Count one occurrence of `kind` (idempotent per `entry_id`)."""
        try:
            self._store.create(DESK, _stat_doc(kind, entry_id, at, dims))
        except AlreadyExists:
            return

    def put(self, kind: str, entry_id: str, at: datetime, **dims: str | int) -> None:
        """Write the entry whether or not it is there (a correction)."""
        self._store.upsert(DESK, _stat_doc(kind, entry_id, at, dims))

    def month(self, month: str) -> list[Document]:
        """Every entry of a month (`YYYY-MM`)."""
        return self._store.query_partition(DESK, f"stats:{month}", doc_type="stat")


class StatSummaries:
    """The tallies of months that can no longer change, so that a request does not read and
    count every entry of every month again (one small document a month, naming nobody)."""

    PARTITION = "stats-summary"

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def all(self) -> dict[str, dict[str, Any]]:
        """Every kept month's tally, by month."""
        docs = self._store.query_partition(DESK, self.PARTITION, doc_type="statsummary")
        return {d["id"]: d["counts"] for d in docs}

    def put(self, month: str, counts: dict[str, Any]) -> None:
        """Keep a settled month's tally."""
        self._store.upsert(
            DESK, {"id": month, "pk": self.PARTITION, "type": "statsummary", "counts": counts}
        )


class StatMarks:
    """What makes counting idempotent without naming anyone in the entries: a mark in the
    user's own partition (erased with them) per counted occurrence, holding the random id of
    its entry. A retry finds the mark and writes the same entry id again, which stores nothing.
    """

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def entry_id(self, user_id: str, occurrence: str) -> str:
        """The entry id for this occurrence of this user's, drawn once."""
        mark_id = f"stat:{occurrence}"
        fresh = uuid.uuid4().hex
        try:
            self._store.create(
                USERS, {"id": mark_id, "userId": user_id, "type": "statmark", "entry": fresh}
            )
        except AlreadyExists:
            doc = self._store.read(USERS, user_id, mark_id)
            return fresh if doc is None else str(doc["entry"])  # None: erased meanwhile
        return fresh


def _flag_doc(flag: Flag) -> Document:
    return {
        "id": flag.flag_id,
        "pk": FLAGS,
        "type": "flag",
        "userId": flag.user_id,
        "clause": flag.clause,
        "reasons": [{"clause": r.clause, "reason": r.reason} for r in flag.reasons],
        "createdAt": flag.created_at.isoformat(),
        "messageRef": flag.message_ref,
        "sessionId": flag.session_id,
        "status": flag.status.value,
        "dismissedBy": flag.dismissed_by,
        "dismissedAt": iso_or_none(flag.dismissed_at),
        "action": flag.action.value if flag.action else None,
        "actionedBy": flag.actioned_by,
        "actionedAt": iso_or_none(flag.actioned_at),
    }


def _flag(doc: Document) -> Flag:
    listed = doc.get("reasons")
    if isinstance(listed, list):
        reasons = tuple(Finding(str(r["clause"]), str(r["reason"])) for r in listed)
    else:  # a flag stored before flags listed every reason: one clause, one reason
        reasons = (Finding(doc["clause"], doc["reason"]),)
    action = doc.get("action")
    return Flag(
        flag_id=doc["id"],
        user_id=doc["userId"],
        reasons=reasons,
        created_at=datetime.fromisoformat(doc["createdAt"]),
        message_ref=doc.get("messageRef"),
        session_id=doc.get("sessionId"),
        status=FlagStatus(doc["status"]),
        dismissed_by=doc.get("dismissedBy"),
        dismissed_at=time_or_none(doc.get("dismissedAt")),
        actioned_by=doc.get("actionedBy"),
        actioned_at=time_or_none(doc.get("actionedAt")),
        action=FlagAction(action) if action else None,
        etag=doc.get("_etag"),
    )


def _stat_doc(kind: str, entry_id: str, at: datetime, dims: dict[str, str | int]) -> Document:
    month = at.astimezone(JST).strftime("%Y-%m")
    return {
        "id": f"{kind}:{entry_id}",
        "pk": f"stats:{month}",
        "type": "stat",
        "kind": kind,
        "month": month,
        **dims,
    }
