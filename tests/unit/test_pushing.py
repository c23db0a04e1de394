"""Pushes retry what may succeed later, within bounds, and never what cannot."""

from __future__ import annotations

from typing import TypedDict, Unpack

from shared.domain.messages import TextMessage
from shared.errors import LineApiError
from shared.services.pushing import Pusher
from tests.kit.fakes import FakeMessenger, line_down

HELLO = (TextMessage("こんにちは"),)


class Bounds(TypedDict, total=False):
    attempts: int
    max_wait_seconds: float


def pusher(line: FakeMessenger, sleeps: list[float], **options: Unpack[Bounds]) -> Pusher:
    return Pusher(line, sleep=sleeps.append, **options)


def test_a_push_line_accepts_at_once_sleeps_not() -> None:
    line, sleeps = FakeMessenger(), list[float]()
    result = pusher(line, sleeps).push("U1", HELLO, "k")
    assert (result.accepted, result.attempts, sleeps) == (True, 1, [])


def test_throttling_and_outages_back_off_exponentially() -> None:
    line, sleeps = FakeMessenger(push_failures=[line_down(429), line_down(503)]), list[float]()
    result = pusher(line, sleeps).push("U1", HELLO, "k")
    assert (result.accepted, result.attempts, sleeps) == (True, 3, [0.5, 1.0])


def test_retry_after_is_honoured() -> None:
    throttled = LineApiError("slow down", http_status=429, retry_after=2.0)
    line, sleeps = FakeMessenger(push_failures=[throttled]), list[float]()
    assert pusher(line, sleeps).push("U1", HELLO, "k").accepted
    assert sleeps == [2.0]


def test_a_final_refusal_is_not_retried() -> None:
    line, sleeps = FakeMessenger(push_failures=[line_down(400)]), list[float]()
    result = pusher(line, sleeps).push("U1", HELLO, "k")
    assert (result.accepted, result.attempts, result.detail, sleeps) == (False, 1, "HTTP 400", [])


def test_retries_stop_at_the_time_bound() -> None:
    line, sleeps = FakeMessenger(push_failures=[line_down(500)] * 9), list[float]()
    result = pusher(line, sleeps, attempts=9, max_wait_seconds=3.0).push("U1", HELLO, "k")
    assert not result.accepted
    assert sum(sleeps) <= 3.0
    assert sleeps == [0.5, 1.0]


def test_retry_after_is_a_floor_under_the_backoff() -> None:
    throttled = LineApiError("slow down", http_status=429, retry_after=0.1)
    line, sleeps = FakeMessenger(push_failures=[throttled]), list[float]()
    assert pusher(line, sleeps).push("U1", HELLO, "k").accepted
    assert sleeps == [0.5]


def test_a_retry_after_beyond_the_bound_ends_the_retries() -> None:
    throttled = LineApiError("slow down", http_status=429, retry_after=30.0)
    line, sleeps = FakeMessenger(push_failures=[throttled]), list[float]()
    result = pusher(line, sleeps).push("U1", HELLO, "k")
    assert (result.accepted, result.attempts, result.detail, sleeps) == (False, 1, "HTTP 429", [])
    assert line.sent == []
