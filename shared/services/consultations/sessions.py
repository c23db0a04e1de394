"""The lifecycle of consultation sessions, shared by the webhook, the experts and the timer.

A session lives in two places: its record in the desk-wide session index (what experts list
and claim) and a pointer on the user's record (`openSessionId`: where the webhook puts the
user's messages, with no extra read). Opening writes the index first, then the pointer;
closing clears the pointer first, then closes the index. Each step is idempotent, so a
failure half-way is finished by the redelivery or the retry, and a user never writes into a
session that is already closed.

When the user ends a session with their last question unanswered, the session keeps a
follow-up window (`DESK_FOLLOWUP_HOURS`): the expert may still answer it by push until then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from shared.domain.consent import JST
from shared.domain.events import EventMeta
from shared.domain.sessions import (
    DRAFT_SESSION_ID,
    ClosedBy,
    Message,
    Role,
    Session,
    SessionStatus,
    awaits_answer,
    parse_reference,
    session_id_for,
    short_reference,
)
from shared.domain.users import UserRecord
from shared.errors import AlreadyExists, NotFoundError, PreconditionFailed, ValidationError
from shared.ports import Clock, SessionMenus
from shared.repositories.references import ReferenceCounter
from shared.repositories.user_records import MessageLog, SessionIndex, Users
from shared.services.statistics.entries import Statistics

# Messages a consented user wrote before choosing a topic wait under this session id, in their
# own partition (erased with them), and are filed into the session they open within DRAFT_TTL.
DRAFT = DRAFT_SESSION_ID
DRAFT_TTL = timedelta(minutes=30)
# A draft never filed leaves the store by itself (filing saves it again, without the expiry).
DRAFT_EXPIRY_SECONDS = 2 * int(DRAFT_TTL.total_seconds())


class Sessions:
    """Open, write into, claim and close sessions."""

    def __init__(
        self,
        users: Users,
        index: SessionIndex,
        messages: MessageLog,
        statistics: Statistics,
        clock: Clock,
        *,
        follow_up_hours: int = 72,
        menus: SessionMenus | None = None,
        references: ReferenceCounter | None = None,
    ) -> None:
        self._references = references
        self._menus = menus
        self._users = users
        self._index = index
        self._messages = messages
        self._statistics = statistics
        self._clock = clock
        self._follow_up = timedelta(hours=follow_up_hours)

    def open(self, user: UserRecord, topic: str, meta: EventMeta) -> tuple[UserRecord, Session]:
        """Open a session for `user` (idempotent for a redelivered event)."""
        opened_at = event_time(meta)
        session = Session(
            session_id=session_id_for(meta.event_id, opened_at),
            user_id=user.user_id,
            topic=topic,
            status=SessionStatus.WAITING,
            opened_at=opened_at,
            reference=self._new_reference(opened_at),
        )
        try:
            session = self._index.create(session)
        except AlreadyExists:  # a redelivery: the session keeps the number it was given
            session = self._index.get(session.session_id) or session
        self._statistics.session_opened(session)
        if user.draft_at is not None:
            self._file_drafts(user.user_id, session, opened_at)
        saved = user.with_session(session.session_id, self._clock(), meta.event_id)
        user = self._users.save(replace(saved, draft_at=None))
        if self._menus is not None:
            self._menus.session_opened(user.user_id)
        return user, session

    def _new_reference(self, opened_at: datetime) -> str | None:
        if self._references is None:
            return None
        day = opened_at.astimezone(JST).date()
        return short_reference(day, self._references.next(day))

    def by_reference(self, raw: str) -> Session:
        """The session a 受付番号 names, typed as a person reads it out: the short one
        (`251104-012`) or a session id. ValidationError / NotFoundError naming `ref`."""
        try:
            short, reference = parse_reference(raw)
        except ValueError:
            raise ValidationError("ref", "session_reference") from None
        session = self._index.by_reference(reference) if short else self._index.get(reference)
        if session is None:
            raise NotFoundError("ref", "no_session")
        return session

    def keep_draft(self, user: UserRecord, meta: EventMeta, text: str, line_id: str) -> UserRecord:
        """Keep a text written before a topic was chosen, for the session opened next.

        A topic tap handled meanwhile on another instance wins the user record's ETag: the
        record is read again, and if it now points to an open session the caller files the
        draft there (the returned record says so) instead of telling the user to choose."""
        self.add_user_message(DRAFT, meta, "text", text, line_id, keep_token=False)
        for _ in range(3):
            fresh = user.draft_at is not None and user.draft_at >= self._clock() - DRAFT_TTL
            if user.open_session_id or fresh:
                return user
            try:
                marked = replace(user, draft_at=event_time(meta), updated_at=self._clock())
                return self._users.save(marked)
            except PreconditionFailed:
                user = self._users.get(user.user_id) or user
        raise PreconditionFailed(None, "store_changed")

    def _file_drafts(self, user_id: str, session: Session, opened_at: datetime) -> None:
        """File the drafts of the last DRAFT_TTL into `session`; older ones are dropped."""
        for draft in self._messages.of_session(user_id, DRAFT):
            if draft.at >= opened_at - DRAFT_TTL:
                self._messages.save(replace(draft, session_id=session.session_id), filed=True)
            else:
                self._messages.delete(user_id, draft.message_id)

    def queue_place(self, session_id: str) -> int | None:
        """The 1-based place of a waiting session in the queue (urgent ones first, then by
        opening time); None once an expert has it or it is closed. A point read and one or
        two indexed counts, however many sessions wait or were ever opened."""
        session = self._index.get(session_id)
        if session is None or session.status is not SessionStatus.WAITING:
            return None
        ahead = self._index.count_waiting(urgent=session.urgent, before=session_id)
        if not session.urgent:
            ahead += self._index.count_waiting(urgent=True)
        return ahead + 1

    def mark_urgent(self, session_id: str) -> Session | None:
        """Mark an open session urgent: it moves to the top of the queue. Returns the session
        when this call marked it (the ETag-guarded save decides, so of two instances marking at
        once exactly one gets it back), None when it was marked already or is not open."""
        now = self._clock()
        return self._update(
            session_id,
            lambda s: (
                replace(s, urgent=True, urgent_at=now) if s.is_open and not s.urgent else None
            ),
        )

    def add_user_message(
        self,
        session_id: str,
        meta: EventMeta,
        kind: str,
        text: str | None,
        line_id: str,
        *,
        keep_token: bool = True,
    ) -> bool:
        """File a user's message into their open session; False for a redelivered one. A
        draft expires from the store unless a session opened in time files it.

        The event's reply token is kept on the message (no extra write) so that an expert
        answering within the reply window answers for free; `keep_token=False` when the desk
        answers this event itself (the token is then used). A redelivery's token is not kept."""
        expiry = DRAFT_EXPIRY_SECONDS if session_id == DRAFT else None
        token = meta.reply_token if keep_token and not meta.is_redelivery else None
        added = self._messages.add(
            Message(
                message_id=f"msg:{meta.event_id}",
                session_id=session_id,
                user_id=meta.source.partition,
                role=Role.USER,
                kind=kind,
                text=text,
                at=event_time(meta),
                line_message_id=line_id,
                position=meta.position,
                reply_token=token,
            ),
            ttl_seconds=expiry,
        )
        return added or (session_id != DRAFT and self._refile_draft(meta, session_id))

    def _refile_draft(self, meta: EventMeta, session_id: str) -> bool:
        """The event's message is taken already: if only as a draft (kept by an attempt that
        lost a race with the topic tap that opened `session_id`), move it into the session."""
        kept = self._messages.get(meta.source.partition, f"msg:{meta.event_id}")
        if kept is None or kept.session_id != DRAFT:
            return False
        self._messages.save(replace(kept, session_id=session_id), filed=True)
        return True

    def filed(self, meta: EventMeta) -> bool:
        """Was this event's message filed into a session already (by an earlier attempt)? A
        message only kept as a draft is not: its event is answered again if redelivered."""
        found = self._messages.get(meta.source.partition, f"msg:{meta.event_id}")
        return found is not None and found.session_id != DRAFT

    def get(self, session_id: str) -> Session | None:
        """One session."""
        return self._index.get(session_id)

    def rated(self, session: Session, rating: str) -> None:
        """The user answered the closing survey: opens the window for one comment (the first
        rating is kept for the supervisor's internal figures)."""
        if session.survey_rated_at is None:
            self._update(session.session_id, lambda s: s.rated(self._clock(), rating))

    def answered(self, session: Session, at: datetime) -> None:
        """LINE took the session's first expert answer at `at` (kept once)."""
        if session.first_answer_at is None:
            self._update(
                session.session_id,
                lambda s: replace(s, first_answer_at=at) if s.first_answer_at is None else None,
            )

    def survey_comment(self, session: Session, text: str) -> bool:
        """Keep `text` as the session's one survey comment (False: not awaited any more)."""
        now = self._clock()
        if not session.awaits_survey_comment(now):
            return False
        saved = self._update(
            session.session_id,
            lambda s: s.with_survey_comment(text) if s.awaits_survey_comment(now) else None,
        )
        return saved is not None

    def _update(
        self, session_id: str, change: Callable[[Session], Session | None]
    ) -> Session | None:
        """Apply `change` to the stored session, re-reading when another writer got there
        first (None: nothing to change)."""
        for _ in range(5):
            current = self._index.get(session_id)
            changed = change(current) if current is not None else None
            if changed is None or changed == current:
                return None
            try:
                return self._index.save(changed)
            except PreconditionFailed:
                continue
        raise PreconditionFailed(None, "session_busy")

    def close(
        self,
        session: Session,
        by: ClosedBy,
        outcome: str | None,
        event_id: str | None = None,
        *,
        name: str | None = None,
        follow_up: bool = False,
    ) -> Session:
        """Close a session (pointer first, then the index); closing a closed one is a no-op.
        `event_id` names the user's event that asked for it, on their record; `name` the
        expert who closed it. With `follow_up` (the user ended it), a last question left
        unanswered opens the follow-up window."""
        now = self._clock()
        for _ in range(3):
            user = self._users.get(session.user_id)
            if user is None or user.open_session_id != session.session_id:
                break
            try:
                self._users.save(user.with_session(None, now, event_id))
                break
            except PreconditionFailed:
                continue  # the user wrote meanwhile: read again
        messages: list[Message] | None = None
        until = None
        if follow_up and session.is_open:
            # Read once the pointer is gone: the user can add nothing after this.
            messages = self._messages.of_session(session.user_id, session.session_id)
            until = now + self._follow_up if awaits_answer(messages) else None
        for _ in range(3):
            if not session.is_open:
                break
            try:
                closed = session.close(by, outcome, now, name=name, follow_up_until=until)
                session = self._index.save(closed)
            except PreconditionFailed:
                session = self._index.get(session.session_id) or session
                continue
        if not session.is_open and self._menus is not None:
            self._menus.session_closed(session.user_id)
        if not session.is_open:
            # Counted here, after the close, and again by any retry (the entry is keyed by the
            # session): a failure between the close and the count is finished by the retry.
            if messages is not None:
                count = sum(m.role is Role.USER for m in messages)
            else:
                count = self._messages.count_from_user(session.user_id, session.session_id)
            self._statistics.session_closed(session, count)
            return session
        raise PreconditionFailed(None, "session_busy")

    def unsend(self, user_id: str, line_message_id: str) -> bool:
        """Remove the text of a message the user unsent; False if the desk never kept it."""
        message = self._messages.by_line_id(user_id, line_message_id)
        if message is None or message.unsent:
            return False
        self._messages.save(replace(message, text=None, unsent=True))
        return True


def event_time(meta: EventMeta) -> datetime:
    """When LINE says the event happened (the same on every redelivery)."""
    return datetime.fromtimestamp(meta.timestamp_ms / 1000, UTC)
