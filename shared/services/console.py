"""What the experts' web console shows: queue rows, a conversation, and what has been read.

The rules (who may claim, send, close) stay in ExpertDesk; this service only shapes its
answers for people: waits in business hours, unread markers, pseudonyms instead of LINE ids,
Japan times. Reading a user's messages is audited, as the admin API's reads are.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.domain.consent import JST
from shared.domain.hours import BusinessHours, japan_day_and_time
from shared.domain.privacy import pseudonym
from shared.domain.sessions import Role, Session, SessionStatus
from shared.errors import ConflictError, DeskError, NotFoundError, ValidationError
from shared.logsafe import describe
from shared.services.audit import Auditor
from shared.services.catalog import load_outcomes
from shared.services.experts import ExpertDesk
from shared.services.paging import is_id
from shared.services.ports import DESK, Clock, DocumentStore, LineMessenger
from shared.services.records import MessageLog, SessionIndex
from shared.services.staff_lists import StaffLists

log = logging.getLogger("desk.console")

TABS = ("waiting", "mine", "active", "closed")
PAGE = 50
# "Mine" filters the active sessions: at most this many are examined per page shown.
_MINE_SCAN = 2000
COUNTS_FOR = timedelta(seconds=10)
# LINE's loading animation while an expert types: shown this long, asked for at most this often.
TYPING_SECONDS = 20
TYPING_EVERY = timedelta(seconds=TYPING_SECONDS)
_SEEN_PARTITION = "console-seen"
_SEEN_TTL = int(timedelta(days=90).total_seconds())


@dataclass(frozen=True)
class QueueRow:
    """One session as a queue row: never a message's text, never a LINE user id."""

    session_id: str
    topic: str
    status: str
    opened: str
    wait_minutes: int | None
    overdue: bool
    message_count: int
    unread: bool
    assigned_to: str | None
    mine: bool
    outcome: str | None


@dataclass(frozen=True)
class QueueView:
    """A tab of the queue."""

    tab: str
    rows: tuple[QueueRow, ...]
    next_cursor: str | None
    counts: dict[str, int]
    cursor: str | None = None


@dataclass(frozen=True)
class Line:
    """One transcript entry. `kind` is text, sticker, `<media>-refused` or another kind."""

    message_id: str
    role: str
    kind: str
    text: str | None
    at: str
    at_iso: str
    author: str | None
    delivery: str | None
    unsent: bool


@dataclass(frozen=True)
class HandoverLine:
    """A change of hands, with its staff-only note."""

    action: str
    by: str
    previous: str | None
    to: str | None
    note: str | None
    at: str


@dataclass(frozen=True)
class ConversationView:
    """A session as the conversation page shows it."""

    session_id: str
    user: str
    topic_id: str
    topic: str
    status: str
    assigned_to: str | None
    mine: bool
    opened: str
    closed: str | None
    outcome: str | None
    lines: tuple[Line, ...]
    fingerprint: str
    handovers: tuple[HandoverLine, ...] = ()


def wait_label(minutes: int) -> tuple[int, int]:
    """Hours and minutes of a wait."""
    return divmod(minutes, 60)


class ConsoleDesk:
    """The console's reads; its actions are ExpertDesk's, called unchanged."""

    def __init__(
        self,
        *,
        experts: ExpertDesk,
        index: SessionIndex,
        messages: MessageLog,
        store: DocumentStore,
        auditor: Auditor,
        hours: BusinessHours,
        clock: Clock,
        hash_key: str,
        alert_minutes: int,
        messenger: LineMessenger,
        lists: StaffLists,
    ) -> None:
        self.experts = experts
        self._lists = lists
        self._index = index
        self._messages = messages
        self._store = store
        self._auditor = auditor
        self._hours = hours
        self._clock = clock
        self._hash_key = hash_key
        self.alert_minutes = alert_minutes
        self._messenger = messenger
        self._typing: dict[str, datetime] = {}
        self._counts_lock = threading.Lock()
        self._counted: tuple[datetime, dict[str, int]] | None = None

    # -- the queue ----------------------------------------------------------------------------

    def queue(self, tab: str, me: str, cursor: str | None) -> QueueView:
        """One page of a tab, oldest first, with each row's wait and unread marker."""
        if tab not in TABS:
            raise ValidationError("tab", "one_of", choices=", ".join(TABS))
        status = {"waiting": "waiting", "mine": "active", "active": "active"}.get(tab, "closed")
        if tab == "mine":
            sessions, next_cursor = self._mine(me, cursor)
        else:
            page = self.experts.queue(status, cursor, PAGE)
            sessions, next_cursor = page["sessions"], page["nextCursor"]
        now = self._clock()
        seen = self._seen_counts([s["sessionId"] for s in sessions])
        rows = tuple(self._row(s, me, now, seen.get(s["sessionId"], 0)) for s in sessions)
        return QueueView(tab, rows, next_cursor, self._counts(now), cursor)

    def _counts(self, now: datetime) -> dict[str, int]:
        """The tabs' counts, kept for COUNTS_SECONDS: counting scans the sessions partition
        (tens of milliseconds at 10,000 sessions), and every open queue polls every 5 s."""
        with self._counts_lock:
            if self._counted is None or now - self._counted[0] >= COUNTS_FOR:
                counts = {
                    "waiting": self._index.count(SessionStatus.WAITING),
                    "active": self._index.count(SessionStatus.ACTIVE),
                }
                self._counted = (now, counts)
            return dict(self._counted[1])

    def _mine(self, me: str, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        mine: list[dict[str, Any]] = []
        examined = 0
        while examined < _MINE_SCAN:
            page = self.experts.queue("active", cursor, 200)
            examined += len(page["sessions"])
            for summary in page["sessions"]:
                if summary["assignedTo"] == me:
                    mine.append(summary)
                    if len(mine) == PAGE:
                        return mine, summary["sessionId"]
            cursor = page["nextCursor"]
            if cursor is None:
                return mine, None
        return mine, cursor

    def _row(self, summary: dict[str, Any], me: str, now: datetime, seen: int) -> QueueRow:
        opened = datetime.fromisoformat(summary["waitingSince"])
        status = summary["status"]
        wait: int | None = None
        if status == "waiting":
            wait = self._hours.business_minutes(opened, now)
        elif status == "active" and summary["claimedAt"]:
            wait = self._hours.business_minutes(
                opened, datetime.fromisoformat(summary["claimedAt"])
            )
        count = int(summary["messageCount"])
        return QueueRow(
            session_id=summary["sessionId"],
            topic=summary["topicLabel"],
            status=status,
            opened=japan_day_and_time(opened),
            wait_minutes=wait,
            overdue=status == "waiting" and wait is not None and wait >= self.alert_minutes,
            message_count=count,
            unread=status != "closed" and count > seen,
            assigned_to=summary["assignedTo"],
            mine=summary["assignedTo"] == me,
            outcome=summary["outcome"],
        )

    # -- a conversation -----------------------------------------------------------------------

    def conversation(self, session_id: str, who: str) -> ConversationView:
        """The session and its transcript (an audited read); its user messages become read."""
        detail = self.experts.detail(session_id, who)
        lines = tuple(_line(m) for m in detail["messages"])
        self._mark_seen(session_id, sum(line.role == Role.USER.value for line in lines))
        closed = detail["closedAt"]
        return ConversationView(
            session_id=detail["sessionId"],
            user=pseudonym(self._hash_key, detail["userId"])[:8],
            topic_id=detail["topic"],
            topic=detail["topicLabel"],
            status=detail["status"],
            assigned_to=detail["assignedTo"],
            mine=detail["assignedTo"] == who,
            opened=japan_day_and_time(datetime.fromisoformat(detail["waitingSince"])),
            closed=japan_day_and_time(datetime.fromisoformat(closed)) if closed else None,
            outcome=detail["outcome"],
            lines=lines,
            fingerprint=_fingerprint(lines, detail["status"], detail["assignedTo"]),
            handovers=tuple(
                HandoverLine(
                    action=h["action"],
                    by=h["by"],
                    previous=h["from"],
                    to=h["to"],
                    note=h["note"],
                    at=japan_day_and_time(datetime.fromisoformat(h["at"])),
                )
                for h in detail.get("handovers", [])
            ),
        )

    def changed(self, session_id: str, who: str, fingerprint: str) -> ConversationView | None:
        """The conversation if it changed since `fingerprint` (then audited), else None.

        The page polls this: an unchanged transcript is not shown again, so not audited again.
        """
        session = self.session(session_id)
        messages = self._messages.of_session(session.user_id, session.session_id)
        lines = tuple(_line(_as_json(m)) for m in messages)
        if _fingerprint(lines, session.status.value, session.assigned_to) == fingerprint:
            return None
        return self.conversation(session_id, who)

    def typing(self, session_id: str, who: str) -> bool:
        """The typing signal: LINE's loading animation in the user's chat, while `who` (the
        session's owner) writes an answer; at most once per TYPING_EVERY a session, in this
        process. True when it was asked for. Best effort: LINE's refusal is logged, not raised.
        """
        session = self.session(session_id)
        if not session.is_open or session.assigned_to != who:
            raise ConflictError(None, "typing_not_owner")
        if not session.user_id.startswith("U"):
            return False  # one-to-one chats only
        now = self._clock()
        with self._counts_lock:
            last = self._typing.get(session_id)
            if last is not None and now - last < TYPING_EVERY:
                return False
            self._typing[session_id] = now
            if len(self._typing) > 10_000:
                self._typing = {k: v for k, v in self._typing.items() if now - v < TYPING_EVERY}
        try:
            self._messenger.show_loading(session.user_id, TYPING_SECONDS)
        except DeskError as exc:
            log.info("typing signal not shown %s", describe(exc))
            return False
        return True

    def session(self, session_id: str) -> Session:
        """One session (NotFoundError if there is none)."""
        session = self._index.get(session_id) if is_id(session_id) else None
        if session is None:
            raise NotFoundError("sessionId", "no_session")
        return session

    def canned_replies(self, topic: str, me: str) -> list[dict[str, str]]:
        """The canned replies for a topic (common ones first), with `{name}` filled in: the
        stored list the operators edit (seeded from shared/data/canned_replies.json)."""
        entries = self._lists.canned_for(topic)
        return [
            {"id": e["id"], "title": e["title"], "text": e["text"].replace("{name}", me)}
            for e in entries
        ]

    @staticmethod
    def outcomes() -> list[tuple[str, str]]:
        """(id, label) of the outcomes an expert closes with."""
        return [(o.outcome_id, o.label) for o in load_outcomes()]

    def referrals(self) -> list[tuple[str, str]]:
        """(id, label) of the referrals (紹介先): the stored list the operators edit."""
        return [(r["id"], r["label"]) for r in self._lists.referrals()]

    # -- what has been read -------------------------------------------------------------------

    def _seen_counts(self, session_ids: list[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for session_id in session_ids:
            doc = self._store.read(DESK, _SEEN_PARTITION, session_id)
            if doc is not None:
                counts[session_id] = int(doc.get("userMessages", 0))
        return counts

    def _mark_seen(self, session_id: str, user_messages: int) -> None:
        self._store.upsert(
            DESK,
            {
                "id": session_id,
                "pk": _SEEN_PARTITION,
                "type": "seen",
                "userMessages": user_messages,
                "ttl": _SEEN_TTL,
            },
        )


def _as_json(message: Any) -> dict[str, Any]:
    return {
        "messageId": message.message_id,
        "role": message.role.value,
        "kind": message.kind,
        "text": message.text,
        "at": message.at.isoformat(),
        "author": message.author,
        "delivery": message.delivery,
        "unsent": message.unsent,
    }


def _line(message: dict[str, Any]) -> Line:
    at = datetime.fromisoformat(message["at"])
    return Line(
        message_id=message["messageId"],
        role=message["role"],
        kind=message["kind"],
        text=message["text"],
        at=japan_day_and_time(at),
        at_iso=at.astimezone(JST).isoformat(timespec="seconds"),
        author=message["author"],
        delivery=message["delivery"],
        unsent=bool(message["unsent"]),
    )


def _fingerprint(lines: tuple[Line, ...], status: str, assigned_to: str | None) -> str:
    digest = hashlib.sha256(f"{status}|{assigned_to}".encode())
    for line in lines:
        digest.update(f"|{line.message_id}:{line.delivery}:{line.unsent}".encode())
    return digest.hexdigest()[:16]
