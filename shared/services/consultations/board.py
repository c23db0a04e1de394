"""The supervisor's board: who is signed in and takes new consultations, what each holds, the
longest waits, sessions flagged 要注意 and escalations (「SVに相談」).

Staff state lives in the desk container beside the sessions: a presence document per staff
member (written at most once a minute from their console requests, with their 受付可/受付停止
choice) and a flag document per session (要注意 with its reason, an open escalation). Neither
holds a LINE user id or a message text. Every change is audited.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.domain.hours import BusinessHours, japan_day_and_time
from shared.domain.sessions import Session, SessionStatus
from shared.domain.staff import StaffRef, staff_key
from shared.errors import AlreadyExists, ConflictError, PreconditionFailed, ValidationError
from shared.ports import DESK, Clock, DocumentStore
from shared.repositories.tally import SessionTally
from shared.repositories.user_records import SessionIndex
from shared.services.audit import Auditor
from shared.services.catalog import load_topics

STAFF_PARTITION = "console-staff"
FLAG_PARTITION = "console-flags"
# Signed in: a console request within this window (the queue polls every 5 s).
PRESENCE_WINDOW = timedelta(minutes=3)
PRESENCE_WRITE_EVERY = timedelta(seconds=60)
# The board reads at most this many active sessions per refresh (experts × their limit).
SCAN = 2000
SHOWN = 100  # open sessions listed, urgent ones always
MAX_REASON = 500
_STAFF_TTL = int(timedelta(days=90).total_seconds())
_FLAG_TTL = int(timedelta(days=90).total_seconds())


@dataclass(frozen=True)
class StaffRow:
    """One staff member on the board."""

    name: str
    is_admin: bool
    online: bool
    accepting: bool
    last_seen: str
    held: int
    over_limit: bool


@dataclass(frozen=True)
class Colleague:
    """A member of staff a session can be handed to: signed in to the console within the last
    90 days (the desk's staff directory), with their availability."""

    name: str
    is_admin: bool
    online: bool
    accepting: bool


@dataclass(frozen=True)
class SessionRow:
    """An open session on the board (never a text, never a LINE user id)."""

    session_id: str
    topic: str
    status: str
    assigned_to: str | None
    opened: str
    wait_minutes: int
    urgent: bool
    reason: str | None
    crisis: bool = False  # marked by the crisis rule (the user was given the help lines)


@dataclass(frozen=True)
class EscalationRow:
    """An expert's 「SVに相談」 not yet answered by a supervisor."""

    session_id: str
    topic: str
    assigned_to: str | None
    by: str
    note: str | None
    at: str
    waited_minutes: int
    overdue: bool
    urgent: bool


@dataclass(frozen=True)
class Flag:
    """A session's 要注意 flag and escalation, as the conversation page shows them."""

    urgent: bool
    reason: str | None
    flagged_by: str | None
    escalated: bool
    escalated_by: str | None
    escalation_note: str | None
    escalated_at: str | None
    flagged_at: str | None = None


@dataclass(frozen=True)
class BoardView:
    """Everything the board shows, urgent first."""

    staff: tuple[StaffRow, ...]
    escalations: tuple[EscalationRow, ...]
    sessions: tuple[SessionRow, ...]
    waiting: int
    active: int
    max_open: int
    alert_minutes: int
    updated: str


NO_FLAG = Flag(False, None, None, False, None, None, None)


def _flag(doc: dict[str, Any]) -> Flag:
    escalated_at, flagged_at = doc.get("escalatedAt"), doc.get("flaggedAt")
    return Flag(
        urgent=bool(doc.get("urgent")),
        reason=doc.get("reason"),
        flagged_by=doc.get("flaggedBy"),
        escalated=bool(doc.get("escalated")),
        escalated_by=doc.get("escalatedBy"),
        escalation_note=doc.get("escalationNote"),
        escalated_at=_shown(escalated_at),
        flagged_at=_shown(flagged_at) if doc.get("urgent") else None,
    )


def _shown(iso: object) -> str | None:
    return japan_day_and_time(datetime.fromisoformat(iso)) if isinstance(iso, str) else None


def _staff_id(who: str) -> str:
    """The staff document of whoever `who` is (by key: two people of one name, two docs)."""
    return "staff-" + hashlib.sha256(staff_key(who).encode("utf-8")).hexdigest()[:32]


def _text(raw: str | None, field: str) -> str | None:
    value = (raw or "").replace("\r\n", "\n").strip()
    if len(value) > MAX_REASON:
        raise ValidationError(field, "text_max", max=MAX_REASON)
    return value or None


class SupervisorBoard:
    """Presence, availability, flags and escalations; the board's view over the sessions."""

    def __init__(
        self,
        *,
        index: SessionIndex,
        store: DocumentStore,
        auditor: Auditor,
        hours: BusinessHours,
        clock: Clock,
        max_open: int,
        alert_minutes: int,
    ) -> None:
        self._index = index
        self._store = store
        self._auditor = auditor
        self._hours = hours
        self._clock = clock
        self.max_open = max_open
        self.alert_minutes = alert_minutes
        self._topics = {t.topic_id: t.label for t in load_topics()}
        self._tally = SessionTally(store)
        self._lock = threading.Lock()
        self._written: dict[str, datetime] = {}

    # -- presence and availability ------------------------------------------------------------

    def seen(self, name: str, is_admin: bool) -> None:
        """A console request from `name`: their presence, written at most once a minute."""
        now = self._clock()
        with self._lock:
            last = self._written.get(staff_key(name))
            if last is not None and now - last < PRESENCE_WRITE_EVERY:
                return
            self._written[staff_key(name)] = now
        # Presence is best effort: a beat that loses a race to another instance's write (a
        # 受付可/受付停止 toggle, say) is dropped, never written over it.
        with contextlib.suppress(PreconditionFailed, AlreadyExists):
            self._write_staff(name, lastSeen=now.isoformat(), admin=is_admin)

    def _write_staff(self, name: str, **fields: Any) -> None:
        """Change the fields of `name`'s staff document with its ETag (a new one is created):
        PreconditionFailed / AlreadyExists when another writer got there in between."""
        found = self._store.read(DESK, STAFF_PARTITION, _staff_id(name))
        named = {"name": str(name), "key": staff_key(name)}
        if found is None:
            self._store.create(DESK, {**self._new_staff_doc(name), **named, **fields})
        else:
            changed = {**found, **named, **fields}
            self._store.replace(DESK, changed, etag=str(found["_etag"]))

    def accepting(self, name: str) -> bool:
        """Does `name` take new consultations (受付可)? Yes until they say otherwise."""
        return bool(self._staff_doc(name).get("accepting", True))

    def set_accepting(self, name: str, is_admin: bool, accepting: bool) -> None:
        """The expert's 受付可/受付停止 toggle (stored, audited)."""
        now = self._clock()
        for _ in range(5):  # a presence beat from another instance may land in between
            try:
                self._write_staff(
                    name, admin=is_admin, lastSeen=now.isoformat(), accepting=accepting
                )
                break
            except (PreconditionFailed, AlreadyExists):
                continue
        else:
            raise PreconditionFailed(None, "record_race")
        with self._lock:
            self._written[staff_key(name)] = now
        self._tally.touch()  # the board shows who takes consultations
        self._auditor.record(name, "staff.availability", accepting=accepting)

    def colleagues(self, me: str) -> tuple[Colleague, ...]:
        """The staff directory for a hand-over, without `me`: online and accepting first."""
        now = self._clock()
        found = [
            Colleague(
                name=str(doc.get("name", "")),
                is_admin=bool(doc.get("admin")),
                online=_online(doc, now),
                accepting=bool(doc.get("accepting", True)),
            )
            for doc in self._store.query_partition(DESK, STAFF_PARTITION, doc_type="staff")
            if doc.get("name") and doc.get("key") != staff_key(me)
        ]
        return tuple(sorted(found, key=lambda c: (not c.online, not c.accepting, c.name)))

    def is_colleague(self, name: str) -> bool:
        """Is `name` in the staff directory (signed in to the console within 90 days)?"""
        return self.colleague(name) is not None

    def colleague(self, name: str) -> str | None:
        """Who in the staff directory bears `name`: that person (a StaffRef), so a hand-over
        goes to them and not to a namesake; the bare name when several bear it (any of them
        may then take it); None for nobody."""
        wanted = name.strip()
        docs = [
            doc
            for doc in self._store.query_partition(DESK, STAFF_PARTITION, doc_type="staff")
            if doc.get("name") == wanted
        ]
        if not docs:
            return None
        keys = {str(doc.get("key") or "") for doc in docs}
        return StaffRef(wanted, keys.pop()) if len(keys) == 1 and "" not in keys else wanted

    def _staff_doc(self, name: str) -> dict[str, Any]:
        found = self._store.read(DESK, STAFF_PARTITION, _staff_id(name))
        return dict(found) if found is not None else self._new_staff_doc(name)

    @staticmethod
    def _new_staff_doc(name: str) -> dict[str, Any]:
        return {
            "id": _staff_id(name),
            "pk": STAFF_PARTITION,
            "type": "staff",
            "accepting": True,
            "ttl": _STAFF_TTL,
        }

    # -- flags and escalations ----------------------------------------------------------------

    def flag_of(self, session_id: str) -> Flag:
        """The session's 要注意 flag and escalation (NO_FLAG when it has neither)."""
        doc = self._store.read(DESK, FLAG_PARTITION, session_id)
        return NO_FLAG if doc is None else _flag(doc)

    def flagged(self) -> dict[str, Flag]:
        """Every session flagged 要注意 now, by id (the experts' queue lists them first)."""
        return {
            str(doc["id"]): _flag(doc)
            for doc in self._store.query_partition(
                DESK, FLAG_PARTITION, doc_type="flag", where={"urgent": True}
            )
        }

    def flag(self, session: Session, who: str, reason: str | None) -> None:
        """要注意 with a reason (required), by any staff member on an open session."""
        text = _text(reason, "reason")
        if text is None:
            raise ValidationError("reason", "reason", max=MAX_REASON)
        self._open(session)
        doc = self._flag_doc(session.session_id)
        doc.update(urgent=True, reason=text, flaggedBy=who, flaggedAt=self._clock().isoformat())
        self._save_flag(doc)
        self._auditor.record(who, "session.flag", session.user_id, session=session.session_id)

    def unflag(self, session: Session, who: str) -> None:
        """要注意 withdrawn."""
        doc = self._flag_doc(session.session_id)
        doc.update(urgent=False, reason=None)
        self._save_flag(doc)
        self._auditor.record(who, "session.unflag", session.user_id, session=session.session_id)

    def escalate(self, session: Session, who: str, note: str | None) -> None:
        """「SVに相談」: the session goes on the board's escalation list until a supervisor
        answers it. A repeated escalation keeps its first time (the wait is not reset)."""
        text = _text(note, "note")
        self._open(session)
        doc = self._flag_doc(session.session_id)
        if not doc.get("escalated"):
            doc["escalatedAt"] = self._clock().isoformat()
        doc.update(escalated=True, escalatedBy=who, escalationNote=text)
        self._save_flag(doc)
        self._auditor.record(
            who, "session.escalate", session.user_id, session=session.session_id, note=bool(text)
        )

    def resolve(self, session: Session, who: str) -> None:
        """A supervisor has answered the escalation."""
        doc = self._flag_doc(session.session_id)
        if not doc.get("escalated"):
            raise ConflictError(None, "no_escalation")
        waited = self._minutes_since(doc.get("escalatedAt"))
        doc.update(escalated=False, escalationNote=None, escalatedAt=None, escalatedBy=None)
        self._save_flag(doc)
        self._auditor.record(
            who,
            "session.escalation_resolved",
            session.user_id,
            session=session.session_id,
            waitedMinutes=waited,
        )

    def _save_flag(self, doc: dict[str, Any]) -> None:
        self._store.upsert(DESK, doc)
        self._tally.touch(str(doc["id"]))  # the queue lists flagged sessions first

    def _flag_doc(self, session_id: str) -> dict[str, Any]:
        found = self._store.read(DESK, FLAG_PARTITION, session_id)
        if found is not None:
            return dict(found)
        return {"id": session_id, "pk": FLAG_PARTITION, "type": "flag", "ttl": _FLAG_TTL}

    @staticmethod
    def _open(session: Session) -> None:
        if not session.is_open:
            raise ConflictError(None, "session_closed")

    def _minutes_since(self, iso: object) -> int:
        if not isinstance(iso, str):
            return 0
        return max(0, int((self._clock() - datetime.fromisoformat(iso)).total_seconds() // 60))

    # -- the board ----------------------------------------------------------------------------

    def view(self) -> BoardView:
        """The board: escalations (longest first), open sessions (urgent first, then the longest
        waits), and every staff member seen in the last 90 days (signed-in ones first)."""
        now = self._clock()
        # The waiting page is oldest first: its first SHOWN rows are the longest waits.
        waiting = self._index.page(SessionStatus.WAITING, None, SHOWN)
        active = self._index.page(SessionStatus.ACTIVE, None, SCAN)
        flags = {
            str(doc["id"]): doc
            for doc in self._store.query_partition(DESK, FLAG_PARTITION, doc_type="flag")
            if doc.get("urgent") or doc.get("escalated")
        }
        # Urgent by the crisis rule (a crisis wording in the consultation), wherever it waits.
        crisis = [
            *self._index.urgent(SessionStatus.WAITING, SHOWN),
            *self._index.urgent(SessionStatus.ACTIVE, SHOWN),
        ]
        open_sessions = {s.session_id: s for s in (*waiting, *active, *crisis)}
        for session_id in flags.keys() - open_sessions.keys():
            flagged = self._index.get(session_id)  # flagged, further down the queue
            if flagged is not None and flagged.is_open:
                open_sessions[session_id] = flagged
        rows = [self._session_row(s, flags.get(s.session_id), now) for s in open_sessions.values()]
        waits = sorted((r for r in rows if not r.urgent), key=lambda r: -r.wait_minutes)
        urgent = sorted((r for r in rows if r.urgent), key=lambda r: -r.wait_minutes)
        escalations = sorted(
            (
                self._escalation_row(open_sessions[sid], doc)
                for sid, doc in flags.items()
                if doc.get("escalated") and sid in open_sessions
            ),
            key=lambda e: (not e.urgent, -e.waited_minutes),
        )
        held: dict[str, int] = {}
        for session in active:
            if session.assigned_to:
                held[session.assigned_to] = held.get(session.assigned_to, 0) + 1
        staff = [
            self._staff_row(doc, held, now)
            for doc in self._store.query_partition(DESK, STAFF_PARTITION, doc_type="staff")
        ]
        known = {s.name for s in staff}
        staff += [  # holders never seen on the console (the JSON API's callers)
            StaffRow(name, False, False, True, "", count, count > self.max_open)
            for name, count in held.items()
            if name not in known
        ]
        staff.sort(key=lambda s: (not s.online, s.is_admin, s.name))
        return BoardView(
            staff=tuple(staff),
            escalations=tuple(escalations),
            sessions=(*urgent, *waits[:SHOWN]),
            waiting=self._index.count(SessionStatus.WAITING),  # one count of sessions:open
            active=len(active),
            max_open=self.max_open,
            alert_minutes=self.alert_minutes,
            updated=japan_day_and_time(now),
        )

    def _session_row(
        self, session: Session, flag: dict[str, Any] | None, now: datetime
    ) -> SessionRow:
        end = now if session.status is SessionStatus.WAITING else (session.claimed_at or now)
        return SessionRow(
            session_id=session.session_id,
            topic=self._topics.get(session.topic, session.topic),
            status=session.status.value,
            assigned_to=session.assigned_to,
            opened=japan_day_and_time(session.opened_at),
            wait_minutes=self._hours.business_minutes(session.opened_at, end),
            urgent=session.urgent or bool(flag and flag.get("urgent")),
            reason=flag.get("reason") if flag else None,
            crisis=session.urgent,
        )

    def _escalation_row(self, session: Session, doc: dict[str, Any]) -> EscalationRow:
        waited = self._minutes_since(doc.get("escalatedAt"))
        at = doc.get("escalatedAt")
        return EscalationRow(
            session_id=session.session_id,
            topic=self._topics.get(session.topic, session.topic),
            assigned_to=session.assigned_to,
            by=str(doc.get("escalatedBy") or ""),
            note=doc.get("escalationNote"),
            at=japan_day_and_time(datetime.fromisoformat(at)) if isinstance(at, str) else "",
            waited_minutes=waited,
            overdue=waited >= self.alert_minutes,
            urgent=bool(doc.get("urgent")),
        )

    def _staff_row(self, doc: dict[str, Any], held: dict[str, int], now: datetime) -> StaffRow:
        name = str(doc.get("name", ""))
        seen_raw = doc.get("lastSeen")
        seen = datetime.fromisoformat(seen_raw) if isinstance(seen_raw, str) else None
        count = held.get(name, 0)
        return StaffRow(
            name=name,
            is_admin=bool(doc.get("admin")),
            online=_online(doc, now),
            accepting=bool(doc.get("accepting", True)),
            last_seen=japan_day_and_time(seen) if seen else "",
            held=count,
            over_limit=count > self.max_open,
        )


def _online(doc: dict[str, Any], now: datetime) -> bool:
    """Signed in now: a console request within PRESENCE_WINDOW."""
    seen = doc.get("lastSeen")
    return isinstance(seen, str) and now - datetime.fromisoformat(seen) <= PRESENCE_WINDOW
