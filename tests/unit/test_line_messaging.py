"""The LINE adapter over a real HTTP transport: line-bot-sdk talking to the simulator."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from devtools.linesim import LineSimulator, user_id_for
from shared.adapters.line_messaging import LineApiClient, _retry_after
from shared.domain.messages import PostbackButton, TextMessage
from shared.errors import LineApiError, ReplyTokenRejected

ALICE = user_id_for("alice")
HELLO = (TextMessage("こんにちは"),)


@pytest.fixture
def sim() -> Iterator[LineSimulator]:
    simulator = LineSimulator("secret", "token")
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def client(sim: LineSimulator) -> LineApiClient:
    return LineApiClient("token", sim.base_url, timeout_seconds=5)


def test_a_reply_reaches_the_user(sim: LineSimulator, client: LineApiClient) -> None:
    client.reply(sim.issue_reply_token(ALICE), HELLO)
    assert sim.texts(ALICE) == ["こんにちは"]


def test_a_spent_reply_token_raises_reply_token_rejected(sim, client) -> None:
    token = sim.issue_reply_token(ALICE)
    client.reply(token, HELLO)
    with pytest.raises(ReplyTokenRejected):
        client.reply(token, HELLO)


def test_a_push_sends_its_retry_key_and_a_repeat_is_a_quiet_success(sim, client) -> None:
    key = str(uuid.uuid4())
    client.push(ALICE, HELLO, key)
    client.push(ALICE, HELLO, key)
    assert sim.texts(ALICE) == ["こんにちは"]
    assert [c.status for c in sim.calls_to("push")] == [200, 409]
    assert sim.calls_to("push")[0].retry_key == key


@pytest.mark.parametrize("status", [429, 500, 503])
def test_line_failures_become_line_api_errors_with_the_status(sim, client, status: int) -> None:
    sim.fail_next("push", status)
    with pytest.raises(LineApiError) as failed:
        client.push(ALICE, HELLO, str(uuid.uuid4()))
    assert failed.value.http_status == status
    assert not isinstance(failed.value, ReplyTokenRejected)


def test_a_wrong_access_token_is_a_line_api_error(sim: LineSimulator) -> None:
    with pytest.raises(LineApiError) as failed:
        LineApiClient("wrong", sim.base_url, 5).push(ALICE, HELLO, str(uuid.uuid4()))
    assert failed.value.http_status == 401


def test_an_unreachable_line_is_a_line_api_error() -> None:
    with pytest.raises(LineApiError):
        LineApiClient("token", "http://127.0.0.1:9", 1).push(ALICE, HELLO, str(uuid.uuid4()))


def test_quick_replies_are_sent_as_postback_chips(sim, client) -> None:
    chips = (PostbackButton("転職・就職", "topic=job", "転職・就職"),)
    client.push(ALICE, (TextMessage("どの話題ですか", chips),), str(uuid.uuid4()))
    (delivered,) = sim.inbox(ALICE)
    (item,) = delivered.message["quickReply"]["items"]
    assert item["action"] == {
        "type": "postback",
        "label": "転職・就職",
        "data": "topic=job",
        "displayText": "転職・就職",
    }


def test_the_loading_animation_is_asked_for_one_user_chat(sim, client) -> None:
    client.show_loading(ALICE, 20)
    (call,) = sim.calls_to("loading")
    assert (call.status, call.body) == (202, {"chatId": ALICE, "loadingSeconds": 20})


# (Over 60 s the SDK's own model refuses before any request.)
@pytest.mark.parametrize(("chat", "seconds"), [("Cgroup0", 20), (ALICE, 7)])
def test_the_simulator_refuses_loading_outside_lines_rules(sim, client, chat, seconds) -> None:
    with pytest.raises(LineApiError):
        client.show_loading(chat, seconds)
    assert [c.status for c in sim.calls_to("loading")] == [400]


def test_a_429_carries_line_s_retry_after(sim, client) -> None:
    sim.fail_next("push", 429, retry_after=7)
    with pytest.raises(LineApiError) as failed:
        client.push(ALICE, HELLO, str(uuid.uuid4()))
    assert (failed.value.http_status, failed.value.retry_after) == (429, 7.0)
    sim.fail_next("push", 429)
    with pytest.raises(LineApiError) as failed:
        client.push(ALICE, HELLO, str(uuid.uuid4()))
    assert failed.value.retry_after is None  # no header: the caller's own backoff


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),
        ({"Retry-After": "-1"}, None),
        ({"Retry-After": "nan"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_retry_after_is_read_in_seconds_only(headers, seconds) -> None:
    assert _retry_after(headers) == seconds
