"""The experts' side of consultations: the queue, a session's messages, claim, answer, close.

Also the timer's sweep that closes sessions left without user activity.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from shared.budget import closing
from shared.domain.delivery import pending_answers, reply_candidate
from shared.domain.messages import (
    MAX_MESSAGES_PER_CALL,
    MAX_TEXT_LENGTH,
    OutboundMessage,
    as_plain_text,
    utf16_length,
)
from shared.domain.runs import RunSummary
from shared.domain.sessions import (
    ClosedBy,
    HolderDecision,
    Message,
    Outcome,
    Role,
    Session,
    SessionStatus,
)
from shared.domain.staff import StaffRef, is_script
from shared.errors import (
    ConflictError,
    NotFoundError,
    OverLimit,
    PreconditionFailed,
    ValidationError,
)
from shared.ports import Clock
from shared.repositories.paging import Page, is_id, page_of
from shared.repositories.tally import Tally
from shared.repositories.user_records import MessageLog, SessionIndex, Users
from shared.services.audit import Auditor
from shared.services.catalog import (
    automatic_outcome,
    load_outcomes,
    load_referrals,
    load_topics,
)
from shared.services.consultations.pushing import Pusher, PushResult
from shared.services.consultations.sessions import Sessions
from shared.services.line.answering import retry_key_for
from shared.services.line.replies import Replies
from shared.services.statistics.entries import Statistics

log = logging.getLogger("desk.experts")

_CLIENT_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
# Urgent sessions listed ahead of the first page (a crisis is rare: a bound, not a page).
MAX_URGENT_LISTED = 50
# A pending answer claimed by a delivery that never finished (its instance stopped) is carried
# by the next delivery after this; longer than a delivery's retries can take.
CARRY_SECONDS = 120


@dataclass(frozen=True)
class Summary:
    """A session as the queue lists it: no message text, the count of the user's messages."""

    session: Session
    topic_label: str
    message_count: int


@dataclass(frozen=True)
class Detail:
    """A session and its transcript."""

    summary: Summary
    messages: tuple[Message, ...]


@dataclass(frozen=True)
class ExpertAnswer:
    """An expert's answer; `client_message_id` makes a retried send the same message."""

    text: str
    client_message_id: str | None = None

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValidationError("text", "answer_text", max=MAX_TEXT_LENGTH)
        if utf16_length(self.text) > MAX_TEXT_LENGTH:
            raise ValidationError("text", "line_text_length", max=MAX_TEXT_LENGTH)
        if self.client_message_id is not None and not _CLIENT_ID.fullmatch(self.client_message_id):
            raise ValidationError("clientMessageId", "client_message_id")


@dataclass(frozen=True)
class Sent:
    """What became of an answer: delivered (`via` reply or push) or not, and why not."""

    message: Message
    accepted: bool
    via: str | None
    reason: str | None


@dataclass(frozen=True)
class CloseSession:
    """Close with an outcome category and, optionally, a referral (ids or labels)."""

    outcome: str
    referral: str | None = None


@dataclass(frozen=True)
class Closed:
    """A closed session, and whether LINE took the closing message."""

    summary: Summary
    closing_message_accepted: bool


class ExpertDesk:
    """Use cases behind `/api/admin/sessions`."""

    def __init__(
        self,
        *,
        sessions: Sessions,
        index: SessionIndex,
        messages: MessageLog,
        users: Users,
        pusher: Pusher,
        replies: Replies,
        clock: Clock,
        idle_days: int,
        statistics: Statistics,
        auditor: Auditor,
        max_open: int = 0,
        referrals: Callable[[], tuple[Outcome, ...]] = load_referrals,
    ) -> None:
        self._max_open = max_open  # DESK_EXPERT_MAX_OPEN; 0: no limit
        self._referrals = referrals  # the stored list the operators edit (StaffLists)
        self._statistics = statistics
        self._auditor = auditor
        self._sessions = sessions
        self._index = index
        self._messages = messages
        self._users = users
        self._pusher = pusher
        self._replies = replies
        self._clock = clock
        self._idle = timedelta(days=idle_days)
        self._topics = {t.topic_id: t.label for t in load_topics()}

    # -- reading ------------------------------------------------------------------------------

    def queue(
        self, wanted: SessionStatus, cursor: str | None, limit: int, tally: Tally | None = None
    ) -> Page[Summary]:
        """One page of sessions in a status, oldest first, without any message text. Open
        sessions marked urgent come first, on the first page (and are not repeated later).
        Open sessions' message counts come from the tally (`tally`, else read once)."""
        if wanted is not SessionStatus.CLOSED:
            tally = tally or self._index.tally()
        page = page_of(
            lambda after, n: self._index.page(wanted, after, n),
            cursor,
            limit,
            lambda s: s.session_id,
        )
        shown = page.items
        urgent: list[Session] = []
        if wanted is not SessionStatus.CLOSED:
            if cursor is None:
                urgent = self._index.urgent(wanted, MAX_URGENT_LISTED)
            shown = [s for s in shown if not s.urgent]
        listed = (*urgent, *shown)
        rows = [self._summary(s, tally.counted(s.session_id) if tally else None) for s in listed]
        return Page(rows, page.next_cursor)

    def detail(self, session_id: str, who: str) -> Detail:
        """A session and its messages in order (a read of a user's messages: audited)."""
        session = self.session(session_id)
        messages = self._messages.of_session(session.user_id, session.session_id)
        self._auditor.record(who, "session.read", session.user_id, session=session.session_id)
        count = sum(m.role is Role.USER for m in messages)
        return Detail(self._summary(session, count), tuple(messages))

    # -- acting -------------------------------------------------------------------------------
    #
    # A claimed session belongs to its holder: only they answer, close or hand it over; anyone
    # else gets a 409 naming the holder, unless `admin` (the caller holds Desk.Admin), who takes
    # it over, audited. The rule itself is `Session.holder_rule` (shared/domain/sessions.py).

    def claim(self, session_id: str, operator: str, *, admin: bool = False) -> Summary:
        """Assign the session to `operator`; 409 if it is closed or someone else has it."""
        claimed = self._claim(self.session(session_id), operator, admin=admin, action="claim")
        self._auditor.record(operator, "session.claim", claimed.user_id, session=session_id)
        return self._summary(claimed)

    def send(
        self, session_id: str, operator: str, answer: ExpertAnswer, *, admin: bool = False
    ) -> Sent:
        """Push an expert's answer to the user and record it with its delivery status.

        Answering an unclaimed session claims it. A session the user ended with their last
        question unanswered can still be answered within its follow-up window.
        """
        text, client_id = answer.text, answer.client_message_id
        session = self.session(session_id)
        if not session.answerable(self._clock()):
            raise _not_answerable(session)
        self._require_followed(session)
        session = self._claim(session, operator, admin=admin, action="answer")
        message_id = f"msg:{session.session_id}:{client_id or uuid.uuid4().hex}"
        message = Message(
            message_id=message_id,
            session_id=session.session_id,
            user_id=session.user_id,
            role=Role.EXPERT,
            kind="text",
            text=text,
            at=self._clock(),
            author=operator,
            delivery="sending",
            script=is_script(operator),
        )
        if not self._messages.add(message):
            existing = self._messages.get(session.user_id, message_id)
            if existing is not None and existing.delivery == "accepted":
                return Sent(existing, accepted=True, via=None, reason=None)
        result = self._deliver(session, (self._replies.expert_answer(text),), message)
        message = replace(
            message,
            delivery="accepted" if result.accepted else "failed",
            delivery_detail=result.detail,
        )
        with closing():  # what LINE did with it is recorded even when the budget is spent
            self._messages.save(message)
        if result.accepted:
            self._statistics.first_answer(session, message.at)
            self._sessions.answered(session, message.at)
        self._auditor.record(
            operator,
            "session.message",
            session.user_id,
            session=session.session_id,
            accepted=result.accepted,
            followUp=not session.is_open,
            via=result.via,
        )
        return Sent(
            message,
            accepted=result.accepted,
            via=result.via if result.accepted else None,
            reason=None if result.accepted else self._refusal(result),
        )

    def close(
        self, session_id: str, operator: str, command: CloseSession, *, admin: bool = False
    ) -> Closed:
        """Close with an outcome category and an optional referral (紹介先); the user gets a
        closing message, naming the referral when there is one. On a session the user ended,
        this records the outcome (at any time) and sends nothing."""
        outcome = _outcome(command.outcome)
        referral = _referral(command.referral, self._referrals())
        session = self._workable(session_id)
        if not session.is_open:
            return self._record_outcome(session, operator, outcome, admin=admin)
        session = self._claim(session, operator, admin=admin, action="close")
        closed = self._sessions.close(session, ClosedBy.EXPERT, outcome.label, name=operator)
        details: dict[str, Any] = {"session": session_id, "outcome": outcome.label}
        if referral is not None:
            details["referral"] = referral.label
        self._auditor.record(operator, "session.close", closed.user_id, **details)
        notice = False
        if self._followed(closed.user_id):
            closing = self._replies.closing(
                closed.session_id, referral.label if referral is not None else None
            )
            notice = self._deliver(closed, closing, None, key=f"{closed.session_id}:close").accepted
            self._record_closing(closed, closing, accepted=notice)
        return Closed(self._summary(closed), closing_message_accepted=notice)

    def _record_closing(
        self, session: Session, closing: tuple[OutboundMessage, ...], *, accepted: bool
    ) -> None:
        """The closing message, the referral and the survey go into the transcript as the
        desk's own message: the expert (and the user's data export) see what the user got."""
        message = Message(
            message_id=f"msg:{session.session_id}:closing",
            session_id=session.session_id,
            user_id=session.user_id,
            role=Role.DESK,
            kind="closing",
            text=as_plain_text(closing),
            at=self._clock(),
            delivery="accepted" if accepted else "failed",
        )
        if not self._messages.add(message, open_session=False):
            self._messages.save(message, open_session=False)  # a retried close: its delivery

    def release(
        self, session_id: str, operator: str, note: str | None = None, *, admin: bool = False
    ) -> Summary:
        """Put a claimed session back in the queue (unassigned), with a note for the next
        expert; only its holder, or a Desk.Admin taking it over, may."""
        note = _note(note)
        session = self._workable(session_id)
        if session.assigned_to is None:
            raise ConflictError(None, "session_not_claimed")
        decision = self._holder(session, operator, admin=admin)
        released = self._save(session.release(operator, note, self._clock()))
        self._takeover_audit(released, operator, decision, "release")
        self._auditor.record(
            operator,
            "session.release",
            released.user_id,
            session=session_id,
            previous=decision.holder,
            note=note is not None,
        )
        return self._summary(released)

    def transfer(
        self,
        session_id: str,
        operator: str,
        to: str,
        note: str | None = None,
        *,
        admin: bool = False,
    ) -> Summary:
        """Hand a session to the expert `to`, with a note; only its holder (anyone, while it
        is unclaimed), or a Desk.Admin taking it over, may."""
        to = _expert_name(to)
        note = _note(note)
        session = self._workable(session_id)
        decision = self._holder(session, operator, admin=admin)
        if session.held_by(to):
            return self._summary(session)  # already theirs: a repeated request
        moved = self._save(session.transfer(operator, to, note, self._clock()))
        self._takeover_audit(moved, operator, decision, "transfer")
        self._auditor.record(
            operator,
            "session.transfer",
            moved.user_id,
            session=session_id,
            previous=decision.holder,
            to=to,
            note=note is not None,
        )
        return self._summary(moved)

    def close_idle(self, limit: int = 500) -> RunSummary:
        """Close sessions without user activity for the idle period (bounded per run).

        Skipped: `recent` (user activity inside the idle period), `busy` (someone changed the
        session meanwhile; the next sweep looks again). `moved`: closed sessions a crash left
        in the open partition, moved to their month's first. `pruned`: closed sessions whose
        fields left the open sessions' tally.
        """
        cutoff = self._clock() - self._idle
        moved = self._index.finish_moves()  # closings a crash cut short
        closed = examined = recent = busy = 0
        for status in (SessionStatus.WAITING, SessionStatus.ACTIVE):
            cursor: str | None = None
            while examined < limit:
                page = self._index.page(status, cursor, min(100, limit - examined))
                if not page:
                    break
                for session in page:
                    examined += 1
                    if session.opened_at > cutoff or self._last_activity(session) > cutoff:
                        recent += 1
                    elif self._close_idle(session):
                        closed += 1
                    else:
                        busy += 1
                cursor = page[-1].session_id
        pruned = self._index.prune_tally()  # the fields of sessions closed meanwhile
        return RunSummary(
            "close_idle_sessions",
            "closed",
            examined,
            closed,
            {"recent": recent, "busy": busy, "moved": moved, "pruned": pruned},
        )

    # -- internals ----------------------------------------------------------------------------

    def _close_idle(self, session: Session) -> bool:
        try:
            closed = self._sessions.close(session, ClosedBy.IDLE, automatic_outcome().label)
        except PreconditionFailed:
            return False  # someone is working on it right now; the next sweep looks again
        self._notify(closed, (self._replies.text("session_closed_idle"),), "idle")
        return True

    def _last_activity(self, session: Session) -> Any:
        messages = self._messages.of_session(session.user_id, session.session_id)
        return max((m.at for m in messages if m.role is Role.USER), default=session.opened_at)

    def notify_user(self, user_id: str, messages: tuple[OutboundMessage, ...], key: str) -> bool:
        """Push a notice to a user (retry key `key`); False when LINE did not take it."""
        return self._pusher.push(user_id, messages, retry_key_for(key)).accepted

    def _deliver(
        self,
        session: Session,
        outbound: tuple[OutboundMessage, ...],
        new: Message | None,
        *,
        key: str | None = None,
    ) -> PushResult:
        """Send `outbound` (about `new`, an expert's answer, if any) to the session's user,
        with the session's pending answers before it in the same call: a free reply when the
        user's latest message came within the reply window and its token is unused (it is
        marked used first, so no second answer tries it), a push with a retry key otherwise.
        The pending answers are recorded as delivered when LINE takes the call."""
        history = self._messages.of_session(session.user_id, session.session_id)
        exclude = new.message_id if new is not None else ""
        waiting = pending_answers(history, exclude, MAX_MESSAGES_PER_CALL - len(outbound))
        # Only the delivery that claims a pending answer carries it (another one may be on its
        # way at this moment, from another tab or instance).
        pending = [m for m in waiting if self._messages.take_pending(m, CARRY_SECONDS)]
        batch = tuple(self._replies.expert_answer(m.text or "") for m in pending) + outbound
        token: str | None = None
        candidate = reply_candidate(history, self._clock())
        if candidate is not None:
            token = candidate.reply_token
            used = replace(candidate, reply_token=None)  # single use
            self._messages.save(used, open_session=session.is_open)
        # The key names what this call is about (the new answer, or the closing), whatever it
        # carries: a repeat of the same call is refused by LINE even if the pending set changed.
        subject = exclude if new is not None else key or ""
        result = self._pusher.deliver(
            session.user_id, batch, retry_key_for(subject), reply_token=token
        )
        for earlier in pending:
            if result.accepted:
                self._messages.save(
                    replace(earlier, delivery="accepted", delivery_detail=result.detail),
                    open_session=session.is_open,
                )
            else:
                self._messages.release_pending(earlier)
        log.info(
            "delivered via=%s accepted=%s bubbles=%d pending=%d",
            result.via,
            result.accepted,
            len(batch),
            len(pending),
        )
        return result

    def _refusal(self, result: PushResult) -> str:
        """Why an answer was not delivered, in Japanese for the expert (catalogue)."""
        if result.monthly_limit:
            return self._replies.text("expert_monthly_limit").text
        return self._replies.text("expert_push_failed").text

    def _followed(self, user_id: str) -> bool:
        user = self._users.get(user_id)
        return user is not None and user.followed

    def _notify(self, session: Session, messages: tuple[OutboundMessage, ...], what: str) -> bool:
        if not self._followed(session.user_id):
            return False
        key = retry_key_for(f"{session.session_id}:{what}")
        result: PushResult = self._pusher.push(session.user_id, messages, key)
        return result.accepted

    def _record_outcome(
        self, session: Session, operator: str, outcome: Outcome, *, admin: bool
    ) -> Closed:
        """The outcome of a session the user ended: recorded once, nothing sent to the user."""
        session = self._claim(session, operator, admin=admin, action="close")
        recorded = self._save(session.with_outcome(outcome.label))
        count = self._messages.count_from_user(recorded.user_id, recorded.session_id)
        self._statistics.outcome_recorded(recorded, count)
        self._auditor.record(
            operator,
            "session.outcome",
            recorded.user_id,
            session=recorded.session_id,
            outcome=outcome.label,
        )
        return Closed(self._summary(recorded), closing_message_accepted=False)

    def _holder(self, session: Session, operator: str, *, admin: bool) -> HolderDecision:
        """The holder rule, as a 409 naming the holder when the operator may not act."""
        decision = session.holder_rule(operator, admin=admin)
        if not decision.allowed:
            raise ConflictError(None, "claimed_by_other", holder=decision.holder)
        return decision

    def _takeover_audit(
        self, session: Session, operator: str, decision: HolderDecision, action: str
    ) -> None:
        if decision.takeover:
            self._auditor.record(
                operator,
                "session.takeover",
                session.user_id,
                session=session.session_id,
                previous=decision.holder,
                during=action,
            )

    def _claim(
        self, session: Session, operator: str, *, admin: bool = False, action: str = "claim"
    ) -> Session:
        """The session assigned to `operator` (claiming it, or taking it over for a
        Desk.Admin); 409 if it is closed or held by someone else."""
        if not session.workable and not session.answerable(self._clock()):
            raise ConflictError(None, "session_closed")
        decision = self._holder(session, operator, admin=admin)
        if session.held_by(operator):
            return session
        if not admin and session.is_open:
            self._within_limit(operator)
        now = self._clock()
        taken = (
            session.take_over(operator, now) if decision.takeover else session.claim(operator, now)
        )
        try:
            saved = self._index.save(taken)
        except PreconditionFailed:
            raise ConflictError(None, "claimed_just_now") from None
        self._takeover_audit(saved, operator, decision, action)
        return saved

    def _within_limit(self, operator: str) -> None:
        """DESK_EXPERT_MAX_OPEN: an expert claims no more open sessions than the limit (a
        Desk.Admin's takeover or reassignment is the supervisor's decision, not limited)."""
        if self._max_open <= 0:
            return
        held = self._index.count_held(operator)
        if held >= self._max_open:
            self._auditor.record(operator, "session.claim_refused", held=held, limit=self._max_open)
            raise OverLimit(None, "expert_max_open", held=held, limit=self._max_open)

    def _save(self, session: Session) -> Session:
        try:
            return self._index.save(session)
        except PreconditionFailed:
            raise ConflictError(None, "session_changed") from None

    def session(self, session_id: str) -> Session:
        """One session by id (NotFoundError for none, or for an id of the wrong form)."""
        session = self._index.get(session_id) if is_id(session_id) else None
        if session is None:
            raise NotFoundError("sessionId", "no_session")
        return session

    def _workable(self, session_id: str) -> Session:
        """A session staff may still act on: open, or ended by the user awaiting an outcome."""
        session = self.session(session_id)
        if not session.workable:
            raise ConflictError(None, "session_closed")
        return session

    def _require_followed(self, session: Session) -> None:
        user = self._users.get(session.user_id)
        if user is None or not user.followed:
            raise ConflictError(None, "user_blocked")
        if not session.is_open and (user.suspended or user.consent_status != "consented"):
            # A follow-up answer goes only to a user who still uses the desk.
            raise ConflictError(None, "user_gone")

    def by_reference(self, raw: str) -> Session:
        """The session a 受付番号 names (the short one, or a session id), as typed."""
        return self._sessions.by_reference(raw)

    def summary(self, session: Session, count: int | None = None) -> Summary:
        """A session as the queue lists it (its user's message count read, unless given)."""
        return self._summary(session, count)

    def _summary(self, session: Session, count: int | None = None) -> Summary:
        if count is None:
            count = self._messages.count_from_user(session.user_id, session.session_id)
        return Summary(session, self._topics.get(session.topic, session.topic), count)


def _outcome(raw: object) -> Outcome:
    outcomes = load_outcomes()
    for outcome in outcomes:
        if raw in (outcome.outcome_id, outcome.label):
            return outcome
    names = ", ".join(o.label for o in outcomes)
    raise ValidationError("outcome", "one_of", choices=names)


def _referral(raw: object, referrals: tuple[Outcome, ...]) -> Outcome | None:
    if raw is None or raw == "":
        return None
    for referral in referrals:
        if raw in (referral.outcome_id, referral.label):
            return referral
    names = ", ".join(r.label for r in referrals)
    raise ValidationError("referral", "one_of", choices=names)


MAX_NOTE = 1000
MAX_EXPERT_NAME = 100  # as the admin API's `operator`


def _note(raw: object) -> str | None:
    """A hand-over note: optional, at most MAX_NOTE characters (staff only)."""
    if raw is None:
        return None
    if not isinstance(raw, str) or len(raw) > MAX_NOTE:
        raise ValidationError("note", "text_max", max=MAX_NOTE)
    return raw.strip() or None


def _expert_name(raw: object) -> str:
    """Whom a session is transferred to: an expert's name as they sign in."""
    if not isinstance(raw, str) or not 0 < len(raw.strip()) <= MAX_EXPERT_NAME:
        raise ValidationError("to", "expert_name", max=MAX_EXPERT_NAME)
    if isinstance(raw, StaffRef) and raw == raw.strip():
        return raw  # a person the staff directory named: keep who they are
    return raw.strip()


def _not_answerable(session: Session) -> ConflictError:
    if session.closed_by is ClosedBy.USER and session.follow_up_until is not None:
        return ConflictError(
            None, "follow_up_over", until=session.follow_up_until.isoformat(timespec="minutes")
        )
    return ConflictError(None, "session_closed")
