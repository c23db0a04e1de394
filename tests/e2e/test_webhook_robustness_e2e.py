"""The webhook under events it must not act on, a bug in one event, and LINE's own limits.

The host serves `tests.e2e.buggy_app`: the desk with one bug wired into its store (writing a
message whose text is `BUG_TEXT` raises a plain RuntimeError), so the failure semantics of a
bug can be seen through the HTTP surface.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devtools.linesim import SimUser
from shared.texts.catalogue import load_catalogue
from tests.e2e.conftest import AGREE, RunningDesk

pytestmark = pytest.mark.e2e
TEXTS = load_catalogue()
DESK_APP = "tests.e2e.buggy_app"
TTL_SECONDS = 3600
BUG_TEXT = "この文でバグが起きます"
HOST_ENV = {"DESK_EVENT_TTL_SECONDS": str(TTL_SECONDS), "E2E_BUG_TEXT": BUG_TEXT}


def in_session(desk: RunningDesk, name: str) -> SimUser:
    user = desk.consented_user(name)
    user.postback("action=topic&topic=career")
    desk.sim.clear_inbox(user.user_id)
    return user


def messages_of(desk: RunningDesk, user_id: str) -> list[str | None]:
    return [
        d.get("text")
        for d in desk.documents()
        if d.get("type") == "message" and d.get("userId") == user_id
    ]


def counts_logged(desk: RunningDesk) -> dict[str, int]:
    """The outcome counts of the last webhook call, from its summary log line."""
    (*_, line) = [
        line for line in desk.log.read_text("utf-8").splitlines() if "webhook events=" in line
    ]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line.split("webhook ", 1)[1])}


def post(desk: RunningDesk, events: list[dict[str, Any]], **body: Any) -> int:
    """Post events in one signed call; `body` overrides top-level fields (`destination`)."""
    payload = {"destination": desk.sim.bot_user_id, "events": events, **body}
    raw = json.dumps(payload, ensure_ascii=True).encode()  # \\u escapes: lone surrogates pass
    return desk.sim.post_events(events, body=raw).status


def user_docs(desk: RunningDesk, user_id: str) -> list[dict[str, Any]]:
    return [d for d in desk.documents() if user_id in json.dumps(d, ensure_ascii=False)]


# -- issue 10: only dependency failures are retried ------------------------------------------


def test_a_bug_in_one_event_fails_that_event_alone_and_is_not_redelivered(
    desk: RunningDesk,
) -> None:
    alice, bob = in_session(desk, "bug-alice"), in_session(desk, "bug-bob")
    buggy = alice.text_event(BUG_TEXT)
    events = [
        alice.text_event("前の文"),
        buggy,
        alice.text_event("後の文"),
        bob.text_event("別の人"),
    ]
    delivery = alice.send(*events)
    assert delivery.status == 200  # not 503: LINE would redeliver the same bug for ever
    assert messages_of(desk, alice.user_id) == ["前の文", "後の文"]
    assert messages_of(desk, bob.user_id) == ["別の人"]
    assert counts_logged(desk)["error"] == 1
    (receipt,) = [d for d in desk.documents() if d["id"] == f"event:{buggy['webhookEventId']}"]
    assert (receipt["status"], receipt["result"]) == ("done", "failed")
    log = desk.log.read_text("utf-8")
    (line,) = [line for line in log.splitlines() if "event error" in line]
    assert "RuntimeError" in line
    assert "event=" in line
    assert "user=" in line
    assert alice.user_id not in log
    assert BUG_TEXT not in log
    assert (
        desk.sim.post_events([{**buggy, "deliveryContext": {"isRedelivery": True}}]).status == 200
    )


# -- issue 11: events the desk must not act on ------------------------------------------------


def test_an_event_older_than_the_deduplication_window_changes_nothing(desk: RunningDesk) -> None:
    user = desk.consented_user("stale-text")
    event = user.text_event("古いメッセージ")
    event["timestamp"] = int((time.time() - TTL_SECONDS - 60) * 1000)
    rows = desk.stored_rows()
    assert post(desk, [event]) == 200
    assert desk.sim.inbox(user.user_id) == []
    assert desk.stored_rows() == rows
    assert counts_logged(desk)["expired"] == 1


def test_a_replayed_consent_from_before_an_erasure_does_not_bring_the_user_back(
    desk: RunningDesk,
) -> None:
    user = desk.sim.user("erased-replay")
    follow = user.follow_event()
    consent = user.postback_event(AGREE)
    assert user.send(follow, consent).status == 200
    assert desk.admin("POST", f"/api/admin/users/{user.user_id}/erase", {"operator": "A"})[0] == 200
    desk.sim.clear_inbox(user.user_id)

    assert post(desk, [follow, consent]) == 200  # validly signed, still inside the window
    assert user_docs(desk, user.user_id) == []
    assert desk.sim.inbox(user.user_id) == []
    assert counts_logged(desk)["erased"] == 2

    user.follow()  # the person comes back: a fresh user, asked for consent again
    desk.sim.clear_inbox(user.user_id)
    assert post(desk, [consent]) == 200
    status, record = desk.admin("GET", f"/api/admin/users/{user.user_id}")
    assert (status, record["status"]) == (200, "pending")
    assert desk.sim.inbox(user.user_id) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("text", "壊れた\ud800文字"), ("timestamp", 253_402_300_800_000)],
    ids=["lone-surrogate", "year-10000"],
)
def test_an_unreadable_event_is_skipped_and_the_others_are_handled(
    desk: RunningDesk, field: str, value: Any
) -> None:
    user = in_session(desk, f"unreadable-{field}")
    broken = user.text_event("x")
    if field == "text":
        broken["message"]["text"] = value
    else:
        broken[field] = value
    assert post(desk, [broken, user.text_event("読める文")]) == 200
    assert messages_of(desk, user.user_id) == ["読める文"]
    assert counts_logged(desk)["unreadable"] == 1


def test_events_for_another_channel_are_skipped(desk: RunningDesk) -> None:
    user = desk.sim.user("other-channel")
    rows = desk.stored_rows()
    assert post(desk, [user.follow_event()], destination="U" + "0" * 32) == 200
    assert desk.stored_rows() == rows
    assert desk.sim.inbox(user.user_id) == []
    assert counts_logged(desk)["foreign"] == 1


@pytest.mark.parametrize(
    "user_id", ["Uabc", "u" + "a" * 32, "U" + "A" * 32, "U" + "a" * 32 + "\n", "x" * 33]
)
def test_an_event_whose_user_id_is_not_line_shaped_is_skipped(
    desk: RunningDesk, user_id: str
) -> None:
    event = desk.sim.user("shape").follow_event()
    event["source"]["userId"] = user_id
    rows = desk.stored_rows()
    assert post(desk, [event]) == 200
    assert desk.stored_rows() == rows
    assert desk.sim.calls_to("reply") == []
    assert counts_logged(desk)["bad_user_id"] == 1


# -- issue 11: limits that match LINE ---------------------------------------------------------


def test_an_answer_over_5000_utf16_units_is_refused_by_the_desk_and_by_line(
    desk: RunningDesk,
) -> None:
    user = in_session(desk, "emoji")
    (session,) = {
        d["id"]
        for d in desk.documents()
        if d.get("type") == "session" and d["userId"] == user.user_id
    }
    path = f"/api/admin/sessions/{session}"
    assert desk.admin("POST", f"{path}/claim", {"operator": "田中"})[0] == 200
    status, body = desk.admin("POST", f"{path}/messages", {"text": "😀" * 2501, "operator": "田中"})
    assert status == 400
    assert body["error"]["field"] == "text"
    assert body["error"]["message"] == "text：LINE の数え方で5000文字以内にしてください。"
    assert desk.sim.calls_to("push") == []
    status, _ = desk.admin("POST", f"{path}/messages", {"text": "😀" * 2500, "operator": "田中"})
    assert status == 201
    assert [d.message["text"] for d in desk.sim.inbox(user.user_id)] == ["😀" * 2500]


def policy(url: str, version: str = "2031-01-01") -> dict[str, Any]:
    return {
        "versionId": version,
        "effectiveDate": version,
        "url": url,
        "text": "改定版",
        "requiresExplicit": False,
    }


@pytest.mark.parametrize(
    "url",
    [
        "http://policy.example/plain",
        "javascript:alert(1)",
        "https://policy.example/with space",
        "https://policy.example/\u3000full-width-space",
        "https://policy.example/\x07bell",
        "https://policy.example/" + "a" * 1000,
        "https://policy.example/" + "a" * 6000,
    ],
    ids=["http", "javascript", "space", "ideographic-space", "control", "over-1000", "6000"],
)
def test_a_policy_url_line_would_not_take_is_refused(desk: RunningDesk, url: str) -> None:
    status, body = desk.admin("POST", "/api/admin/policies", policy(url))
    assert status == 400
    assert body["error"]["field"] == "url"
    status, listing = desk.admin("GET", "/api/admin/policies")
    assert "2031-01-01" not in json.dumps(listing)


def test_a_policy_url_of_1000_characters_is_taken_and_its_prompt_fits_line(
    desk: RunningDesk,
) -> None:
    url = "https://policy.example/" + "a" * (1000 - len("https://policy.example/"))
    status, _ = desk.admin("POST", "/api/admin/policies", policy(url, "2032-01-01"))
    assert status == 201


@pytest.mark.parametrize("field", ["until", "from"])
def test_a_maintenance_window_is_bounded_to_90_days(desk: RunningDesk, field: str) -> None:
    now = datetime.now(UTC)
    far = (now + timedelta(days=91)).isoformat()
    near = (now + timedelta(days=89)).isoformat()
    body: dict[str, Any] = {"state": "maintenance", "operator": "A", "until": far}
    if field == "from":
        body.update({"from": far, "until": (now + timedelta(days=92)).isoformat()})
    status, answer = desk.admin("PUT", "/api/admin/service", body)
    assert status == 400
    assert answer["error"]["field"] == field
    assert desk.admin("GET", "/api/admin/service")[1]["state"] == "open"
    status, _ = desk.admin(
        "PUT", "/api/admin/service", {"state": "maintenance", "until": near, "operator": "A"}
    )
    assert status == 200
    assert desk.admin("PUT", "/api/admin/service", {"state": "open", "operator": "A"})[0] == 200
