"""A value kept in one instance's memory for a bounded time, and what an operator's change
waits for so that every instance acts on it once it is answered.

Several instances serve the desk, each with its own memory. What every event reads (the
service status, the closed days, the policy versions) is kept for `seconds` per instance, so
that reading it costs no store operation per event. An operator's change to it is written,
and then its answer waits until every instance has read it again and every webhook call that
began before the write has ended (`Settle`): after the 2xx, no instance acts on the old value.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


class Cached(Generic[T]):
    """One value, loaded at most once per `seconds` (on the `tick` clock, in seconds)."""

    def __init__(self, seconds: float, tick: Callable[[], float]) -> None:
        self._seconds = seconds
        self._tick = tick
        self._lock = threading.Lock()
        self._value: T | None = None
        self._loaded_at = 0.0

    def get(self, load: Callable[[], T], *, fresh: bool = False) -> T:
        """The kept value, or `load()`'s when it is older than `seconds` (or `fresh`). A clock
        that went back also reloads: a value is never kept longer than `seconds`."""
        with self._lock:
            now = self._tick()
            age = now - self._loaded_at
            if fresh or self._value is None or age >= self._seconds or age < 0:
                self._value = load()
                self._loaded_at = now
            return self._value

    def forget(self) -> None:
        """This instance changed the value: read it again next time."""
        with self._lock:
            self._value = None


@dataclass(frozen=True)
class Settle:
    """Waits, after an operator's change is written, for the other instances: `cache_seconds`
    for their kept copies to expire, then `in_flight_seconds` for the webhook calls that read
    the old value to end (their time budget). With no cache (one instance) nothing waits."""

    cache_seconds: float
    in_flight_seconds: float
    sleep: Callable[[float], None]

    @property
    def seconds(self) -> float:
        """How long a change's answer waits."""
        return self.cache_seconds + self.in_flight_seconds if self.cache_seconds > 0 else 0.0

    def __call__(self) -> None:
        if self.seconds > 0:
            self.sleep(self.seconds)


NO_WAIT = Settle(0.0, 0.0, lambda _: None)
