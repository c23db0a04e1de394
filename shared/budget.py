"""The time one HTTP call may take, and what is left of it for each store or LINE call.

LINE counts a webhook call not answered within 2 seconds as `request_timeout`, and an
operator's screen must not hang either. Each entry point runs its work `within` a budget
(DESK_WEBHOOK_BUDGET_MS, DESK_ADMIN_BUDGET_MS); the adapters ask `seconds_left` before each
call and use it as the call's timeout, so a store or LINE that does not answer ends the
call with a DependencyError (503: LINE redelivers) inside the budget instead of holding it.

The last `reserve` of the budget is kept for putting things back (releasing an event's
receipt so that the redelivery may take it): the work gets the budget less the reserve;
`closing()` opens the reserve to what runs inside it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from shared.errors import DependencyError

# What `closing()` may still use once the work's share is spent.
DEFAULT_RESERVE = 0.25


class OutOfTime(DependencyError):
    """The call's time budget is spent: what is left undone is left for a retry."""


@dataclass(frozen=True)
class _Budget:
    work_until: float  # time.monotonic()
    hard_until: float
    closing: bool = False

    @property
    def until(self) -> float:
        return self.hard_until if self.closing else self.work_until


_current: ContextVar[_Budget | None] = ContextVar("desk_budget", default=None)


@contextmanager
def within(seconds: float, reserve: float = DEFAULT_RESERVE) -> Iterator[None]:
    """Run the block with `seconds` to spend (the last `reserve` only for `closing()`)."""
    now = time.monotonic()
    reserve = min(reserve, seconds / 4)
    token = _current.set(_Budget(now + seconds - reserve, now + seconds))
    try:
        yield
    finally:
        _current.reset(token)


@contextmanager
def closing() -> Iterator[None]:
    """Run the block on the budget's reserve (putting back what a failed call claimed)."""
    budget = _current.get()
    if budget is None:
        yield
        return
    token = _current.set(_Budget(budget.work_until, budget.hard_until, closing=True))
    try:
        yield
    finally:
        _current.reset(token)


def seconds_left(cap: float) -> float:
    """The timeout for the next store or LINE call: `cap`, or less when the budget ends
    sooner. OutOfTime when nothing is left (outside any budget: `cap`, as timers run)."""
    budget = _current.get()
    if budget is None:
        return cap
    left = budget.until - time.monotonic()
    if left <= 0:
        raise OutOfTime("the call's time budget is spent")
    return min(cap, left)
