"""How an expert's answer reaches LINE: as a free reply or as a counted push.

LINE's reply tokens are single use and valid for about a minute after the webhook event; the
desk uses one only within `REPLY_WINDOW` (50 s) of the user's latest message, leaving a margin
for the call itself. Otherwise the answer is pushed (pushes count against the monthly quota,
one count per request whatever the number of bubbles).

Answers LINE did not take (`failed`: LINE down past the retries, or the monthly limit) are
pending: the next delivery to the session carries them, oldest first, in the same reply or
push, up to LINE's five messages per call.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from shared.domain.messages import MAX_MESSAGES_PER_CALL
from shared.domain.sessions import Message, Role

REPLY_WINDOW = timedelta(seconds=50)
PENDING = "failed"


def reply_candidate(
    messages: Iterable[Message], now: datetime, window: timedelta = REPLY_WINDOW
) -> Message | None:
    """The user's latest message when its reply token is unused and young enough, else None.

    Only the latest message counts: LINE's token of an older one is past its time, or the
    desk answered it already."""
    latest: Message | None = None
    for message in messages:
        if message.role is Role.USER and (latest is None or _order(message) >= _order(latest)):
            latest = message
    if latest is None or latest.reply_token is None:
        return None
    return latest if timedelta(0) <= now - latest.at <= window else None


def pending_answers(messages: Iterable[Message], exclude: str, room: int) -> list[Message]:
    """Answers LINE has not taken yet (oldest first), at most `room` of them, without the
    message `exclude` (the one being sent now)."""
    waiting = [
        m
        for m in messages
        if m.role is Role.EXPERT and m.delivery == PENDING and m.message_id != exclude
    ]
    waiting.sort(key=_order)
    return waiting[: max(0, min(room, MAX_MESSAGES_PER_CALL - 1))]


def _order(message: Message) -> tuple[datetime, int, str]:
    return (message.at, message.position, message.message_id)
