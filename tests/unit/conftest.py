"""Unit fixtures: the desk wired over fakes; LINE events built by the simulator's user side."""

from __future__ import annotations

import json

import pytest

from devtools.linesim import BOT_USER_ID, LineSimulator, SimUser, sign
from shared.config import settings_from
from shared.services.line.webhook import WebhookResult
from shared.wiring import Desk, build_desk
from tests.kit.fakes import FakeAlerts, FakeClock, FakeMessenger, MemoryStore

SECRET = "unit-secret"
CURRENT = "2025-10-24"
AGREE = f"action=consent&version={CURRENT}&answer=yes"
DECLINE = f"action=consent&version={CURRENT}&answer=no"


@pytest.fixture
def sim(clock: FakeClock) -> LineSimulator:
    """The simulator's event builders only, on the test's clock; nothing is served."""
    return LineSimulator(SECRET, "token", event_clock=lambda: clock().timestamp())


@pytest.fixture
def store(clock: FakeClock) -> MemoryStore:
    return MemoryStore(clock)


@pytest.fixture
def line() -> FakeMessenger:
    return FakeMessenger()


@pytest.fixture
def alerts() -> FakeAlerts:
    """The supervisors' alert webhook (DESK_ALERT_WEBHOOK_URL), faked."""
    return FakeAlerts()


@pytest.fixture
def sleeps() -> list[float]:
    """Backoff delays the desk asked for (recorded, not slept)."""
    return []


@pytest.fixture
def desk(
    store: MemoryStore,
    line: FakeMessenger,
    clock: FakeClock,
    sleeps: list[float],
    alerts: FakeAlerts,
) -> Desk:
    settings = settings_from(
        {
            "DESK_ENVIRONMENT": "Development",
            "LINE_API_BASE_URL": "http://127.0.0.1:9",
            "LINE_CHANNEL_SECRET": SECRET,
            "DESK_POLICY_URL": "https://policy.example/desk",
        }
    )
    return build_desk(settings, store, line, clock, sleep=sleeps.append, alert_sender=alerts)


def deliver(desk: Desk, *events: dict[str, object]) -> WebhookResult:
    """Sign and hand one webhook call to the desk."""
    body = json.dumps({"destination": BOT_USER_ID, "events": list(events)}).encode()
    return desk.webhook.receive(body, sign(SECRET, body))


def consented(desk: Desk, sim: LineSimulator, line: FakeMessenger, name: str = "alice") -> SimUser:
    """A user who followed and agreed to the current version; what was sent is forgotten."""
    user = sim.user(name)
    deliver(desk, user.follow_event(), user.postback_event(AGREE))
    line.sent.clear()
    return user


def open_session(
    desk: Desk,
    sim: LineSimulator,
    line: FakeMessenger,
    name: str = "alice",
    topic: str = "job-change",
) -> SimUser:
    """A consented user with an open session on `topic`; what was sent is forgotten."""
    user = consented(desk, sim, line, name)
    deliver(desk, user.postback_event(f"action=topic&topic={topic}"))
    line.sent.clear()
    return user
