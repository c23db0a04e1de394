"""Handling one webhook call from LINE: verify, parse, deduplicate, dispatch, in order.

Before any event is handled, the call must be addressed to this channel's bot (`destination`)
and each event must be younger than the deduplication window (`DESK_EVENT_TTL_SECONDS`):
an older one may be a replay whose receipt has expired, so it changes nothing. Both are
skipped and counted.

An event is completed or released. When a dependency fails (the store, LINE, the network:
a `DependencyError`, or a lost optimistic-concurrency race), its receipt is deleted and the
call answers 503, so LINE redelivers it and the redelivery is handled afresh. Answers to a
redelivered event reuse the first attempt's push retry key, so the user never gets the same
answer twice. Later events of a user whose event failed are left for the redelivery too, so
one user's events are always handled in the order they were sent.

Any other exception is a bug: redelivering the event would fail the same way for ever. It is
logged with the event's keyed reference, the event is completed as failed (its receipt is
`done` with the result `failed`, counted as `error`) and the call goes on with the others.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.budget import closing
from shared.domain.events import Event, EventMeta
from shared.domain.privacy import pseudonym
from shared.errors import DependencyError, DeskError, LineApiError, PreconditionFailed
from shared.logsafe import describe
from shared.ports import Clock, EventDecoder
from shared.repositories.user_records import EventReceipts
from shared.services.line.conversation import Conversation
from shared.services.line.ticket import EventOutcome, Ticket

log = logging.getLogger("desk.webhook")


@dataclass
class WebhookResult:
    """Counts of what happened to the events of one call; `failed` > 0 means "redeliver"."""

    counts: Counter[EventOutcome] = field(default_factory=Counter)

    @property
    def failed(self) -> int:
        """Events left for LINE to redeliver."""
        return (
            self.counts[EventOutcome.FAILED]
            + self.counts[EventOutcome.DEFERRED]
            + self.counts[EventOutcome.IN_PROGRESS]
        )


class WebhookService:
    """The use case behind `POST /api/line/webhook`."""

    def __init__(
        self,
        decoder: EventDecoder,
        receipts: EventReceipts,
        conversation: Conversation,
        hash_key: str,
        *,
        bot_user_id: Callable[[], str],
        event_ttl_seconds: int,
        clock: Clock,
    ) -> None:
        self._decoder = decoder
        self._receipts = receipts
        self._conversation = conversation
        self._hash_key = hash_key
        self._bot_user_id = bot_user_id
        self._window_ms = event_ttl_seconds * 1000
        self._clock = clock

    def receive(self, body: bytes, signature: str | None) -> WebhookResult:
        """Handle one call; raises SignatureError or MalformedPayload before anything is stored."""
        decoded = self._decoder.decode(body, signature)
        events = decoded.events
        result = WebhookResult()
        for reason, count in (
            (EventOutcome.UNREADABLE, decoded.unreadable),
            (EventOutcome.BAD_USER_ID, decoded.bad_user_id),
        ):
            if count:
                result.counts[reason] = count
        # The bot's id is looked up only when there is something to act on (a verify request
        # has no events), once per process.
        if events and decoded.destination != self._bot_user_id():
            result.counts[EventOutcome.FOREIGN] = len(events)
            events = []
        oldest_ms = int(self._clock().timestamp() * 1000) - self._window_ms
        failed_partitions: set[str] = set()
        for event in events:
            outcome = self._handle(event, failed_partitions, oldest_ms)
            result.counts[outcome] += 1
            if outcome is EventOutcome.FAILED:
                failed_partitions.add(event.meta.source.partition)
        if log.isEnabledFor(logging.INFO):
            outcomes = " ".join(f"{k}={v}" for k, v in sorted(result.counts.items()))
            log.info("webhook events=%d %s", result.counts.total(), outcomes)
        return result

    def _handle(self, event: Event, failed_partitions: set[str], oldest_ms: int) -> EventOutcome:
        meta = event.meta
        if meta.timestamp_ms < oldest_ms:
            # Older than the receipts are kept: a redelivery could no longer be told from a
            # replay, so the event changes nothing.
            return EventOutcome.EXPIRED
        if not meta.source.is_one_to_one:
            return EventOutcome.NOT_ONE_TO_ONE
        if not self._conversation.handles(event):
            return EventOutcome.UNKNOWN
        if meta.source.partition in failed_partitions:
            return EventOutcome.DEFERRED
        ticket = Ticket(meta, self._receipts)
        if meta.standby and not ticket.claim():  # standby events are recorded, never answered
            return ticket.result or EventOutcome.DUPLICATE
        return self._run(event, ticket)

    def _run(self, event: Event, ticket: Ticket) -> EventOutcome:
        """Run the handler; complete the receipt it claimed, or release it for redelivery."""
        try:
            self._conversation.handle(event, ticket)
        except LineApiError as exc:
            if exc.retryable:
                self._release_after(exc, ticket)
                return EventOutcome.FAILED
            # LINE will refuse this answer however often it is retried: the event's other
            # effects are done, so it is complete, and a redelivery would change nothing.
            self._log_failure("event undeliverable", exc, event.meta)
            outcome = EventOutcome.UNDELIVERABLE
        except (DependencyError, PreconditionFailed) as exc:
            # The store or the network failed, or a concurrent write won a race: the
            # redelivery reads the state afresh and may well succeed.
            self._release_after(exc, ticket)
            return EventOutcome.FAILED
        except Exception as exc:  # a bug: contained to its event, never retried
            self._log_failure("event error", exc, event.meta)
            if not ticket.forgotten:  # an erased user's receipt would store their id again
                self._complete(ticket, result=EventOutcome.FAILED)
            return EventOutcome.ERROR
        else:
            if ticket.result is EventOutcome.DUPLICATE:
                self._take_back(ticket)  # handled before: counted then, not again
            if ticket.result is not None:
                return ticket.result
            outcome = EventOutcome.STANDBY if event.meta.standby else EventOutcome.HANDLED
        if ticket.claimed:
            self._complete(ticket)
        return outcome

    def _complete(self, ticket: Ticket, result: EventOutcome | None = None) -> None:
        # The answer is out: asking LINE to redeliver would risk sending it twice, so a
        # failing write is tried again (store faults are mostly brief). Should it still fail,
        # the receipt stays pending; once its lease expires a redelivery would run the event
        # again, one of the two ways an answer can go out twice (README, "Operations").
        for attempt in range(3):
            try:
                with closing():  # on the budget's reserve
                    self._receipts.complete(ticket.meta, result)
            except DeskError as exc:
                if attempt == 2:
                    self._log_failure("event receipt not completed", exc, ticket.meta)
            else:
                return

    def _log_failure(self, what: str, exc: Exception, meta: EventMeta) -> None:
        log.warning(
            "%s type=%s event=%s user=%s error=%s",
            what,
            meta.event_type,
            pseudonym(self._hash_key, f"event:{meta.event_id}"),
            pseudonym(self._hash_key, meta.source.partition),
            describe(exc),
        )

    def _take_back(self, ticket: Ticket) -> None:
        """Undo what this attempt counted against the flood limits (best effort)."""
        if ticket.undo is None:
            return
        try:
            with closing():  # on the budget's reserve, as the receipt's release
                ticket.undo()
        except DeskError as exc:  # counted twice: one message less in the user's window
            self._log_failure("event count not taken back", exc, ticket.meta)

    def _release_after(self, exc: Exception, ticket: Ticket) -> None:
        self._log_failure("event failed", exc, ticket.meta)
        self._take_back(ticket)  # the redelivery counts it instead
        if not ticket.claimed:
            return  # nothing was claimed: the handler's own writes refuse a redelivery's repeat
        try:
            with closing():  # on the budget's reserve, so that the redelivery finds it free
                self._receipts.release(ticket.meta)
        except DeskError as release_exc:
            # The pending receipt stays until its lease expires; a redelivery after that takes
            # the event over, so it is late but not lost.
            self._log_failure("event receipt not released", release_exc, ticket.meta)
