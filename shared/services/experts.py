"""The experts' side of consultations: the queue, a session's messages, claim, answer, close.

Also the timer's sweep that closes sessions left without user activity.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

from shared.domain.messages import MAX_TEXT_LENGTH, OutboundMessage
from shared.domain.runs import RunSummary
from shared.domain.sessions import Message, Outcome, Role, Session, SessionStatus
from shared.errors import ConflictError, NotFoundError, PreconditionFailed, ValidationError
from shared.services.answering import retry_key_for
from shared.services.audit import Auditor
from shared.services.catalog import (
    automatic_outcome,
    load_outcomes,
    load_referrals,
    load_topics,
)
from shared.services.paging import is_id, page_of
from shared.services.ports import Clock
from shared.services.pushing import Pusher, PushResult
from shared.services.records import MessageLog, SessionIndex, Users
from shared.services.replies import Replies
from shared.services.sessions import Sessions
from shared.services.statistics import Statistics

log = logging.getLogger("desk.experts")

_CLIENT_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


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
    ) -> None:
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

    def queue(self, status: str | None, cursor: str | None, limit: int) -> dict[str, Any]:
        """One page of sessions in a status, oldest first, without any message text."""
        try:
            wanted = SessionStatus(status or "waiting")
        except ValueError:
            raise ValidationError("status: waiting, active or closed") from None
        shown, next_cursor = page_of(
            lambda after, n: self._index.page(wanted, after, n),
            cursor,
            limit,
            lambda s: s.session_id,
        )
        return {
            "sessions": [self._summary(s) for s in shown],
            "nextCursor": next_cursor,
        }

    def detail(self, session_id: str, who: str) -> dict[str, Any]:
        """A session and its messages in order (a read of a user's messages: audited)."""
        session = self._session(session_id)
        messages = self._messages.of_session(session.user_id, session.session_id)
        self._auditor.record(who, "session.read", session.user_id, session=session.session_id)
        return {
            **self._summary(session, count=sum(m.role is Role.USER for m in messages)),
            "userId": session.user_id,
            "messages": [_message_json(m) for m in messages],
        }

    # -- acting -------------------------------------------------------------------------------

    def claim(self, session_id: str, operator: str) -> dict[str, Any]:
        """Assign the session to `operator`; 409 if it is closed or someone else has it."""
        claimed = self._claim(self._session(session_id), operator)
        self._auditor.record(operator, "session.claim", claimed.user_id, session=session_id)
        return self._summary(claimed)

    def send(self, session_id: str, operator: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Push an expert's answer to the user and record it with its delivery status."""
        text = payload.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ValidationError("text: the answer, 1 to 5000 characters")
        if len(text) > MAX_TEXT_LENGTH:
            raise ValidationError(f"text: at most {MAX_TEXT_LENGTH} characters (LINE's limit)")
        client_id = payload.get("clientMessageId")
        if client_id is not None and (
            not isinstance(client_id, str) or not _CLIENT_ID.match(client_id)
        ):
            raise ValidationError("clientMessageId: 1-64 letters, digits, '-' or '_'")
        session = self._open_session(session_id)
        self._require_followed(session)
        if session.status is SessionStatus.WAITING:
            session = self._claim(session, operator)
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
        )
        if not self._messages.add(message):
            existing = self._messages.get(session.user_id, message_id)
            if existing is not None and existing.delivery == "accepted":
                return {"message": _message_json(existing), "accepted": True}
        result = self._pusher.push(
            session.user_id, (self._replies.expert_answer(text),), retry_key_for(message_id)
        )
        message = replace(
            message,
            delivery="accepted" if result.accepted else "failed",
            delivery_detail=result.detail,
        )
        self._messages.save(message)
        if result.accepted:
            self._statistics.first_answer(session, message.at)
        self._auditor.record(
            operator,
            "session.message",
            session.user_id,
            session=session.session_id,
            accepted=result.accepted,
        )
        return {"message": _message_json(message), "accepted": result.accepted}

    def close(self, session_id: str, operator: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Close with an outcome category and an optional referral (紹介先); the user gets a
        closing message, naming the referral when there is one."""
        outcome = _outcome(payload.get("outcome"))
        referral = _referral(payload.get("referral"))
        session = self._open_session(session_id)
        closed = self._sessions.close(session, by=operator, outcome=outcome.label)
        details: dict[str, Any] = {"session": session_id, "outcome": outcome.label}
        if referral is not None:
            details["referral"] = referral.label
        self._auditor.record(operator, "session.close", closed.user_id, **details)
        closing: tuple[OutboundMessage, ...] = (self._replies.text("session_closed"),)
        if referral is not None:
            closing += (self._replies.text("session_closed_referral", referral=referral.label),)
        notice = self._notify(closed, closing, "close")
        return {**self._summary(closed), "closingMessageAccepted": notice}

    def close_idle(self, limit: int = 500) -> RunSummary:
        """Close sessions without user activity for the idle period (bounded per run).

        Skipped: `recent` (user activity inside the idle period), `busy` (someone changed the
        session meanwhile; the next sweep looks again).
        """
        cutoff = self._clock() - self._idle
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
        return RunSummary(
            "close_idle_sessions", "closed", examined, closed, {"recent": recent, "busy": busy}
        )

    # -- internals ----------------------------------------------------------------------------

    def _close_idle(self, session: Session) -> bool:
        try:
            closed = self._sessions.close(session, by="system", outcome=automatic_outcome().label)
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

    def _notify(self, session: Session, messages: tuple[OutboundMessage, ...], what: str) -> bool:
        user = self._users.get(session.user_id)
        if user is None or not user.followed:
            return False
        key = retry_key_for(f"{session.session_id}:{what}")
        result: PushResult = self._pusher.push(session.user_id, messages, key)
        return result.accepted

    def _claim(self, session: Session, operator: str) -> Session:
        if not session.is_open:
            raise ConflictError("the session is closed")
        if session.status is SessionStatus.ACTIVE:
            if session.assigned_to == operator:
                return session
            raise ConflictError(f"the session is already claimed by {session.assigned_to}")
        try:
            return self._index.save(session.claim(operator, self._clock()))
        except PreconditionFailed:
            raise ConflictError("another expert claimed the session a moment ago") from None

    def _session(self, session_id: str) -> Session:
        session = self._index.get(session_id) if is_id(session_id) else None
        if session is None:
            raise NotFoundError("no such session")
        return session

    def _open_session(self, session_id: str) -> Session:
        session = self._session(session_id)
        if not session.is_open:
            raise ConflictError("the session is closed")
        return session

    def _require_followed(self, session: Session) -> None:
        user = self._users.get(session.user_id)
        if user is None or not user.followed:
            raise ConflictError("the user has blocked the account; nothing was sent")

    def _summary(self, session: Session, count: int | None = None) -> dict[str, Any]:
        if count is None:
            count = self._messages.count_from_user(session.user_id, session.session_id)
        return {
            "sessionId": session.session_id,
            "status": session.status.value,
            "topic": session.topic,
            "topicLabel": self._topics.get(session.topic, session.topic),
            "waitingSince": session.opened_at.isoformat(),
            "messageCount": count,
            "assignedTo": session.assigned_to,
            "claimedAt": session.claimed_at.isoformat() if session.claimed_at else None,
            "closedAt": session.closed_at.isoformat() if session.closed_at else None,
            "closedBy": session.closed_by,
            "outcome": session.outcome,
        }


def _outcome(raw: object) -> Outcome:
    outcomes = load_outcomes()
    for outcome in outcomes:
        if raw in (outcome.outcome_id, outcome.label):
            return outcome
    names = ", ".join(o.label for o in outcomes)
    raise ValidationError(f"outcome: one of {names}")


def _referral(raw: object) -> Outcome | None:
    if raw is None or raw == "":
        return None
    referrals = load_referrals()
    for referral in referrals:
        if raw in (referral.outcome_id, referral.label):
            return referral
    names = ", ".join(r.label for r in referrals)
    raise ValidationError(f"referral: empty or one of {names}")


def _message_json(message: Message) -> dict[str, Any]:
    return {
        "messageId": message.message_id,
        "role": message.role.value,
        "kind": message.kind,
        "text": message.text,
        "at": message.at.isoformat(),
        "author": message.author,
        "delivery": message.delivery,
        "deliveryDetail": message.delivery_detail,
        "unsent": message.unsent,
    }
