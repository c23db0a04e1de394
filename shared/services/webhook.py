"""Handling one webhook call from LINE: verify, parse, deduplicate, dispatch, in order.

An event is either completed or released: when its handler fails, its receipt is deleted and
the call answers 503, so LINE redelivers it and the redelivery is handled afresh. Answers to
a redelivered event reuse the first attempt's push retry key, so the user never gets the same
answer twice. Later events of a user whose event failed are left for the redelivery too,
so one user's events are always handled in the order they were sent.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from shared.domain.events import Event
from shared.domain.privacy import pseudonym
from shared.errors import DeskError
from shared.logsafe import describe
from shared.services.conversation import Conversation
from shared.services.ports import EventDecoder
from shared.services.records import EventReceipts

log = logging.getLogger("desk.webhook")


@dataclass
class WebhookResult:
    """Counts of what happened to the events of one call; `failed` > 0 means "redeliver"."""

    counts: Counter[str] = field(default_factory=Counter)

    @property
    def failed(self) -> int:
        """Events left for LINE to redeliver."""
        return self.counts["failed"] + self.counts["deferred"]


class WebhookService:
    """The use case behind `POST /api/line/webhook`."""

    def __init__(
        self,
        decoder: EventDecoder,
        receipts: EventReceipts,
        conversation: Conversation,
        hash_key: str,
    ) -> None:
        self._decoder = decoder
        self._receipts = receipts
        self._conversation = conversation
        self._hash_key = hash_key

    def receive(self, body: bytes, signature: str | None) -> WebhookResult:
        """Handle one call; raises SignatureError or MalformedPayload before anything is stored."""
        events = self._decoder.decode(body, signature)
        result = WebhookResult()
        failed_partitions: set[str] = set()
        for event in events:
            outcome = self._handle(event, failed_partitions)
            result.counts[outcome] += 1
            if outcome == "failed":
                failed_partitions.add(event.meta.source.partition)
        log.info(
            "webhook events=%d %s",
            len(events),
            " ".join(f"{k}={v}" for k, v in sorted(result.counts.items())),
        )
        return result

    def _handle(self, event: Event, failed_partitions: set[str]) -> str:
        meta = event.meta
        if not meta.source.is_one_to_one:
            return "not_one_to_one"
        handler = self._conversation.handler_for(event)
        if handler is None:
            return "unknown"
        if meta.source.partition in failed_partitions:
            return "deferred"
        if not self._receipts.claim(meta):
            return "duplicate"
        try:
            handler(event)
        except Exception as exc:
            self._release_after(exc, event)
            return "failed"
        return "standby" if meta.standby else "handled"

    def _release_after(self, exc: Exception, event: Event) -> None:
        log.warning(
            "event failed type=%s user=%s error=%s",
            event.meta.event_type,
            pseudonym(self._hash_key, event.meta.source.partition),
            describe(exc),
        )
        try:
            self._receipts.release(event.meta)
        except DeskError as release_exc:
            # The receipt stays; the redelivery will be taken for a duplicate. Rare (the store
            # failed twice in a row) and logged so operators can see it.
            log.error("event receipt not released error=%s", type(release_exc).__name__)
