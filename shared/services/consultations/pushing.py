"""Sending to a user outside the webhook (experts' answers, closing notices).

`deliver` replies with a reply token the caller found still usable (free) and falls back to a
push when LINE refuses the token or the reply fails.

Pushes carry an `X-Line-Retry-Key`, so retrying is safe: LINE answers 409 to a key it has
already accepted. 429 and 5xx (and no answer at all) are retried with exponential backoff
(honouring Retry-After), within a bounded number of attempts and seconds; other 4xx are final.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from shared.budget import OutOfTime, seconds_left
from shared.domain.messages import OutboundMessage
from shared.errors import LineApiError, MonthlyLimitReached, ReplyTokenRejected
from shared.ports import LineMessenger

log = logging.getLogger("desk.pushing")


@dataclass(frozen=True)
class PushResult:
    """Whether LINE took the push, after how many attempts, and its last refusal."""

    accepted: bool
    attempts: int
    http_status: int | None = None
    via: str = "push"
    """`reply` (free) or `push` (counted against the monthly quota)."""
    monthly_limit: bool = False
    """LINE refused the push: the channel's monthly limit is reached."""

    @property
    def detail(self) -> str:
        """`accepted`, or what the last failure was (for the message's delivery record)."""
        if self.accepted:
            return "accepted"
        if self.monthly_limit:
            return "HTTP 429 monthly limit"
        return f"HTTP {self.http_status}" if self.http_status else "no answer from LINE"


class Pusher:
    """Push with bounded retries."""

    def __init__(
        self,
        messenger: LineMessenger,
        *,
        attempts: int = 4,
        backoff_seconds: float = 0.5,
        max_wait_seconds: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._messenger = messenger
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._max_wait = max_wait_seconds
        self._sleep = sleep

    def deliver(
        self,
        user_id: str,
        messages: tuple[OutboundMessage, ...],
        retry_key: str,
        reply_token: str | None = None,
    ) -> PushResult:
        """Reply with `reply_token` when given (free); push when there is none, or LINE
        refuses the token or the reply fails (a reply that timed out after LINE took it may
        then arrive twice: the one at-least-once case)."""
        if reply_token is not None:
            try:
                self._messenger.reply(reply_token, messages)
            except ReplyTokenRejected:
                log.info("reply token refused; pushing instead")
            except LineApiError as exc:
                log.warning("reply failed (%s); pushing instead", exc.http_status)
            else:
                return PushResult(True, 1, via="reply")
        return self.push(user_id, messages, retry_key)

    def push(
        self, user_id: str, messages: tuple[OutboundMessage, ...], retry_key: str
    ) -> PushResult:
        """Push, retrying what may succeed later; never raises for LINE's refusals."""
        waited = 0.0
        for attempt in range(1, self._attempts + 1):
            try:
                self._messenger.push(user_id, messages, retry_key)
            except MonthlyLimitReached:
                # The alert on LINE's quota keys on this line: nothing was sent.
                log.error("push refused: LINE monthly limit reached attempts=%d", attempt)
                return PushResult(False, attempt, 429, monthly_limit=True)
            except LineApiError as exc:
                # LINE's Retry-After is a floor: never retry sooner than it asks. A wait that
                # would overrun the bound ends the retries instead.
                delay = max(exc.retry_after or 0.0, self._backoff * 2 ** (attempt - 1))
                last_try = (
                    attempt == self._attempts
                    or waited + delay > self._max_wait
                    or delay >= _budget_left(delay)
                )
                if not exc.retryable or last_try:
                    log.warning("push failed attempts=%d status=%s", attempt, exc.http_status)
                    return PushResult(False, attempt, exc.http_status)
                self._sleep(delay)
                waited += delay
            else:
                return PushResult(True, attempt)
        raise AssertionError("unreachable: the loop returns on its last attempt")


def _budget_left(cap: float) -> float:
    """What is left of the call's budget (up to `cap`): a wait that would spend it is no
    retry, since the retried call would have no time to run."""
    try:
        return seconds_left(cap + 1.0)
    except OutOfTime:
        return 0.0
