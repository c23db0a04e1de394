"""One webhook event's claim on its receipt, and what became of the event."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from shared.domain.events import EventMeta
from shared.repositories.user_records import Claim, EventReceipts


class EventOutcome(StrEnum):
    """What happened to one event of a webhook call (counted in the call's log line)."""

    HANDLED = "handled"
    STANDBY = "standby"  # recorded, never answered (another channel has the chat)
    DUPLICATE = "duplicate"  # handled before: a redelivery
    IN_PROGRESS = "in_progress"  # another attempt holds it: LINE retries later
    EXPIRED = "expired"  # older than the deduplication window
    ERASED = "erased"  # sent before the user's data was erased
    NOT_ONE_TO_ONE = "not_one_to_one"  # a group or a room
    UNKNOWN = "unknown"  # a type the desk does not act on
    DEFERRED = "deferred"  # an earlier event of the same user failed in this call
    FAILED = "failed"  # a dependency failed: LINE redelivers
    UNDELIVERABLE = "undeliverable"  # LINE refused the answer for good
    ERROR = "error"  # a bug: completed as failed, never retried
    UNREADABLE = "unreadable"  # could not be parsed
    BAD_USER_ID = "bad_user_id"  # a userId not of LINE's form
    FOREIGN = "foreign"  # addressed to another channel's bot


class Ticket:
    """One event's claim on its receipt, taken only when its handler needs one.

    Handlers whose every write is keyed by the event (a message filed under `msg:{eventId}`)
    need no receipt: the write itself refuses a redelivery. Handlers that answer or change
    state claim first; a refused claim tells them to do nothing (`result` says why).
    """

    def __init__(self, meta: EventMeta, receipts: EventReceipts) -> None:
        self.meta = meta
        self._receipts = receipts
        self.claimed = False
        self.forgotten = False
        self.result: EventOutcome | None = None
        self.undo: Callable[[], None] | None = None
        """What to take back if this attempt fails (its count against the flood limits)."""

    def claim(self) -> bool:
        """True if this attempt may act on the event."""
        if self.claimed:
            return True
        outcome = self._receipts.claim(self.meta)
        if outcome is Claim.CLAIMED:
            self.claimed = True
            return True
        self.result = EventOutcome(outcome.value)
        return False

    def duplicate(self) -> None:
        """The handler's own idempotent write found the event already handled."""
        self.result = EventOutcome.DUPLICATE

    def forget(self) -> None:
        """The claimed receipt is gone with the user's data: neither complete nor release it."""
        self.claimed = False
        self.forgotten = True
