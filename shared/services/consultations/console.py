"""What the experts' web console shows: queue rows, a conversation, and what has been read.

The rules (who may claim, send, close) stay in ExpertDesk; this service only shapes its
answers for people: waits in business hours, unread markers, pseudonyms instead of LINE ids,
Japan times. Reading a user's messages is audited, as the admin API's reads are.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from shared.domain.consent import JST, japan_time
from shared.domain.hours import BusinessHours, japan_day_and_time
from shared.domain.privacy import pseudonym
from shared.domain.sessions import Message, Role, Session, SessionStatus
from shared.domain.staff import NAME_KEY, staff_key
from shared.errors import ConflictError, DeskError, ValidationError
from shared.logsafe import describe
from shared.ports import DESK, Clock, DocumentStore, LineMessenger
from shared.repositories.notes import NoteLog, SessionNote, UserNote, new_note_id, note_text
from shared.repositories.tally import SessionTally, Tally
from shared.repositories.user_records import MessageLog, SessionIndex
from shared.services.audit import Auditor
from shared.services.catalog import (
    load_outcomes,
    load_topics,
)
from shared.services.consultations.board import NO_FLAG, Flag, SupervisorBoard
from shared.services.consultations.experts import ExpertDesk, Summary
from shared.services.consultations.staff_lists import StaffLists

log = logging.getLogger("desk.console")

TABS = ("waiting", "mine", "active", "closed")
PAGE = 50
# "Mine" and the filters examine at most this many sessions per page shown.
_SCAN = 2000
# The queue shows this many characters of the user's latest message.
PREVIEW = 40
# The per-instance memories (previews audited, beats written) keep at most this many entries.
_KEPT_IN_MEMORY = 20_000
# LINE's loading animation while an expert types: shown this long, asked for at most this often.
TYPING_SECONDS = 20
TYPING_EVERY = timedelta(seconds=TYPING_SECONDS)
# Presence (「○○さんが閲覧中」): an open conversation page beats every 10 s (_presence.html's
# hx-trigger); a viewer whose last beat is older than PRESENCE_EXPIRY has left (closed the
# tab, lost the network).
PRESENCE_EXPIRY = timedelta(seconds=30)
# A person's beat on a session is written at most this often by one instance, however many of
# their pages beat (two tabs, the conversation and its presence poll): well inside the expiry.
BEAT_WRITE_EVERY = timedelta(seconds=8)
_VIEWING_PARTITION = "console-viewing"
_VIEWING_TTL = 120  # seconds: the store forgets beats long after they stopped counting
# The history panel lists at most this many earlier sessions (newest first).
HISTORY_SHOWN = 20
# The tab counts count at most this many crisis cases per status.
MARKED_COUNTED = 100


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
    viewers: tuple[str, ...] = ()
    crisis_at: str | None = None
    """When the crisis rule marked it (a crisis wording from the user); None: not a crisis."""
    attention: str | None = None
    """The 要注意 reason a member of staff gave; None: not flagged."""
    preview: str | None = None
    """The first words of the user's latest message (open sessions only; an audited read)."""
    reference: str = ""
    """The 受付番号 (the short one; older sessions: their id)."""

    @property
    def marked(self) -> bool:
        """A crisis case or 要注意: shown in red and listed first."""
        return self.crisis_at is not None or self.attention is not None


@dataclass(frozen=True)
class QueueFilter:
    """What the queue is narrowed to: a topic, crisis/要注意 only, overdue only, unread only."""

    topic: str | None = None
    marked: bool = False
    overdue: bool = False
    unread: bool = False

    @property
    def active(self) -> bool:
        """Does it narrow anything?"""
        return bool(self.topic) or self.marked or self.overdue or self.unread

    def query(self) -> str:
        """The filter as a query string's tail (`&topic=income&unread=1`), for links."""
        parts = [f"topic={self.topic}"] if self.topic else []
        parts += [f"{name}=1" for name in ("marked", "overdue", "unread") if getattr(self, name)]
        return "".join(f"&{p}" for p in parts)


@dataclass(frozen=True)
class QueueView:
    """A tab of the queue."""

    tab: str
    rows: tuple[QueueRow, ...]
    next_cursor: str | None
    counts: dict[str, int]
    cursor: str | None = None
    filters: QueueFilter = QueueFilter()
    token: str = ""
    """The tally's token when the view was read: the panel's poll sends it back."""


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
    script: bool = False
    """Sent by a function key's caller under the author's name (not by that person)."""


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
class NoteLine:
    """A private note as the console shows it (text None: erased by the retention timer)."""

    author: str
    text: str | None
    at: str


@dataclass(frozen=True)
class UserNoteView:
    """The user's carried-over note, with the version a save must start from."""

    text: str
    updated_by: str | None
    updated_at: str | None
    version: str


@dataclass(frozen=True)
class HistoryRow:
    """One of the user's earlier sessions, as the history panel lists it."""

    session_id: str
    topic: str
    status: str
    opened: str
    closed: str | None
    outcome: str | None
    answered_by: tuple[str, ...]
    notes: tuple[NoteLine, ...]
    text_erased: bool


@dataclass(frozen=True)
class TranscriptState:
    """What the transcript's poll sends back: the shown lines' fingerprint, the session's
    state and change count in the tally, and how many lines are shown."""

    fingerprint: str
    status: str
    assigned_to: str | None
    change: int | None
    lines: int


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
    change: int | None = None
    """The session's change count in the tally, read before the transcript (None: a closed
    session, which the tally no longer counts)."""
    first_new: int = 0
    """`lines[first_new:]` are what a poll had not shown yet (0: the whole transcript)."""
    handovers: tuple[HandoverLine, ...] = ()
    notes: tuple[NoteLine, ...] = ()
    user_note: UserNoteView | None = None
    history: tuple[HistoryRow, ...] = ()
    history_more: int = 0
    text_erased: bool = False
    viewers: tuple[str, ...] = ()
    crisis_at: str | None = None
    attention: Flag = NO_FLAG
    reference: str = ""

    @property
    def state(self) -> TranscriptState:
        """The transcript's poll state for this view."""
        return TranscriptState(
            self.fingerprint, self.status, self.assigned_to, self.change, len(self.lines)
        )


def wait_label(minutes: int) -> tuple[int, int]:
    """Hours and minutes of a wait."""
    return divmod(minutes, 60)


_TAB_STATUS = {
    "waiting": SessionStatus.WAITING,
    "mine": SessionStatus.ACTIVE,
    "active": SessionStatus.ACTIVE,
}


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
        notes: NoteLog,
        lists: StaffLists,
        board: SupervisorBoard,
    ) -> None:
        self.experts = experts
        self._board = board
        self._lists = lists
        self._notes = notes
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
        self._previewed: dict[tuple[str, str], None] = {}
        self._beaten: dict[tuple[str, str], datetime] = {}
        self._counts_lock = threading.Lock()
        self._counted: tuple[int, dict[str, int]] | None = None
        self._tally = SessionTally(store)
        # The latest user message's preview per (session, its change count in the tally).
        self._latest: dict[tuple[str, int], tuple[str, str] | None] = {}

    # -- the queue ----------------------------------------------------------------------------

    def queue(
        self,
        tab: str,
        me: str,
        cursor: str | None,
        filters: QueueFilter | None = None,
        tally: Tally | None = None,
    ) -> QueueView:
        """One page of a tab, oldest first (crisis and 要注意 first), with each row's wait,
        unread marker and the latest user message's first words; `filters` narrow it. `tally`:
        the one the poll just compared (else read here, first: a change after it is seen by
        the next poll)."""
        if tab not in TABS:
            raise ValidationError("tab", "one_of", choices=", ".join(TABS))
        chosen = filters or QueueFilter()
        status = _TAB_STATUS.get(tab, SessionStatus.CLOSED)
        tally = tally or self._index.tally()
        flagged = self._board.flagged() if status is not SessionStatus.CLOSED else {}
        now = self._clock()
        keep = self._keeping(chosen, me if tab == "mine" else None, flagged, now, tally)
        if keep is None:
            page = self.experts.queue(status, cursor, PAGE, tally)
            sessions, next_cursor = page.items, page.next_cursor
        else:
            sessions, next_cursor = self._scan(status, cursor, keep, tally)
        if cursor is None and flagged:
            sessions = self._flagged_first(sessions, flagged, status, keep, tally)
        elif flagged:  # listed on the first page already
            sessions = [s for s in sessions if s.session.session_id not in flagged]
        viewing = self._viewing() if sessions else {}
        rows = tuple(
            self._row(
                s,
                me,
                now,
                tally.unread(s.session.session_id),
                viewers=_others(viewing, s.session.session_id, me, now),
                flag=flagged.get(s.session.session_id),
                preview=self._preview(s.session, me, tally) if s.session.is_open else None,
            )
            for s in sessions
        )
        counts = self._counts(tally, flagged if status is not SessionStatus.CLOSED else None)
        return QueueView(tab, rows, next_cursor, counts, cursor, chosen, tally.token(now))

    def tally(self) -> Tally:
        """The open sessions' tally (one point read): what the polls compare."""
        return self._index.tally()

    def poll_token(self, tally: Tally | None = None) -> str:
        """The token a poll sends back (`Tally.token` now)."""
        return (tally or self._index.tally()).token(self._clock())

    def _keeping(
        self,
        chosen: QueueFilter,
        holder: str | None,
        flagged: dict[str, Flag],
        now: datetime,
        tally: Tally,
    ) -> Callable[[Summary], bool] | None:
        """The test a session must pass to be listed (None: every session, unscanned)."""
        if holder is None and not chosen.active:
            return None

        def keep(summary: Summary) -> bool:
            session = summary.session
            if holder is not None and not session.held_by(holder):
                return False
            if chosen.topic and session.topic != chosen.topic:
                return False
            if chosen.marked and not (session.urgent or session.session_id in flagged):
                return False
            if chosen.overdue and not (
                session.status is SessionStatus.WAITING
                and self._hours.business_minutes(session.opened_at, now) >= self.alert_minutes
            ):
                return False
            if chosen.unread:
                return session.is_open and tally.unread(session.session_id)
            return True

        return keep

    def _preview(self, session: Session, me: str, tally: Tally) -> str | None:
        """The first PREVIEW characters of the user's latest message. Reading a user's words
        is audited: once per reader and message (`session.preview`; in this process, so an
        instance that has not shown it yet records it again). Read again only when the
        session changed in the tally since this instance last read it."""
        change = (session.session_id, tally.changes.get(session.session_id, -1))
        with self._counts_lock:
            known = change in self._latest
            latest = self._latest.get(change)
        if not known:
            found = self._messages.latest_from_user(session.user_id, session.session_id)
            latest = _preview_of(found)
            with self._counts_lock:
                self._latest[change] = latest
                if len(self._latest) > _KEPT_IN_MEMORY:
                    self._latest.pop(next(iter(self._latest)))
        if latest is None:
            return None
        message_id, shown = latest
        key = (staff_key(me), message_id)  # per person: a namesake's sight is audited too
        with self._counts_lock:
            audited = key in self._previewed
            if not audited:
                self._previewed[key] = None
                if len(self._previewed) > _KEPT_IN_MEMORY:
                    self._previewed.pop(next(iter(self._previewed)))
        if not audited:
            self._auditor.record(me, "session.preview", session.user_id, session=session.session_id)
        return shown

    def _flagged_first(
        self,
        sessions: list[Summary],
        flagged: dict[str, Flag],
        status: SessionStatus,
        keep: Callable[[Summary], bool] | None,
        tally: Tally,
    ) -> list[Summary]:
        """Crisis cases (already first) and then 要注意 ones, wherever they wait, before the
        rest: a flagged session far down the queue is fetched to the first page (if it passes
        `keep`, as the listed ones did)."""
        listed = {s.session.session_id for s in sessions}
        fetched: list[Summary] = []
        for session_id in sorted(flagged.keys() - listed):
            session = self._index.get(session_id)
            if session is None or session.status is not status:
                continue
            summary = self.experts.summary(session, tally.counted(session_id))
            if keep is None or keep(summary):
                fetched.append(summary)

        def marked(summary: Summary) -> bool:
            return summary.session.urgent or summary.session.session_id in flagged

        first = sorted(
            (s for s in (*sessions, *fetched) if marked(s)),
            key=lambda s: (not s.session.urgent, s.session.session_id),
        )
        return [*first, *(s for s in sessions if not marked(s))]

    def counts(self, tally: Tally | None = None) -> dict[str, int]:
        """The tabs' counts (`waiting`, `active`, `waiting_marked`, `active_marked`), as every
        console page polls them for its title and alerts."""
        return self._counts(tally or self._index.tally())

    def _counts(self, tally: Tally, flagged: dict[str, Flag] | None = None) -> dict[str, int]:
        """The tabs' counts, counted again only when the tally's version moved (every change
        of a session or a flag raises it). `waiting_marked` and `active_marked`: crisis cases
        and 要注意 among them."""
        with self._counts_lock:
            if self._counted is not None and self._counted[0] == tally.version:
                return dict(self._counted[1])
        counts = {
            "waiting": self._index.count(SessionStatus.WAITING),
            "active": self._index.count(SessionStatus.ACTIVE),
            **self._marked_counts(self._board.flagged() if flagged is None else flagged),
        }
        with self._counts_lock:
            self._counted = (tally.version, counts)
        return dict(counts)

    def _marked_counts(self, flagged: dict[str, Flag]) -> dict[str, int]:
        marked: dict[SessionStatus, set[str]] = {
            status: {s.session_id for s in self._index.urgent(status, MARKED_COUNTED)}
            for status in (SessionStatus.WAITING, SessionStatus.ACTIVE)
        }
        for session_id in flagged:
            session = self._index.get(session_id)
            if session is not None and session.status in marked:
                marked[session.status].add(session_id)
        return {f"{status.value}_marked": len(ids) for status, ids in marked.items()}

    def _scan(
        self,
        status: SessionStatus,
        cursor: str | None,
        keep: Callable[[Summary], bool],
        tally: Tally,
    ) -> tuple[list[Summary], str | None]:
        """A page of the sessions in `status` that `keep` accepts, examining at most _SCAN."""
        kept: list[Summary] = []
        examined = 0
        while examined < _SCAN:
            page = self.experts.queue(status, cursor, 200, tally)
            examined += len(page.items)
            for summary in page.items:
                if keep(summary):
                    kept.append(summary)
                    if len(kept) == PAGE:
                        return kept, summary.session.session_id
            cursor = page.next_cursor
            if cursor is None:
                return kept, None
        return kept, cursor

    def _row(
        self,
        summary: Summary,
        me: str,
        now: datetime,
        unread: bool,
        *,
        viewers: tuple[str, ...] = (),
        flag: Flag | None = None,
        preview: str | None = None,
    ) -> QueueRow:
        session = summary.session
        opened = session.opened_at
        status = session.status.value
        wait: int | None = None
        if status == "waiting":
            wait = self._hours.business_minutes(opened, now)
        elif status == "active" and session.claimed_at:
            wait = self._hours.business_minutes(opened, session.claimed_at)
        count = summary.message_count
        return QueueRow(
            session_id=session.session_id,
            topic=summary.topic_label,
            status=status,
            opened=japan_day_and_time(opened),
            wait_minutes=wait,
            overdue=status == "waiting" and wait is not None and wait >= self.alert_minutes,
            message_count=count,
            unread=status != "closed" and unread,
            assigned_to=session.assigned_to,
            mine=session.held_by(me),
            outcome=session.outcome,
            viewers=viewers,
            crisis_at=_crisis_at(session),
            attention=(flag.reason or "") if flag is not None and status != "closed" else None,
            preview=preview,
            reference=session.receipt_number,
        )

    # -- a conversation -----------------------------------------------------------------------

    def conversation(
        self, session_id: str, who: str, tally: Tally | None = None
    ) -> ConversationView:
        """The session and its transcript (an audited read); its user messages become read."""
        tally = tally or self._index.tally()  # before the transcript: see SessionTally.seen
        detail = self.experts.detail(session_id, who)
        session = detail.summary.session
        lines = tuple(_line(m) for m in detail.messages)
        if session.is_open:
            read = sum(line.role == Role.USER.value for line in lines)
            self._tally.seen(session_id, read, tally)
        closed = session.closed_at
        user_id = session.user_id
        sessions = self._index.of_user(user_id)
        history, more = self._history(user_id, session_id, sessions)
        erased = any(s.text_expired for s in sessions if s.session_id == session_id)
        return ConversationView(
            session_id=session.session_id,
            user=pseudonym(self._hash_key, session.user_id)[:8],
            topic_id=session.topic,
            topic=detail.summary.topic_label,
            status=session.status.value,
            assigned_to=session.assigned_to,
            mine=session.held_by(who),
            opened=japan_day_and_time(session.opened_at),
            closed=japan_day_and_time(closed) if closed else None,
            outcome=session.outcome,
            lines=lines,
            fingerprint=_fingerprint(lines, session.status.value, session.assigned_to),
            change=tally.changes.get(session_id),
            handovers=tuple(
                HandoverLine(
                    action=h.action.value,
                    by=h.by,
                    previous=h.from_,
                    to=h.to,
                    note=h.note,
                    at=japan_day_and_time(h.at),
                )
                for h in session.handovers
            ),
            notes=tuple(_note_line(n) for n in self._notes.of_session(user_id, session_id)),
            user_note=_user_note_view(self._notes.user_note(user_id)),
            history=history,
            history_more=more,
            text_erased=erased,
            viewers=self._beat(session_id, who),
            crisis_at=_crisis_at(session),
            attention=self._board.flag_of(session_id),
            reference=session.receipt_number,
        )

    def changed(
        self,
        session_id: str,
        who: str,
        fingerprint: str,
        change: int | None = None,
        shown: int = 0,
    ) -> ConversationView | TranscriptState | None:
        """The conversation if it changed since the poll's `fingerprint` (then audited), else
        None. The page polls this: an unchanged transcript is not shown again, so not audited
        again. With the tally's `change` count the poll last saw, an open session that did
        not change costs one point read; one that changed in nothing the transcript shows
        (a 要注意 mark, say) answers only the new state to send back. When the `shown` lines
        the poll has are unchanged, the view's `first_new` says where the new ones begin
        (the page appends only those).
        """
        tally = self._index.tally()
        now = tally.changes.get(session_id)
        if change is not None and now == change:
            return None
        session = self.session(session_id)
        messages = self._messages.of_session(session.user_id, session.session_id)
        lines = tuple(_line(m) for m in messages)
        state = (session.status.value, session.assigned_to)
        if _fingerprint(lines, *state) == fingerprint:
            if now is None or now == change:
                return None
            return TranscriptState(fingerprint, *state, now, len(lines))
        view = self.conversation(session_id, who, tally)
        if 0 < shown <= len(view.lines) and _fingerprint(view.lines[:shown], *state) == fingerprint:
            return replace(view, first_new=shown)  # the lines shown are as they were
        return view

    # -- notes and history --------------------------------------------------------------------

    def add_note(self, session_id: str, who: str, raw: object) -> tuple[NoteLine, ...]:
        """A private note on the session (staff only, never sent); audited without its text.
        Returns the session's notes. Refused once the retention timer erased its text."""
        text = note_text(raw)
        session = self.session(session_id)
        if session.text_expired:
            raise ConflictError(None, "note_erased")
        now = self._clock()
        self._notes.add(SessionNote(new_note_id(now), session_id, session.user_id, who, text, now))
        self._auditor.record(who, "session.note", session.user_id, session=session_id)
        return tuple(_note_line(n) for n in self._notes.of_session(session.user_id, session_id))

    def save_user_note(self, session_id: str, who: str, raw: object, version: str) -> UserNoteView:
        """Write the note about the session's user that their later sessions show (empty
        clears it), over the version the page showed (`version`: "" when there was none);
        ConflictError("note_changed") if a colleague saved it since. Audited without its text."""
        text = note_text(raw, required=False)
        session = self.session(session_id)
        note = UserNote(session.user_id, text, who, self._clock())
        saved = self._notes.save_user_note(note, expected=version or None)
        self._auditor.record(
            who, "user.note", session.user_id, session=session_id, cleared=not text
        )
        return _user_note_shown(saved)

    def user_note(self, session_id: str) -> UserNoteView | None:
        """The session's user's carried-over note as it is stored now (after a conflict)."""
        return _user_note_view(self._notes.user_note(self.session(session_id).user_id))

    def _history(
        self, user_id: str, current: str, sessions: list[Session]
    ) -> tuple[tuple[HistoryRow, ...], int]:
        """The user's other sessions, newest first (at most HISTORY_SHOWN), and how many more."""
        earlier = sorted(
            (s for s in sessions if s.session_id != current),
            key=lambda s: s.opened_at,
            reverse=True,
        )
        if not earlier:
            return (), 0
        shown = earlier[:HISTORY_SHOWN]
        authors = self._messages.answer_authors(user_id)
        notes: dict[str, list[SessionNote]] = {}
        for note in self._notes.of_user(user_id):
            notes.setdefault(note.session_id, []).append(note)
        topics = {t.topic_id: t.label for t in load_topics()}
        rows = tuple(
            HistoryRow(
                session_id=s.session_id,
                topic=topics.get(s.topic, s.topic),
                status=s.status.value,
                opened=japan_time(s.opened_at),
                closed=japan_time(s.closed_at) if s.closed_at else None,
                outcome=s.outcome,
                answered_by=_answered_by(s, authors.get(s.session_id)),
                notes=tuple(_note_line(n, dated=True) for n in notes.get(s.session_id, [])),
                text_erased=s.text_expired,
            )
            for s in shown
        )
        return rows, len(earlier) - len(shown)

    # -- presence -----------------------------------------------------------------------------

    def beat(self, session_id: str, who: str) -> tuple[str, ...]:
        """`who` has the session open (a heartbeat); returns the others viewing it now."""
        self.session(session_id)  # NotFoundError for a session that does not exist
        return self._beat(session_id, who)

    def _beat(self, session_id: str, who: str) -> tuple[str, ...]:
        now = self._clock()
        with self._counts_lock:
            last = self._beaten.get((session_id, staff_key(who)))
            joined = last is None or now - last >= PRESENCE_EXPIRY
            fresh = last is not None and timedelta(0) <= now - last < BEAT_WRITE_EVERY
            if not fresh:
                self._beaten[(session_id, staff_key(who))] = now
                if len(self._beaten) > _KEPT_IN_MEMORY:  # the oldest go first
                    self._beaten.pop(next(iter(self._beaten)))
        if fresh:
            return self.viewers(session_id, who)
        self._store.upsert(
            DESK,
            {
                "id": f"{session_id}:{_staff_key(who)}",
                "pk": _VIEWING_PARTITION,
                "type": "viewing",
                "sessionId": session_id,
                "name": str(who),
                "key": staff_key(who),
                "at": now.isoformat(),
                "ttl": _VIEWING_TTL,
            },
        )
        if joined:  # the queue's rows say who has a session open
            self._tally.touch()
        return self.viewers(session_id, who)

    def viewers(self, session_id: str, me: str) -> tuple[str, ...]:
        """Who else has the session open (a beat within PRESENCE_EXPIRY), by name."""
        docs = self._store.query_partition(
            DESK, _VIEWING_PARTITION, doc_type="viewing", where={"sessionId": session_id}
        )
        return _live_names(docs, self._clock(), me)

    def _viewing(self) -> dict[str, list[dict[str, Any]]]:
        """Every live beat, by session (the queue marks the rows someone has open)."""
        by_session: dict[str, list[dict[str, Any]]] = {}
        for doc in self._store.query_partition(DESK, _VIEWING_PARTITION, doc_type="viewing"):
            by_session.setdefault(str(doc.get("sessionId")), []).append(doc)
        return by_session

    def typing(self, session_id: str, who: str) -> bool:
        """The typing signal: LINE's loading animation in the user's chat, while `who` (the
        session's owner) writes an answer; at most once per TYPING_EVERY a session, in this
        process. True when it was asked for. Best effort: LINE's refusal is logged, not raised.
        """
        session = self.session(session_id)
        if not session.is_open or not session.held_by(who):
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
        return self.experts.session(session_id)

    def canned_replies(self, topic: str, me: str) -> list[dict[str, str]]:
        """The canned replies for a topic (common ones first), with `{name}` filled in: the
        stored list the operators edit (seeded from shared/data/canned_replies.json)."""
        entries = self._lists.canned_for(topic)
        return [
            {"id": e["id"], "title": e["title"], "text": e["text"].replace("{name}", me)}
            for e in entries
        ]

    def find(self, reference: str) -> Session:
        """The session a 受付番号 names, typed as a user reads it out (NotFoundError naming
        `ref` when there is none, ValidationError when it is not one)."""
        return self.experts.by_reference(reference)

    @staticmethod
    def topics() -> list[tuple[str, str]]:
        """(id, label) of the consultation topics."""
        return [(t.topic_id, t.label) for t in load_topics()]

    @staticmethod
    def outcomes() -> list[tuple[str, str]]:
        """(id, label) of the outcomes an expert closes with."""
        return [(o.outcome_id, o.label) for o in load_outcomes()]

    def referrals(self) -> list[tuple[str, str]]:
        """(id, label) of the referrals (紹介先): the stored list the operators edit."""
        return [(r["id"], r["label"]) for r in self._lists.referrals()]


def _preview_of(latest: Message | None) -> tuple[str, str] | None:
    """The queue's preview of a user's latest message: its id and first PREVIEW characters."""
    if latest is None or latest.text is None or latest.unsent:
        return None
    text = " ".join(latest.text.split())
    return latest.message_id, text if len(text) <= PREVIEW else text[:PREVIEW] + "…"


def _crisis_at(session: Session) -> str | None:
    """When the crisis rule marked the session, for people (sessions marked before the time was
    kept say only that they are)."""
    if not session.urgent:
        return None
    return japan_day_and_time(session.urgent_at) if session.urgent_at else ""


def _staff_key(who: str) -> str:
    """A viewer's part of a beat's id: who they are (by key), hashed."""
    return hashlib.sha256(staff_key(who).encode("utf-8")).hexdigest()[:32]


def _live_names(docs: list[dict[str, Any]], now: datetime, me: str) -> tuple[str, ...]:
    """The names of live beats other than `me`'s, sorted."""
    names: set[str] = set()
    for doc in docs:
        at = doc.get("at")
        name = doc.get("name")
        if not isinstance(at, str) or not isinstance(name, str):
            continue
        if doc.get("key", f"{NAME_KEY}{name}") == staff_key(me):  # me, not a namesake
            continue
        if now - datetime.fromisoformat(at) <= PRESENCE_EXPIRY:
            names.add(name)
    return tuple(sorted(names))


def _others(
    viewing: dict[str, list[dict[str, Any]]], session_id: str, me: str, now: datetime
) -> tuple[str, ...]:
    docs = viewing.get(session_id)
    return _live_names(docs, now, me) if docs else ()


def _answered_by(session: Session, authors: list[str] | None) -> tuple[str, ...]:
    """Who answered: the authors of its answers, else whoever held or closed it."""
    if authors:
        return tuple(authors)
    holder = session.closed_by_name or session.assigned_to
    return (holder,) if holder else ()


def _note_line(note: SessionNote, *, dated: bool = False) -> NoteLine:
    """A note for the page; `dated`: with the year (an earlier session's, in the history)."""
    at = japan_time(note.at) if dated else japan_day_and_time(note.at)
    return NoteLine(author=note.author, text=note.text, at=at)


def _user_note_view(note: UserNote | None) -> UserNoteView | None:
    return _user_note_shown(note) if note is not None else None


def _user_note_shown(note: UserNote) -> UserNoteView:
    return UserNoteView(
        text=note.text,
        updated_by=note.updated_by,
        updated_at=japan_time(note.updated_at),
        version=note.etag or "",
    )


def _line(message: Message) -> Line:
    return Line(
        message_id=message.message_id,
        role=message.role.value,
        kind=message.kind,
        text=message.text,
        at=japan_day_and_time(message.at),
        at_iso=message.at.astimezone(JST).isoformat(timespec="seconds"),
        author=message.author,
        script=message.script,
        delivery=message.delivery,
        unsent=message.unsent,
    )


def _fingerprint(lines: tuple[Line, ...], status: str, assigned_to: str | None) -> str:
    digest = hashlib.sha256(f"{status}|{assigned_to}".encode())
    for line in lines:
        digest.update(f"|{line.message_id}:{line.delivery}:{line.unsent}".encode())
    return digest.hexdigest()[:16]
