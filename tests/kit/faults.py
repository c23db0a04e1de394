"""Fault injection for the test kit: a store wrapper and a LINE wrapper that fail a chosen
share of calls, the way Cosmos DB and LINE fail.

- throttling (429 with a retry-after) and unavailability (503): the call was not processed;
- timeouts and connection resets: the call may or may not have been processed, so half of
  them are injected *after* the real call (the write happened, the caller hears an error).

Both wrap any implementation of their port (the SQLite or Cosmos store, the fake messenger or
the real LINE client), so the same schedules run against every back end.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.domain.messages import OutboundMessage
from shared.errors import LineApiError, StoreUnavailable

KINDS = ("429", "503", "timeout", "reset")


@dataclass
class Schedule:
    """Which calls fail: a share of them, drawn from a seeded generator, while `active`."""

    share: float
    seed: int
    active: bool = True
    injected: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def draw(self, operation: str) -> tuple[str, bool] | None:
        """None, or (kind, after): fail this call with `kind`, before or after doing it."""
        if not self.active or self._random.random() >= self.share:
            return None
        kind = self._random.choice(KINDS)
        after = kind in ("timeout", "reset") and self._random.random() < 0.5
        self.injected.append(f"{operation}:{kind}:{'after' if after else 'before'}")
        return kind, after


class FaultyStore:
    """A DocumentStore that fails as the schedule says, around a real one. `spare` names calls
    never to fail (a test that studies one failure mode keeps another out)."""

    def __init__(
        self,
        inner: Any,
        schedule: Schedule,
        spare: Callable[[str, tuple[Any, ...]], bool] = lambda name, args: False,
    ) -> None:
        self.inner = inner
        self.schedule = schedule
        self.spare = spare

    def __getattr__(self, name: str) -> Callable[..., Any]:
        operation = getattr(self.inner, name)

        def faulty(*args: Any, **kwargs: Any) -> Any:
            fault = None if self.spare(name, args) else self.schedule.draw(name)
            if fault is None:
                return operation(*args, **kwargs)
            kind, after = fault
            if after:
                operation(*args, **kwargs)
            raise StoreUnavailable(f"injected {kind}")

        return faulty


class FaultyMessenger:
    """A LineMessenger that fails as the schedule says. Replies fail only before being sent:
    a reply that times out after LINE took it is the one case the desk answers at least once
    (see README), so it is kept out of exactly-once checks."""

    def __init__(self, inner: Any, schedule: Schedule) -> None:
        self.inner = inner
        self.schedule = schedule

    def reply(self, reply_token: str, messages: tuple[OutboundMessage, ...]) -> None:
        fault = self.schedule.draw("reply")
        if fault is not None:
            raise _line_error(fault[0])
        self.inner.reply(reply_token, messages)

    def show_loading(self, user_id: str, seconds: int) -> None:
        self.inner.show_loading(user_id, seconds)

    def push(self, user_id: str, messages: tuple[OutboundMessage, ...], retry_key: str) -> None:
        fault = self.schedule.draw("push")
        if fault is None:
            self.inner.push(user_id, messages, retry_key)
            return
        kind, after = fault
        if after:
            self.inner.push(user_id, messages, retry_key)
        raise _line_error(kind)

    def bot_user_id(self) -> str:
        return str(self.inner.bot_user_id())


def _line_error(kind: str) -> LineApiError:
    if kind == "429":
        return LineApiError("injected 429", http_status=429, retry_after=1.0)
    if kind == "503":
        return LineApiError("injected 503", http_status=503)
    return LineApiError(f"injected {kind}")
