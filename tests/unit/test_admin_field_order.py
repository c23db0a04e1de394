"""With several things wrong in one admin request, the answer names the one the API always
named first: the caller's `operator`, then the body's fields in the order they are read."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

import pytest

from shared.config import settings_from
from shared.wiring import Desk, build_desk, install_desk, reset_desk
from tests.kit.admin_api import api
from tests.kit.app import desk_host
from tests.kit.fakes import FakeClock, FakeMessenger, MemoryStore
from tests.unit.conftest import SECRET, open_session

KEY = {"x-functions-key": "test-function-key", "Content-Type": "application/json"}


ENV = {
    "DESK_ENVIRONMENT": "Development",
    "LINE_API_BASE_URL": "http://127.0.0.1:9",  # local development: placeholders allowed
    "LINE_CHANNEL_SECRET": SECRET,
    "WEBSITE_AUTH_ENABLED": "false",
    "DESK_REQUIRE_APP_ROLES": "false",  # a key-only caller, who names an operator
}


@pytest.fixture
def desk(
    store: MemoryStore, line: FakeMessenger, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Desk]:
    for name, value in ENV.items():  # the admin functions read the settings themselves
        monkeypatch.setenv(name, value)
    settings = settings_from(ENV)
    built = build_desk(settings, store, line, clock, sleep=lambda _: None)
    install_desk(built)
    yield built
    reset_desk()


def refused_field(method: str, path: str, body: Mapping[str, object]) -> str | None:
    status, _, answer = desk_host().handle(method, path, KEY, json.dumps(body).encode())
    assert status == 400, answer
    field: str | None = json.loads(answer)["error"].get("field")
    return field


def test_a_missing_operator_is_named_before_a_bad_body(desk: Desk, sim, line) -> None:
    user = open_session(desk, sim, line).user_id
    assert refused_field("POST", f"/api/admin/users/{user}/restrict", {"mode": "x"}) == "operator"
    assert refused_field("POST", f"/api/admin/users/{user}/suspend", {"clause": "x"}) == "operator"
    bad = {"operator": 5, "versionId": "!!"}
    assert refused_field("POST", "/api/admin/policies", bad) == "operator"
    assert refused_field("PUT", "/api/admin/service", {"operator": 5, "state": "x"}) == "operator"


def test_a_restriction_s_days_are_named_before_its_limits(desk: Desk, sim, line) -> None:
    user = open_session(desk, sim, line).user_id
    body = {"operator": "運用者A", "mode": "lower_limit", "days": 0}
    assert refused_field("POST", f"/api/admin/users/{user}/restrict", body) == "days"


def test_a_long_status_message_is_named_before_its_times(desk: Desk) -> None:
    body = {"operator": "運用者A", "state": "open", "message": "x" * 600, "until": "nope"}
    assert refused_field("PUT", "/api/admin/service", body) == "message"


def test_a_closing_names_its_outcome_before_a_malformed_referral(desk: Desk, sim, line) -> None:
    open_session(desk, sim, line)
    session_id = api(desk).experts.queue("waiting", None, 5)["sessions"][0]["sessionId"]
    path = f"/api/admin/sessions/{session_id}/close"
    both = {"operator": "相談員A", "outcome": "bogus", "referral": 5}
    assert refused_field("POST", path, both) == "outcome"
    assert refused_field("POST", path, {**both, "outcome": "助言"}) == "referral"
