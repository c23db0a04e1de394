"""The webhook use case over fakes: dedup, dispatch, answering, failure and ordering rules."""

from __future__ import annotations

import json
import logging

import pytest

from devtools.linesim import LineSimulator, sign
from shared.config import settings_from
from shared.errors import ReplyTokenRejected, StoreUnavailable
from shared.services.answering import retry_key_for
from shared.services.ports import USERS
from shared.texts.catalogue import load_catalogue
from shared.wiring import Desk, build_desk
from tests.kit.fakes import FakeClock, FakeMessenger, MemoryStore, line_down

SECRET = "unit-secret"
TEXTS = load_catalogue()


@pytest.fixture
def sim() -> LineSimulator:
    """Only the simulator's event builders are used here; nothing is served."""
    return LineSimulator(SECRET, "token")


@pytest.fixture
def store(clock: FakeClock) -> MemoryStore:
    return MemoryStore(clock)


@pytest.fixture
def line() -> FakeMessenger:
    return FakeMessenger()


@pytest.fixture
def desk(store: MemoryStore, line: FakeMessenger, clock: FakeClock) -> Desk:
    settings = settings_from({"DESK_ENVIRONMENT": "Development", "LINE_CHANNEL_SECRET": SECRET})
    return build_desk(settings, store, line, clock)


def deliver(desk: Desk, *events: dict[str, object]):
    body = json.dumps({"destination": "Ubot", "events": list(events)}).encode()
    return desk.webhook.receive(body, sign(SECRET, body))


def test_follow_is_greeted_and_recorded(desk: Desk, sim, line, store) -> None:
    user = sim.user("alice")
    result = deliver(desk, user.follow_event())
    assert result.counts["handled"] == 1
    assert line.texts() == [TEXTS.text("greeting")]
    assert line.sent[0].via == "reply"
    record = store.read(USERS, user.user_id, "user")
    assert record is not None
    assert record["followed"] is True


def test_unblock_gets_its_own_greeting(desk: Desk, sim, line) -> None:
    deliver(desk, sim.user("alice").follow_event(unblocked=True))
    assert line.texts() == [TEXTS.text("greeting_unblocked")]


def test_text_gets_not_available_yet_and_its_content_is_not_stored(desk, sim, line, store) -> None:
    deliver(desk, sim.user("alice").text_event("年収を上げたいです"))
    assert line.texts() == [TEXTS.text("not_available_yet")]
    assert all("年収" not in json.dumps(doc, ensure_ascii=False) for doc, _ in store.docs.values())


def test_a_second_delivery_changes_nothing_and_sends_nothing(desk, sim, line, store) -> None:
    event = sim.user("alice").follow_event()
    deliver(desk, event)
    writes_before = [op for op in store.operations if op != "read"]
    redelivered = {**event, "deliveryContext": {"isRedelivery": True}}
    result = deliver(desk, redelivered)
    assert result.counts == {"duplicate": 1}
    assert len(line.sent) == 1
    assert [op for op in store.operations if op != "read"] == [*writes_before, "create"]


def test_a_refused_reply_token_falls_back_to_a_push_with_a_stable_retry_key(desk, sim, line):
    line.reply_failures.append(ReplyTokenRejected("expired", http_status=400))
    user = sim.user("alice")
    event = user.text_event("こんにちは")
    deliver(desk, event)
    (sent,) = line.sent
    assert (sent.via, sent.to) == ("push", user.user_id)
    assert sent.retry_key == retry_key_for(str(event["webhookEventId"]))


def test_a_failed_reply_also_falls_back_to_a_push(desk, sim, line) -> None:
    line.reply_failures.append(line_down(500))
    deliver(desk, sim.user("alice").text_event("こんにちは"))
    assert [s.via for s in line.sent] == ["push"]


def test_when_line_is_down_the_event_is_released_and_its_redelivery_answers_once(
    desk, sim, line
) -> None:
    line.reply_failures.append(line_down(500))
    line.push_failures.append(line_down(503))
    event = sim.user("alice").text_event("こんにちは")
    first = deliver(desk, event)
    assert first.failed == 1
    assert line.sent == []
    # LINE redelivers; the reply token is spent by now, so the answer goes out as a push.
    line.used_tokens.add(str(event["replyToken"]))
    second = deliver(desk, {**event, "deliveryContext": {"isRedelivery": True}})
    third = deliver(desk, {**event, "deliveryContext": {"isRedelivery": True}})
    assert (second.counts["handled"], third.counts["duplicate"]) == (1, 1)
    assert [s.via for s in line.sent] == ["push"]


def test_a_push_repeated_after_a_lost_answer_is_not_sent_twice(desk, sim, line, store) -> None:
    """The push went out but the store failed afterwards: the retry key stops a second send."""
    event = sim.user("alice").text_event("こんにちは")
    line.used_tokens.add(str(event["replyToken"]))
    line.accepted_keys.add(retry_key_for(str(event["webhookEventId"])))
    deliver(desk, event)
    assert line.sent == []


def test_later_events_of_a_user_whose_event_failed_wait_for_the_redelivery(desk, sim, line):
    alice, bob = sim.user("alice"), sim.user("bob")
    first, second, other = alice.text_event("1"), alice.text_event("2"), bob.text_event("3")
    line.reply_failures.append(line_down(500))
    line.push_failures.append(line_down(500))
    result = deliver(desk, first, second, other)
    assert result.counts == {"failed": 1, "deferred": 1, "handled": 1}
    assert [s.to for s in line.sent] == [str(other["replyToken"])]
    again = deliver(desk, first, second, other)
    assert again.counts == {"handled": 2, "duplicate": 1}


def test_standby_events_are_recorded_but_never_answered(desk, sim, line, store) -> None:
    event = sim.user("alice").text_event("x")
    event["mode"] = "standby"
    result = deliver(desk, event)
    assert result.counts == {"standby": 1}
    assert line.sent == []
    assert deliver(desk, event).counts == {"duplicate": 1}


def test_group_and_room_events_get_no_consultation(desk, sim, line, store) -> None:
    in_group = sim.user("alice").text_event("x")
    in_group["source"] = {"type": "group", "groupId": "Cgroup", "userId": "U" + "1" * 32}
    in_room = sim.user("alice").follow_event()
    in_room["source"] = {"type": "room", "roomId": "Rroom", "userId": "U" + "2" * 32}
    result = deliver(desk, in_group, in_room)
    assert result.counts == {"not_one_to_one": 2}
    assert line.sent == []
    assert store.docs == {}


def test_unknown_event_types_are_counted_and_skipped(desk, sim, line, store) -> None:
    result = deliver(desk, sim.user("alice").event("somethingNew", reply=False))
    assert result.counts == {"unknown": 1}
    assert store.docs == {}


def test_unfollow_marks_the_user_and_sends_nothing(desk, sim, line, store) -> None:
    user = sim.user("alice")
    deliver(desk, user.follow_event(), user.unfollow_event())
    record = store.read(USERS, user.user_id, "user")
    assert record is not None
    assert record["followed"] is False
    assert len(line.sent) == 1  # the greeting only


def test_a_store_outage_fails_the_call_so_line_redelivers(desk, sim, store) -> None:
    store.fail_with = StoreUnavailable("throttled")
    with pytest.raises(StoreUnavailable):
        deliver(desk, sim.user("alice").follow_event())


def test_logs_name_users_by_pseudonym_only(desk, sim, line, caplog) -> None:
    user = sim.user("alice")
    line.reply_failures.append(line_down(500))
    line.push_failures.append(line_down(500))
    with caplog.at_level(logging.DEBUG):
        deliver(desk, user.text_event("秘密の相談内容"))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "event failed" in logged
    assert user.user_id not in logged
    assert "秘密" not in logged
