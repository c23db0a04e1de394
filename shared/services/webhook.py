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

from shared.domain.events import Event, EventMeta
from shared.domain.privacy import pseudonym
from shared.errors import DeskError, LineApiError
from shared.logsafe import describe
from shared.services.conversation import Conversation, Handler
from shared.services.ports import EventDecoder
from shared.services.records import EventReceipts, Ticket

log = logging.getLogger("desk.webhook")


@dataclass
class WebhookResult:
    """Counts of what happened to the events of one call; `failed` > 0 means "redeliver"."""

    counts: Counter[str] = field(default_factory=Counter)

    @property
    def failed(self) -> int:
        """Events left for LINE to redeliver."""
        return self.counts["failed"] + self.counts["deferred"] + self.counts["in_progress"]


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
        decoded = self._decoder.decode(body, signature)
        events = decoded.events
        result = WebhookResult()
        if decoded.unreadable:
            result.counts["unreadable"] = decoded.unreadable
        failed_partitions: set[str] = set()
        for event in events:
            outcome = self._handle(event, failed_partitions)
            result.counts[outcome] += 1
            if outcome == "failed":
                failed_partitions.add(event.meta.source.partition)
        if log.isEnabledFor(logging.INFO):
            outcomes = " ".join(f"{k}={v}" for k, v in sorted(result.counts.items()))
            log.info("webhook events=%d %s", len(events) + decoded.unreadable, outcomes)
        return result

    def _handle(self, event: Event, failed_partitions: set[str]) -> str:
        meta = event.meta
        handler = self._conversation.handler_for(event)
        if not meta.source.is_one_to_one:
            return "not_one_to_one"
        if handler is None:
            return "unknown"
        if meta.source.partition in failed_partitions:
            return "deferred"
        ticket = Ticket(meta, self._receipts)
        if meta.standby and not ticket.claim():  # standby events are recorded, never answered
            return ticket.result or "duplicate"
        return self._run(event, handler, ticket)

    def _run(self, event: Event, handler: Handler, ticket: Ticket) -> str:
        """Run the handler; complete the receipt it claimed, or release it for redelivery."""
        try:
            handler(event, ticket)
        except LineApiError as exc:
            if exc.retryable:
                self._release_after(exc, ticket)
                return "failed"
            # LINE will refuse this answer however often it is retried: the event's other
            # effects are done, so it is complete, and a redelivery would change nothing.
            self._log_failure("event undeliverable", exc, event.meta)
            outcome = "undeliverable"
        except Exception as exc:
            self._release_after(exc, ticket)
            return "failed"
        else:
            if ticket.result is not None:
                return ticket.result
            outcome = "standby" if event.meta.standby else "handled"
        if ticket.claimed:
            self._complete(ticket)
        return outcome

    def _complete(self, ticket: Ticket) -> None:
        # The answer is out: asking LINE to redeliver would risk sending it twice, so a
        # failing write is tried again (store faults are mostly brief). Should it still fail,
        # the receipt stays pending; once its lease expires a redelivery would run the event
        # again, one of the two ways an answer can go out twice (README, "Operations").
        for attempt in range(3):
            try:
                self._receipts.complete(ticket.meta)
            except DeskError as exc:
                if attempt == 2:
                    self._log_failure("event receipt not completed", exc, ticket.meta)
            else:
                return

    def _log_failure(self, what: str, exc: Exception, meta: EventMeta) -> None:
        log.warning(
            "%s type=%s user=%s error=%s",
            what,
            meta.event_type,
            pseudonym(self._hash_key, meta.source.partition),
            describe(exc),
        )

    def _release_after(self, exc: Exception, ticket: Ticket) -> None:
        self._log_failure("event failed", exc, ticket.meta)
        if not ticket.claimed:
            return  # nothing was claimed: the handler's own writes refuse a redelivery's repeat
        try:
            self._receipts.release(ticket.meta)
        except DeskError as release_exc:
            # The pending receipt stays until its lease expires; a redelivery after that takes
            # the event over, so it is late but not lost.
            self._log_failure("event receipt not released", release_exc, ticket.meta)
