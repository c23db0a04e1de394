"""JSON of the experts' family: the queue, a session and its transcript, answers, closing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shared.domain.messages import MAX_TEXT_LENGTH
from shared.domain.privacy import pseudonym
from shared.domain.sessions import Message, Session, SessionStatus
from shared.errors import ValidationError
from shared.repositories.paging import Page
from shared.repositories.timestamps import iso_or_none
from shared.services.consultations.experts import (
    Closed,
    CloseSession,
    Detail,
    ExpertAnswer,
    Sent,
    Summary,
)


def session_status(raw: str | None) -> SessionStatus:
    """`?status=` of the queue (waiting when absent)."""
    try:
        return SessionStatus(raw or "waiting")
    except ValueError:
        choices = ", ".join(s.value for s in SessionStatus)
        raise ValidationError("status", "one_of", choices=choices) from None


def answer_command(body: Mapping[str, Any]) -> ExpertAnswer:
    """`{"text": ..., "clientMessageId"?: ...}`."""
    text = body.get("text")
    if not isinstance(text, str):
        raise ValidationError("text", "answer_text", max=MAX_TEXT_LENGTH)
    client_id = body.get("clientMessageId")
    if client_id is not None and not isinstance(client_id, str):
        raise ValidationError("clientMessageId", "client_message_id")
    return ExpertAnswer(text, client_id)


def close_command(body: Mapping[str, Any]) -> CloseSession:
    """`{"outcome": id or label, "referral"?: id or label}` (checked against the catalogue)."""
    outcome, referral = body.get("outcome"), body.get("referral")
    if referral is not None and not isinstance(referral, str):
        # No id or label holds a control character: the desk refuses this one with its own
        # (editable) list, after the outcome, as for any unknown referral.
        referral = "\x00" + json.dumps(referral)
    return CloseSession(outcome if isinstance(outcome, str) else "", referral)


def summary_json(summary: Summary) -> dict[str, Any]:
    """A session as the queue lists it (no message text)."""
    session = summary.session
    return {
        "sessionId": session.session_id,
        "status": session.status.value,
        "topic": session.topic,
        "topicLabel": summary.topic_label,
        "waitingSince": session.opened_at.isoformat(),
        "messageCount": summary.message_count,
        "assignedTo": session.assigned_to,
        "claimedAt": iso_or_none(session.claimed_at),
        "closedAt": iso_or_none(session.closed_at),
        "closedBy": session.closed_by.value if session.closed_by else None,
        "closedByName": session.closed_by_name,
        "outcome": session.outcome,
        "followUpUntil": iso_or_none(session.follow_up_until),
        "urgent": session.urgent,
        "reference": session.receipt_number,
    }


def queue_json(page: Page[Summary]) -> dict[str, Any]:
    """`GET /api/admin/sessions`."""
    return {"sessions": [summary_json(s) for s in page.items], "nextCursor": page.next_cursor}


def with_handovers_json(summary: Summary) -> dict[str, Any]:
    """A session after a release or transfer: the summary and its hand-overs."""
    return {**summary_json(summary), "handovers": handovers_json(summary.session)}


def detail_json(detail: Detail, hash_key: str, *, with_user_id: bool) -> dict[str, Any]:
    """`GET /api/admin/sessions/{sessionId}`: the user under the desk's pseudonym (as the
    console shows it); the raw LINE user id only `with_user_id` (a Desk.Admin, audited)."""
    user_id = detail.summary.session.user_id
    return {
        **summary_json(detail.summary),
        "user": pseudonym(hash_key, user_id)[:8],
        **({"userId": user_id} if with_user_id else {}),
        "handovers": handovers_json(detail.summary.session),
        "messages": [message_json(m) for m in detail.messages],
    }


def sent_json(sent: Sent) -> dict[str, Any]:
    """`POST .../messages`: the message and whether LINE took it (why not, in Japanese)."""
    return {
        "message": message_json(sent.message),
        "accepted": sent.accepted,
        "via": sent.via,
        "reason": sent.reason,
    }


def closed_json(closed: Closed) -> dict[str, Any]:
    """`POST .../close`."""
    return {
        **summary_json(closed.summary),
        "closingMessageAccepted": closed.closing_message_accepted,
    }


def message_json(message: Message) -> dict[str, Any]:
    """One message of a transcript."""
    return {
        "messageId": message.message_id,
        "role": message.role.value,
        "kind": message.kind,
        "text": message.text,
        "at": message.at.isoformat(),
        "author": message.author,
        "sentBy": ("script" if message.script else "staff") if message.author else None,
        "delivery": message.delivery,
        "deliveryDetail": message.delivery_detail,
        "unsent": message.unsent,
    }


def handovers_json(session: Session) -> list[dict[str, Any]]:
    """Who handed the session to whom, with their notes (staff only)."""
    return [
        {
            "action": h.action.value,
            "by": h.by,
            "at": h.at.isoformat(),
            "from": h.from_,
            "to": h.to,
            "note": h.note,
        }
        for h in session.handovers
    ]
