"""The LINE simulator enforces LINE's rules, so tests against it mean something."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from devtools.linesim import BOT_USER_ID, LineSimulator, user_id_for

TOKEN = "sim-token"
ALICE = user_id_for("alice")


@pytest.fixture
def sim() -> Iterator[LineSimulator]:
    simulator = LineSimulator("secret", TOKEN)
    simulator.start()
    yield simulator
    simulator.stop()


def call(
    sim: LineSimulator,
    path: str,
    payload: object,
    *,
    token: str = TOKEN,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        sim.base_url + path,
        data=json.dumps(payload).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            **(headers or {}),
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _chip(label: str) -> dict[str, object]:
    return {"type": "action", "action": {"type": "postback", "label": label, "data": "x"}}


def text(n: int = 1, length: int = 5) -> list[dict[str, str]]:
    return [{"type": "text", "text": "あ" * length} for _ in range(n)]


def push(sim: LineSimulator, messages: list[dict[str, Any]], key: str | None = None):
    headers = {"X-Line-Retry-Key": key} if key else {}
    return call(sim, "/v2/bot/message/push", {"to": ALICE, "messages": messages}, headers=headers)


def test_a_wrong_bearer_token_is_refused(sim: LineSimulator) -> None:
    status, _ = call(sim, "/v2/bot/message/push", {"to": ALICE, "messages": text()}, token="x")
    assert status == 401
    assert sim.delivered == []


@pytest.mark.parametrize(
    "messages",
    [
        [],
        text(6),
        text(1, 5001),
        [{"type": "text", "text": ""}],
        [{"type": "hologram"}],
        [{"type": "text", "text": "😀" * 2501}],  # 5,002 UTF-16 code units
        [{"type": "text", "text": "😀" * 2500, "quickReply": {"items": [_chip("😀" * 11)]}}],
    ],
    ids=["none", "six", "5001", "empty", "unknown-type", "emoji-5002-units", "emoji-label"],
)
def test_batches_line_refuses_are_refused(sim: LineSimulator, messages) -> None:
    status, _ = push(sim, messages)
    assert status == 400
    assert sim.delivered == []


def test_five_messages_of_5000_characters_are_accepted(sim: LineSimulator) -> None:
    status, _ = push(sim, text(5, 5000))
    assert status == 200
    assert len(sim.inbox(ALICE)) == 5


def test_a_text_of_5000_utf16_units_is_accepted(sim: LineSimulator) -> None:
    emoji = [{"type": "text", "text": "😀" * 2500, "quickReply": {"items": [_chip("😀" * 10)]}}]
    status, _ = push(sim, emoji)
    assert status == 200
    assert sim.inbox(ALICE)[0].message["text"] == "😀" * 2500


def test_bot_info_names_the_bot_that_events_are_addressed_to(sim: LineSimulator) -> None:
    request = urllib.request.Request(
        sim.base_url + "/v2/bot/info", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["userId"] == sim.bot_user_id == BOT_USER_ID


def test_reply_tokens_are_single_use(sim: LineSimulator) -> None:
    token = sim.issue_reply_token(ALICE)
    first, _ = call(sim, "/v2/bot/message/reply", {"replyToken": token, "messages": text()})
    second, body = call(sim, "/v2/bot/message/reply", {"replyToken": token, "messages": text()})
    assert (first, second) == (200, 400)
    assert body["message"] == "Invalid reply token"
    assert len(sim.inbox(ALICE)) == 1


def test_reply_tokens_expire(sim: LineSimulator) -> None:
    token = sim.issue_reply_token(ALICE)
    sim.expire_reply_tokens()
    status, _ = call(sim, "/v2/bot/message/reply", {"replyToken": token, "messages": text()})
    assert status == 400


def test_a_repeated_retry_key_gets_409_and_sends_nothing(sim: LineSimulator) -> None:
    key = str(uuid.uuid4())
    assert push(sim, text(), key)[0] == 200
    assert push(sim, text(), key)[0] == 409
    assert len(sim.inbox(ALICE)) == 1


def test_a_retry_key_that_is_not_a_uuid_is_refused(sim: LineSimulator) -> None:
    assert push(sim, text(), "not-a-uuid")[0] == 400


def test_a_failed_push_does_not_burn_its_retry_key(sim: LineSimulator) -> None:
    key = str(uuid.uuid4())
    sim.fail_next("push", 500)
    assert push(sim, text(), key)[0] == 500
    assert push(sim, text(), key)[0] == 200
    assert len(sim.inbox(ALICE)) == 1


def test_injected_failures_are_consumed_in_order(sim: LineSimulator) -> None:
    sim.fail_next("push", 429, times=2, retry_after=3)
    statuses = [push(sim, text())[0] for _ in range(3)]
    assert statuses == [429, 429, 200]
