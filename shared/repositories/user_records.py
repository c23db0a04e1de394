"""Typed access to the desk's records: dataclasses in, documents out, over a DocumentStore."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from shared.domain.consent import ConsentMethod, ConsentRecord
from shared.domain.events import EventMeta
from shared.domain.moderation import Restriction, RestrictionMode
from shared.domain.sessions import (
    DRAFT_SESSION_ID,
    ClosedBy,
    Handover,
    HandoverAction,
    Message,
    Role,
    Session,
    SessionStatus,
)
from shared.domain.staff import staff_key
from shared.domain.users import UserRecord
from shared.errors import AlreadyExists, PreconditionFailed
from shared.ports import DESK, USERS, Clock, Document, DocumentStore, Filters
from shared.repositories.layout import Layout, months_from, query_months
from shared.repositories.tally import SessionTally, Tally
from shared.repositories.timestamps import iso_or_none, time_or_none

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

    def complete(self, meta: EventMeta, result: str | None = None) -> None:
        """Mark the event handled for good (`result` "failed": a bug stopped it half-way)."""
        doc = self._doc(meta, "done", lease_until=None)
        if result is not None:
            doc["result"] = result
        self._store.upsert(USERS, doc)

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
            "leaseUntil": iso_or_none(lease_until),
            "ttl": self._ttl,
        }


class Users:
    """The per-user record (follow state, consent summary), one point read away."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._layout = Layout(store)

    def get(self, user_id: str) -> UserRecord | None:
        """The stored record, or None for a user the desk has not seen."""
        doc = self._store.read(USERS, user_id, USER_DOC_ID)
        if doc is None:
            return None
        method = doc.get("consentMethod")
        return UserRecord(
            user_id=user_id,
            followed=bool(doc["followed"]),
            first_followed_at=time_or_none(doc.get("firstFollowedAt")),
            updated_at=datetime.fromisoformat(doc["updatedAt"]),
            consent_version=doc.get("consentVersion"),
            consent_method=ConsentMethod(method) if method else None,
            consent_at=time_or_none(doc.get("consentAt")),
            last_prompt_at=time_or_none(doc.get("lastPromptAt")),
            open_session_id=doc.get("openSessionId"),
            suspended_at=time_or_none(doc.get("suspendedAt")),
            suspension_clause=doc.get("suspensionClause"),
            suspension_noticed=bool(doc.get("suspensionNoticed")),
            restriction=_restriction(doc.get("restriction")),
            restriction_noticed=bool(doc.get("restrictionNoticed")),
            media_day=doc.get("mediaDay"),
            media_attempts=int(doc.get("mediaAttempts") or 0),
            status_notice=doc.get("statusNotice"),
            consent_event_id=doc.get("consentEventId"),
            session_event_id=doc.get("sessionEventId"),
            last_session_id=doc.get("lastSessionId"),
            prompt_event_id=doc.get("promptEventId"),
            ack_event_id=doc.get("ackEventId"),
            wait_event_id=doc.get("waitEventId"),
            status_answered_at=time_or_none(doc.get("statusAnsweredAt")),
            draft_at=time_or_none(doc.get("draftAt")),
            listed_day=doc.get("activeDay"),
            erased_at=time_or_none(doc.get("erasedAt")),
            etag=doc.get("_etag"),
        )

    def save(self, user: UserRecord) -> UserRecord:
        """Write the record; PreconditionFailed if someone else wrote it since it was read.

        The activity directory lists the user under the day of `updated_at`: when that day
        changes, the new entry is written first and the old one removed after, so a failure
        in between leaves an extra entry (the retention timer drops it), never none.
        """
        day = activity_day(user.updated_at)
        if user.listed_day != day:
            self._layout.note(activity_month(day))
            self._store.upsert(DESK, _activity_doc(user.user_id, day))
        doc: Document = {
            "id": USER_DOC_ID,
            "userId": user.user_id,
            "type": "user",
            "followed": user.followed,
            "firstFollowedAt": iso_or_none(user.first_followed_at),
            "updatedAt": user.updated_at.isoformat(),
            "consentVersion": user.consent_version,
            "consentMethod": user.consent_method.value if user.consent_method else None,
            "consentAt": iso_or_none(user.consent_at),
            "lastPromptAt": iso_or_none(user.last_prompt_at),
            "openSessionId": user.open_session_id,
            "suspendedAt": iso_or_none(user.suspended_at),
            "suspensionClause": user.suspension_clause,
            "suspensionNoticed": user.suspension_noticed,
            "restriction": _restriction_doc(user.restriction),
            "restrictionNoticed": user.restriction_noticed,
            "mediaDay": user.media_day,
            "mediaAttempts": user.media_attempts,
            "statusNotice": user.status_notice,
            "consentEventId": user.consent_event_id,
            "sessionEventId": user.session_event_id,
            "lastSessionId": user.last_session_id,
            "promptEventId": user.prompt_event_id,
            "ackEventId": user.ack_event_id,
            "waitEventId": user.wait_event_id,
            "statusAnsweredAt": iso_or_none(user.status_answered_at),
            "draftAt": iso_or_none(user.draft_at),
            "activeDay": day,
            "erasedAt": iso_or_none(user.erased_at),
        }
        if user.etag is None:
            try:
                stored = self._store.create(USERS, doc)
            except AlreadyExists:
                raise PreconditionFailed(None, "record_race") from None
        else:
            stored = self._store.replace(USERS, doc, etag=user.etag)
        if user.listed_day is not None and user.listed_day != day:
            self._drop_entry(user.user_id, user.listed_day)
        return replace(user, etag=stored["_etag"], listed_day=day)

    def unlist(self, user: UserRecord) -> None:
        """Remove the user's activity entry (erasure)."""
        if user.listed_day is not None:
            self._drop_entry(user.user_id, user.listed_day)

    def _drop_entry(self, user_id: str, day: str) -> None:
        entry = activity_entry_id(user_id, day)
        self._store.delete(DESK, activity_partition(activity_month(day)), entry)


def activity_partition(month: str) -> str:
    """The activity directory's partition of one month (`YYYYMM`, UTC): one entry per user,
    `{YYYY-MM-DD}:{userId}`, under the day of their last activity, so the retention timer
    pages through users oldest activity first (the users container has no cross-partition
    query), and a user active again moves to this month's partition."""
    return f"activity:{month}"


def activity_month(day_or_entry: str) -> str:
    """The month of a directory day (`YYYY-MM-DD`) or of an entry id, which begins with it."""
    return day_or_entry[:4] + day_or_entry[5:7]


def activity_day(at: datetime) -> str:
    """The directory's day of a moment (UTC)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d")


def activity_entry_id(user_id: str, day: str) -> str:
    """The directory entry of a user listed under `day`."""
    return f"{day}:{user_id}"


def _activity_doc(user_id: str, day: str) -> Document:
    return {
        "id": activity_entry_id(user_id, day),
        "pk": activity_partition(activity_month(day)),
        "type": "activity",
        "userId": user_id,
        "day": day,
    }


class ActivityDirectory:
    """Pages through the activity directory, oldest day first."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._layout = Layout(store)

    def page(self, after: str | None, limit: int) -> list[tuple[str, str, str]]:
        """Entries `(entry id, user id, day)` after the entry `after`, oldest day first."""
        docs = query_months(
            self._store,
            self._layout.months(),
            activity_partition,
            doc_type="activity",
            after=after,
            after_month=activity_month(after) if after else None,
            limit=limit,
        )
        return [(d["id"], d["userId"], d["day"]) for d in docs]

    def drop(self, entry_id: str) -> None:
        """Remove one entry (stale, or its user gone)."""
        self._store.delete(DESK, activity_partition(activity_month(entry_id)), entry_id)


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


OPEN_SESSIONS = "sessions:open"
"""Waiting and active sessions: what experts page through, small whatever the history."""


def closed_sessions(month: str) -> str:
    """The partition of the closed sessions opened in `month` (`YYYYMM`, UTC)."""
    return f"sessions:{month}"


def opening_month(session_id: str) -> str:
    """The month a session opened in: its id begins with the opening time (UTC)."""
    return session_id[:6]


_OPEN = (SessionStatus.WAITING, SessionStatus.ACTIVE)


class SessionIndex:
    """Sessions: open ones in one small partition, closed ones by the month they opened in.

    Closing moves a session, in steps any of which may be repeated after a crash: (1) the
    open copy is replaced with its closed state (the ETag-guarded commit, as any change),
    (2) a copy is created in its month's partition, (3) the open copy is deleted. Between
    them the session is in one place or in both with the same content, never in neither; a
    reader that meets a closed session in the open partition finishes the move first, and
    no one writes to an open copy once it is closed, so both copies never differ.

    Every write raises the open sessions' tally, so the consoles' polls see it.
    """

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._layout = Layout(store)
        self._tally = SessionTally(store)

    def get(self, session_id: str) -> Session | None:
        """One session by id (a second point read when it is closed)."""
        doc = self._store.read(DESK, OPEN_SESSIONS, session_id)
        if doc is not None:
            return self._finish_move(doc) if _closed(doc) else _session(doc)
        doc = self._store.read(DESK, closed_sessions(opening_month(session_id)), session_id)
        return _session(doc) if doc else None

    def create(self, session: Session) -> Session:
        """Store a new session; AlreadyExists if its id is taken (a redelivered opening)."""
        doc = _session_doc(session, self._partition_of(session))
        created = _session(self._store.create(DESK, doc))
        self._touch(created)
        return created

    def save(self, session: Session) -> Session:
        """Replace with the session's ETag: PreconditionFailed if it changed since it was read.
        A session that closes moves to its month's partition (the class's steps)."""
        if session.etag is None or session.stored_in is None:
            raise ValueError("save a session that was read")
        target = self._partition_of(session)
        if target == OPEN_SESSIONS and session.stored_in != OPEN_SESSIONS:
            raise ValueError("a closed session does not open again")
        stored = self._store.replace(
            DESK, _session_doc(session, session.stored_in), etag=session.etag
        )
        self._touch(session)
        return self._finish_move(stored) if target != session.stored_in else _session(stored)

    def tally(self) -> Tally:
        """The open sessions' tally (one point read): the polls' version, message counts."""
        return self._tally.read()

    def prune_tally(self) -> int:
        """Drop the tally's fields of sessions that are no longer open (the idle timer);
        returns how many sessions' fields went. One query of the open partition's ids."""
        docs = self._store.query_partition(DESK, OPEN_SESSIONS, doc_type="session")
        return self._tally.forget({d["id"] for d in docs if not _closed(d)})

    def _touch(self, session: Session) -> None:
        """The tally counts changes per open (or closing) session: a closing raises its count
        before the move drops its fields, so a transcript poll notices even if the drop loses
        its race. A closed one's change (an outcome, its text erased) only raises the version,
        so no field is left behind."""
        moving = session.stored_in in (None, OPEN_SESSIONS)
        self._tally.touch(session.session_id if moving else None)

    def finish_moves(self) -> int:
        """Move every closed session still in the open partition (a closing cut short by a
        crash); returns how many. Normally none: the closing itself moves its session."""
        docs = self._store.query_partition(
            DESK, OPEN_SESSIONS, doc_type="session", where={"status": SessionStatus.CLOSED.value}
        )
        for doc in docs:
            self._finish_move(doc)
        return len(docs)

    def _finish_move(self, doc: Document) -> Session:
        """Steps 2 and 3 of a move, for an open copy already closed."""
        month = opening_month(doc["id"])
        self._layout.note(month)
        copy = {k: v for k, v in doc.items() if not k.startswith("_")}
        try:
            moved = self._store.create(DESK, {**copy, "pk": closed_sessions(month)})
        except AlreadyExists:  # another instance copied it; it may have changed it since
            moved = self._store.read(DESK, closed_sessions(month), doc["id"]) or doc
        self._store.delete(DESK, OPEN_SESSIONS, doc["id"])
        self._tally.drop(doc["id"])
        return _session(moved)

    def _partition_of(self, session: Session) -> str:
        if session.is_open:
            return OPEN_SESSIONS
        month = opening_month(session.session_id)
        self._layout.note(month)
        return closed_sessions(month)

    def _closed_months(
        self,
        *,
        where: Filters | None = None,
        after: str | None = None,
        limit: int | None = None,
        months: list[str] | None = None,
    ) -> list[Document]:
        return query_months(
            self._store,
            self._layout.months() if months is None else months,
            closed_sessions,
            doc_type="session",
            where=where,
            after=after,
            after_month=opening_month(after) if after else None,
            limit=limit,
        )

    def opened_between(self, start: datetime, end: datetime, cap: int = 50_000) -> list[Session]:
        """Sessions opened from `start` to before `end` (UTC), whatever their status, oldest
        first (at most `cap`): their ids begin with the opening time, so it is a range of ids
        in the months of the range and in the open partition."""
        after, stop = f"{start:%Y%m%dT%H%M%S}", f"{end:%Y%m%dT%H%M%S}"
        self.finish_moves()
        span = months_from(opening_month(after), opening_month(stop))
        docs = _one_each(
            self._store.query_partition(DESK, OPEN_SESSIONS, doc_type="session", after_id=after),
            self._closed_months(after=after, months=span),
        )
        inside = sorted((d for d in docs if d["id"] < stop), key=lambda d: str(d["id"]))
        return [_session(d) for d in inside[:cap]]

    def by_reference(self, reference: str) -> Session | None:
        """The session with this short 受付番号 (`251104-012`), if any: it names the JST day
        it opened, so only the open partition and that day's one or two months are read."""
        where: Filters = {"reference": reference}
        docs = self._store.query_partition(
            DESK, OPEN_SESSIONS, doc_type="session", where=where, limit=1
        )
        if docs:
            return self._finish_move(docs[0]) if _closed(docs[0]) else _session(docs[0])
        day = _reference_day(reference)
        if day is None:
            return None
        months = sorted({f"{day - timedelta(days=1):%Y%m}", f"{day:%Y%m}"})
        docs = self._closed_months(where=where, limit=1, months=months)
        return _session(docs[0]) if docs else None

    def of_user(self, user_id: str) -> list[Session]:
        """Every session of one user (erasure, export): one query per month ever written."""
        self.finish_moves()
        where: Filters = {"userId": user_id}
        docs = _one_each(
            self._store.query_partition(DESK, OPEN_SESSIONS, doc_type="session", where=where),
            self._closed_months(where=where),
        )
        return [_session(d) for d in docs]

    def delete(self, session_id: str) -> None:
        """Remove a session's record (erasure; its statistics are kept apart), wherever it is."""
        self._store.delete(DESK, OPEN_SESSIONS, session_id)
        self._store.delete(DESK, closed_sessions(opening_month(session_id)), session_id)

    def count(self, status: SessionStatus) -> int:
        """How many sessions are in an open `status` (the console's tab counts)."""
        return self._store.count_partition(
            DESK, OPEN_SESSIONS, doc_type="session", where={"status": _open(status).value}
        )

    def count_held(self, expert: str) -> int:
        """How many open (active) sessions `expert` holds (DESK_EXPERT_MAX_OPEN), by who they
        are (their key), not by their name."""
        return self._store.count_partition(
            DESK,
            OPEN_SESSIONS,
            doc_type="session",
            where={"status": SessionStatus.ACTIVE.value, "holder": staff_key(expert)},
        )

    def text_kept(self, after: str | None, limit: int) -> list[Session]:
        """Closed sessions whose text the retention timer has not erased, by id (opening)."""
        if after is None:
            self.finish_moves()
        docs = self._closed_months(
            where={"status": SessionStatus.CLOSED.value, "textErased": False},
            after=after,
            limit=limit,
        )
        return [_session(d) for d in docs]

    def page(self, status: SessionStatus, after: str | None, limit: int) -> list[Session]:
        """Sessions in `status`, oldest first, `limit` after the id `after`."""
        if status is SessionStatus.CLOSED:
            if after is None:
                self.finish_moves()
            docs = self._closed_months(after=after, limit=limit)
        else:
            docs = self._store.query_partition(
                DESK,
                OPEN_SESSIONS,
                doc_type="session",
                where={"status": status.value},
                after_id=after,
                limit=limit,
            )
        return [_session(d) for d in docs]

    def count_waiting(self, *, urgent: bool, before: str | None = None) -> int:
        """Waiting sessions (urgent ones, or the others) opened before the session `before`
        (all of them without it): one indexed count, whatever the history holds."""
        return self._store.count_partition(
            DESK,
            OPEN_SESSIONS,
            doc_type="session",
            where={"status": SessionStatus.WAITING.value, "urgent": urgent},
            before_id=before,
        )

    def urgent(self, status: SessionStatus, limit: int) -> list[Session]:
        """Sessions in an open `status` marked urgent (a crisis wording), oldest first."""
        docs = self._store.query_partition(
            DESK,
            OPEN_SESSIONS,
            doc_type="session",
            where={"status": _open(status).value, "urgent": True},
            limit=limit,
        )
        return [_session(d) for d in docs]


def _open(status: SessionStatus) -> SessionStatus:
    if status not in _OPEN:
        raise ValueError(f"only open sessions are counted or marked: {status}")
    return status


def _one_each(open_docs: list[Document], closed_docs: list[Document]) -> list[Document]:
    """Each session once: a copy caught mid-move (in both partitions) counts as the closed one."""
    by_id = {d["id"]: d for d in open_docs} | {d["id"]: d for d in closed_docs}
    return list(by_id.values())


def _closed(doc: Document) -> bool:
    return doc.get("status") == SessionStatus.CLOSED.value


def _reference_day(reference: str) -> date | None:
    """The JST day a short reference names (`251104-012`), or None when it is not one."""
    try:
        digits = reference.split("-", 1)[0]
        return datetime.strptime(digits, "%y%m%d").replace(tzinfo=UTC).date()
    except ValueError:
        return None


class MessageLog:
    """A user's messages with the desk, in their partition, each tagged with its session.
    Each write into a session raises the open sessions' tally (the consoles' polls)."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._tally = SessionTally(store)

    def add(
        self, message: Message, *, ttl_seconds: int | None = None, open_session: bool = True
    ) -> bool:
        """Store a message; False if its id is already there (a redelivered event). With
        `ttl_seconds` the store removes it then unless it is saved again (a draft).
        `open_session=False`: its session has closed (the closing message), so the tally
        only raises its version and keeps no fields for it."""
        doc = _message_doc(message)
        if ttl_seconds is not None:
            doc["ttl"] = ttl_seconds
        try:
            self._store.create(USERS, doc)
        except AlreadyExists:
            return False
        # A failure here leaves the count one short (the redelivery finds the message stored):
        # never over what is stored, and opening the conversation makes it up.
        self._changed(message, filed=True, open_session=open_session)
        return True

    def _changed(self, message: Message, *, filed: bool, open_session: bool) -> None:
        if message.session_id == DRAFT_SESSION_ID:
            return
        if not open_session:
            self._tally.touch()
            return
        new = int(filed and message.role is Role.USER)
        self._tally.touch(message.session_id, user_messages=new)

    def get(self, user_id: str, message_id: str) -> Message | None:
        """One message by id."""
        doc = self._store.read(USERS, user_id, message_id)
        return _message(doc) if doc else None

    def exists(self, user_id: str, message_id: str) -> bool:
        """Is a message stored under this id?"""
        return self.get(user_id, message_id) is not None

    def save(
        self,
        message: Message,
        *,
        filed: bool = False,
        shown: bool = True,
        open_session: bool = True,
    ) -> None:
        """Overwrite a message (its delivery status, an unsend; `filed`: a draft moved into
        its session; `open_session` as for `add`). `shown=False`: a change no console poll
        shows (the retention timer erasing a closed session's text): the tally is left alone."""
        self._store.upsert(USERS, _message_doc(message))
        if shown:
            self._changed(message, filed=filed, open_session=open_session)

    def delete(self, user_id: str, message_id: str) -> None:
        """Remove one message (a draft too old to be filed)."""
        self._store.delete(USERS, user_id, message_id)

    def take_pending(self, message: Message, seconds: int) -> bool:
        """Claim a pending answer for one delivery (True), for `seconds` at most: of two
        deliveries at once only one carries it. The claim lives in the user's partition
        (erased with them) and expires by itself should its delivery never finish."""
        claim = {
            "id": f"carry:{message.message_id}",
            "userId": message.user_id,
            "type": "carry",
            "ttl": seconds,
        }
        try:
            self._store.create(USERS, claim)
        except AlreadyExists:
            return False
        return True

    def release_pending(self, message: Message) -> None:
        """LINE did not take the delivery: the next one may carry the answer at once."""
        self._store.delete(USERS, message.user_id, f"carry:{message.message_id}")

    def of_session(self, user_id: str, session_id: str) -> list[Message]:
        """A session's messages in the order they were written."""
        docs = self._store.query_partition(
            USERS, user_id, doc_type="message", where={"sessionId": session_id}
        )
        return sorted((_message(d) for d in docs), key=lambda m: (m.at, m.position, m.message_id))

    def latest_from_user(self, user_id: str, session_id: str) -> Message | None:
        """The user's latest message in a session (the queue's preview)."""
        docs = self._store.query_partition(
            USERS, user_id, doc_type="message", where={"sessionId": session_id, "role": "user"}
        )
        messages = [_message(d) for d in docs]
        return max(messages, key=lambda m: (m.at, m.position, m.message_id), default=None)

    def count_from_user(self, user_id: str, session_id: str) -> int:
        """How many messages the user wrote in a session."""
        return self._store.count_partition(
            USERS, user_id, doc_type="message", where={"sessionId": session_id, "role": "user"}
        )

    def answer_authors(self, user_id: str) -> dict[str, list[str]]:
        """Who answered the user, per session: the experts' names in order of first answer."""
        docs = self._store.query_partition(
            USERS, user_id, doc_type="message", where={"role": Role.EXPERT.value}
        )
        authors: dict[str, list[str]] = {}
        for message in sorted((_message(d) for d in docs), key=lambda m: (m.at, m.position)):
            names = authors.setdefault(message.session_id, [])
            if message.author and message.author not in names:
                names.append(message.author)
        return authors

    def by_line_id(self, user_id: str, line_message_id: str) -> Message | None:
        """The message LINE knows by `line_message_id` (for unsend)."""
        docs = self._store.query_partition(
            USERS, user_id, doc_type="message", where={"lineMessageId": line_message_id}
        )
        return _message(docs[0]) if docs else None


def _session_doc(session: Session, partition: str) -> Document:
    return {
        "id": session.session_id,
        "pk": partition,
        "type": "session",
        "userId": session.user_id,
        "topic": session.topic,
        "status": session.status.value,
        "openedAt": session.opened_at.isoformat(),
        "assignedTo": session.assigned_to,
        "holder": session.holder_key,
        "claimedAt": iso_or_none(session.claimed_at),
        "closedAt": iso_or_none(session.closed_at),
        "closedBy": session.closed_by.value if session.closed_by else None,
        "closedByName": session.closed_by_name,
        "outcome": session.outcome,
        "followUpUntil": iso_or_none(session.follow_up_until),
        "handovers": [_handover_doc(h) for h in session.handovers],
        "urgent": session.urgent,
        "urgentAt": iso_or_none(session.urgent_at),
        # Always written, so the retention timer can ask for closed sessions not yet erased.
        "textErased": session.text_erased_at is not None,
        "textErasedAt": iso_or_none(session.text_erased_at),
        "surveyRatedAt": iso_or_none(session.survey_rated_at),
        "surveyComment": session.survey_comment,
        "reference": session.reference,
        "firstAnswerAt": iso_or_none(session.first_answer_at),
        "surveyRating": session.survey_rating,
    }


def _handover_doc(handover: Handover) -> Document:
    return {
        "action": handover.action.value,
        "by": handover.by,
        "at": handover.at.isoformat(),
        "from": handover.from_,
        "to": handover.to,
        "note": handover.note,
    }


def _handover(doc: Document) -> Handover:
    return Handover(
        action=HandoverAction(doc["action"]),
        by=doc["by"],
        at=datetime.fromisoformat(doc["at"]),
        from_=doc.get("from"),
        to=doc.get("to"),
        note=doc.get("note"),
    )


def _session(doc: Document) -> Session:
    closed_by, legacy_name = ClosedBy.stored(doc.get("closedBy"))
    return Session(
        session_id=doc["id"],
        user_id=doc["userId"],
        topic=doc["topic"],
        status=SessionStatus(doc["status"]),
        opened_at=datetime.fromisoformat(doc["openedAt"]),
        assigned_to=doc.get("assignedTo"),
        holder_key=doc.get("holder"),
        claimed_at=time_or_none(doc.get("claimedAt")),
        closed_at=time_or_none(doc.get("closedAt")),
        closed_by=closed_by,
        closed_by_name=doc.get("closedByName") or legacy_name,
        outcome=doc.get("outcome"),
        follow_up_until=time_or_none(doc.get("followUpUntil")),
        handovers=tuple(_handover(h) for h in doc.get("handovers") or ()),
        urgent=bool(doc.get("urgent")),
        urgent_at=time_or_none(doc.get("urgentAt")),
        text_erased_at=time_or_none(doc.get("textErasedAt")),
        survey_rated_at=time_or_none(doc.get("surveyRatedAt")),
        survey_comment=doc.get("surveyComment"),
        reference=doc.get("reference"),
        first_answer_at=time_or_none(doc.get("firstAnswerAt")),
        survey_rating=doc.get("surveyRating"),
        etag=doc.get("_etag"),
        stored_in=doc["pk"],
    )


def _message_doc(message: Message) -> Document:
    doc: Document = {
        "id": message.message_id,
        "userId": message.user_id,
        "type": "message",
        "sessionId": message.session_id,
        "role": message.role.value,
        "kind": message.kind,
        "text": message.text,
        "at": message.at.isoformat(),
        "lineMessageId": message.line_message_id,
        "author": message.author,
        "script": message.script,
        "delivery": message.delivery,
        "deliveryDetail": message.delivery_detail,
        "unsent": message.unsent,
        "position": message.position,
    }
    if message.reply_token is not None:
        doc["replyToken"] = message.reply_token  # single use, about a minute; never logged
    return doc


def _message(doc: Document) -> Message:
    return Message(
        message_id=doc["id"],
        session_id=doc["sessionId"],
        user_id=doc["userId"],
        role=Role(doc["role"]),
        kind=doc["kind"],
        text=doc.get("text"),
        at=datetime.fromisoformat(doc["at"]),
        line_message_id=doc.get("lineMessageId"),
        author=doc.get("author"),
        script=bool(doc.get("script")),
        delivery=doc.get("delivery"),
        delivery_detail=doc.get("deliveryDetail"),
        unsent=bool(doc.get("unsent")),
        position=int(doc.get("position", 0)),
        reply_token=doc.get("replyToken"),
    )


def _restriction_doc(restriction: Restriction | None) -> Document | None:
    if restriction is None:
        return None
    return {
        "mode": restriction.mode.value,
        "until": iso_or_none(restriction.until),
        "perMinute": restriction.per_minute,
        "perDay": restriction.per_day,
    }


def _restriction(doc: Document | None) -> Restriction | None:
    if not doc:
        return None
    return Restriction(
        mode=RestrictionMode(doc["mode"]),
        until=time_or_none(doc.get("until")),
        per_minute=doc.get("perMinute"),
        per_day=doc.get("perDay"),
    )
