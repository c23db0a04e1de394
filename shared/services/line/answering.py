"""Sending the desk's answer to an event: reply when possible, push with a retry key otherwise."""

from __future__ import annotations

import logging
import uuid

from shared.domain.events import EventMeta
from shared.domain.messages import OutboundMessage, check_batch
from shared.errors import LineApiError, ReplyTokenRejected
from shared.ports import LineMessenger

log = logging.getLogger("desk.answering")

# Retry keys derive from the event id, so the answer to a redelivered event reuses the key of
# the first attempt and LINE refuses to send it twice (409).
_RETRY_KEY_NAMESPACE = uuid.UUID("6f1d7c52-2f44-4a53-9d54-0c7a3f5e8b21")


def retry_key_for(event_id: str, purpose: str = "answer") -> str:
    """The X-Line-Retry-Key for one answer to one event (a UUID, stable across redeliveries)."""
    return str(uuid.uuid5(_RETRY_KEY_NAMESPACE, f"{purpose}:{event_id}"))


class Answerer:
    """Answers events without ever answering a standby event or a group."""

    def __init__(self, messenger: LineMessenger) -> None:
        self._messenger = messenger

    def answer(self, meta: EventMeta, messages: tuple[OutboundMessage, ...]) -> str:
        """Deliver `messages` for `meta`; returns how: `reply`, `push` or `none`."""
        check_batch(messages)
        user_id = meta.source.user_id
        if meta.standby or not meta.source.is_one_to_one or user_id is None:
            return "none"
        # A redelivery answers by push: an earlier attempt may have pushed (and LINE taken it)
        # before failing, and only the push's retry key lets LINE refuse a second copy.
        if meta.reply_token and not meta.is_redelivery:
            try:
                self._messenger.reply(meta.reply_token, messages)
            except ReplyTokenRejected:
                log.info("reply token refused; falling back to push")
            except LineApiError as exc:
                # LINE did not take the reply (5xx, timeout): the push's retry key keeps a
                # second attempt, by us now or by LINE's redelivery, from sending twice.
                log.warning("reply failed (%s); falling back to push", exc.http_status)
            else:
                return "reply"
        self._messenger.push(user_id, messages, retry_key_for(meta.event_id))
        return "push"
