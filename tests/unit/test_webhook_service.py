"""The webhook use case over fakes: dedup, dispatch, answering, failure and ordering rules."""

from __future__ import annotations

import logging

from shared.errors import ReplyTokenRejected, StoreUnavailable
from shared.services.answering import retry_key_for
from shared.services.ports import USERS
from shared.texts.catalogue import load_catalogue
from tests.kit.fakes import line_down
from tests.unit.conftest import consented, deliver

TEXTS = load_catalogue()


def test_follow_is_greeted_and_recorded(desk, sim, line, store) -> None:
    user = sim.user("alice")
    result = deliver(desk, user.follow_event())
    assert result.counts == {"handled": 1}
    assert line.texts()[0] == TEXTS.text("greeting")
    assert line.sent[0].via == "reply"
    record = store.read(USERS, user.user_id, "user")
    assert record is not None
    assert record["followed"] is True


def test_text_from_a_consented_user_without_a_session_is_kept_and_the_topics_offered(
    desk, sim, line, store
) -> None:
    deliver(desk, consented(desk, sim, line).text_event("年収を上げたいです"))
    (answer,) = line.sent[0].messages
    assert answer.text == TEXTS.text("draft_kept")
    assert [chip.label for chip in answer.quick_replies][-1] == "同意・データ"
    (draft,) = [doc for doc, _ in store.docs.values() if doc.get("text") == "年収を上げたいです"]
    assert draft["sessionId"] == "draft"  # kept in the user's partition, for the next topic


def test_a_second_delivery_changes_nothing_and_sends_nothing(desk, sim, line, store) -> None:
    event = sim.user("alice").follow_event()
    deliver(desk, event)
    writes_before = [op for op in store.operations if op != "read"]
    result = deliver(desk, {**event, "deliveryContext": {"isRedelivery": True}})
    assert result.counts == {"duplicate": 1}
    assert len(line.sent) == 1
    assert [op for op in store.operations if op != "read"] == [*writes_before, "create"]


def test_a_refused_reply_token_falls_back_to_a_push_with_a_stable_retry_key(desk, sim, line):
    user = consented(desk, sim, line)
    line.reply_failures.append(ReplyTokenRejected("expired", http_status=400))
    event = user.text_event("こんにちは")
    deliver(desk, event)
    (sent,) = line.sent
    assert (sent.via, sent.to) == ("push", user.user_id)
    assert sent.retry_key == retry_key_for(str(event["webhookEventId"]))


def test_a_failed_reply_also_falls_back_to_a_push(desk, sim, line) -> None:
    user = consented(desk, sim, line)
    line.reply_failures.append(line_down(500))
    deliver(desk, user.text_event("こんにちは"))
    assert [s.via for s in line.sent] == ["push"]


def test_when_line_is_down_the_event_is_released_and_its_redelivery_answers_once(
    desk, sim, line
) -> None:
    user = consented(desk, sim, line)
    line.reply_failures.append(line_down(500))
    line.push_failures.append(line_down(503))
    event = user.text_event("こんにちは")
    first = deliver(desk, event)
    assert first.failed == 1
    assert line.sent == []
    # LINE redelivers; the reply token is spent by now, so the answer goes out as a push.
    line.used_tokens.add(str(event["replyToken"]))
    second = deliver(desk, {**event, "deliveryContext": {"isRedelivery": True}})
    third = deliver(desk, {**event, "deliveryContext": {"isRedelivery": True}})
    assert (second.counts["handled"], third.counts["duplicate"]) == (1, 1)
    assert [s.via for s in line.sent] == ["push"]
    assert line.texts() == [TEXTS.text("draft_kept")]


def test_a_push_repeated_after_a_lost_answer_is_not_sent_twice(desk, sim, line) -> None:
    """The push went out but the call failed afterwards: the retry key stops a second send."""
    user = consented(desk, sim, line)
    event = user.text_event("こんにちは")
    line.used_tokens.add(str(event["replyToken"]))
    line.accepted_keys.add(retry_key_for(str(event["webhookEventId"])))
    deliver(desk, event)
    assert line.sent == []


def test_later_events_of_a_user_whose_event_failed_wait_for_the_redelivery(desk, sim, line):
    alice, bob = consented(desk, sim, line, "alice"), consented(desk, sim, line, "bob")
    first, second, other = alice.text_event("1"), alice.text_event("2"), bob.text_event("3")
    line.reply_failures.append(line_down(500))
    line.push_failures.append(line_down(500))
    result = deliver(desk, first, second, other)
    assert result.counts == {"failed": 1, "deferred": 1, "handled": 1}
    assert [s.to for s in line.sent] == [str(other["replyToken"])]
    again = deliver(desk, first, second, other)
    assert again.counts == {"handled": 2, "duplicate": 1}


def test_standby_events_are_recorded_but_never_answered(desk, sim, line) -> None:
    event = sim.user("alice").follow_event()
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


def test_unknown_event_types_are_counted_and_skipped(desk, sim, store) -> None:
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
    result = deliver(desk, sim.user("alice").follow_event())
    assert result.counts == {"failed": 1}
    assert result.failed == 1


def test_logs_name_users_by_pseudonym_only(desk, sim, line, caplog) -> None:
    user = consented(desk, sim, line)
    line.reply_failures.append(line_down(500))
    line.push_failures.append(line_down(500))
    with caplog.at_level(logging.DEBUG):
        deliver(desk, user.text_event("秘密の相談内容"))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "event failed" in logged
    assert user.user_id not in logged
    assert "秘密" not in logged


def test_an_event_whose_claim_cannot_be_released_is_taken_over_after_its_lease(
    desk, sim, line, store, clock
) -> None:
    user = consented(desk, sim, line)
    event = user.text_event("こんにちは")
    line.reply_failures.append(line_down(500))
    line.push_failures.append(line_down(500))
    store.fail_next("delete", StoreUnavailable("throttled"))
    assert deliver(desk, event).counts == {"failed": 1}
    redelivered = {**event, "deliveryContext": {"isRedelivery": True}}
    assert deliver(desk, redelivered).counts == {"in_progress": 1}  # lease still held
    clock.advance(seconds=61)
    line.used_tokens.add(str(event["replyToken"]))
    assert deliver(desk, redelivered).counts == {"handled": 1}
    assert line.texts() == [TEXTS.text("draft_kept")]
    assert deliver(desk, redelivered).counts == {"duplicate": 1}


def test_an_answer_line_will_never_accept_completes_the_event(desk, sim, line) -> None:
    user = consented(desk, sim, line)
    event = user.text_event("こんにちは")
    line.reply_failures.append(line_down(400))
    line.push_failures.append(line_down(400))
    result = deliver(desk, event)
    assert result.counts == {"undeliverable": 1}
    assert result.failed == 0
    assert deliver(desk, event).counts == {"duplicate": 1}


def test_a_receipt_that_cannot_be_completed_does_not_ask_for_a_redelivery(
    desk, sim, line, store
) -> None:
    user = consented(desk, sim, line)
    store.fail_next("upsert", StoreUnavailable("throttled"))
    result = deliver(desk, user.text_event("こんにちは"))
    assert result.counts == {"handled": 1}
    assert result.failed == 0
    assert line.texts() == [TEXTS.text("draft_kept")]


def test_an_unreadable_event_is_counted_and_the_rest_of_the_call_is_handled(desk, sim, line):
    user = consented(desk, sim, line)
    broken = user.text_event("x")
    del broken["message"]["text"]
    result = deliver(desk, broken, user.text_event("こんにちは"))
    assert result.counts == {"unreadable": 1, "handled": 1}
    assert result.failed == 0
    assert line.texts() == [TEXTS.text("draft_kept")]
