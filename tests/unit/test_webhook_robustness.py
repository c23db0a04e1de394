"""The webhook's failure semantics and the events it must not act on, over fakes."""

from __future__ import annotations

import json
import logging

import pytest

from devtools.linesim import sign
from shared.domain.privacy import user_key
from shared.errors import DependencyError, LineApiError, PreconditionFailed, StoreUnavailable
from shared.ports import DESK, USERS
from shared.texts.catalogue import load_catalogue
from tests.unit.conftest import AGREE, SECRET, consented, deliver, open_session

TEXTS = load_catalogue()
WEEK_MS = 604_800_000  # the default DESK_EVENT_TTL_SECONDS


def stored(store) -> str:
    return json.dumps([doc for doc, _ in store.docs.values()], ensure_ascii=False)


def receipt(store, user_id: str, event: dict) -> dict | None:
    return store.read(USERS, user_id, f"event:{event['webhookEventId']}")


# -- only dependency failures are retried ----------------------------------------------------


def test_a_bug_fails_its_event_alone_and_completes_it_as_failed(
    desk, sim, line, store, caplog
) -> None:
    alice = open_session(desk, sim, line, "alice")
    bob = open_session(desk, sim, line, "bob")
    buggy, after = alice.text_event("一通目"), alice.text_event("二通目")
    store.fail_next("create", KeyError("a bug"))  # the first message write
    with caplog.at_level(logging.WARNING, "desk.webhook"):
        result = deliver(desk, buggy, after, bob.text_event("別の人"))
    assert result.counts == {"error": 1, "handled": 2}
    assert result.failed == 0  # the call answers 200: LINE does not redeliver a bug
    done = receipt(store, alice.user_id, buggy)
    assert done is not None
    assert (done["status"], done["result"]) == ("done", "failed")
    assert "二通目" in stored(store)
    assert "一通目" not in stored(store)
    (line_logged,) = [r.getMessage() for r in caplog.records if "event error" in r.getMessage()]
    assert "KeyError" in line_logged
    assert "event=" in line_logged
    assert alice.user_id not in caplog.text
    assert buggy["webhookEventId"] not in caplog.text


@pytest.mark.parametrize(
    "error",
    [StoreUnavailable("down"), PreconditionFailed(None, "store_changed"), LineApiError("reset")],
    ids=["store", "concurrent-write", "line-unreachable"],
)
def test_a_dependency_failure_is_released_for_redelivery(desk, sim, line, store, error) -> None:
    user = consented(desk, sim, line)
    event = user.text_event("こんにちは")
    line.reply_failures.append(error)
    line.push_failures.append(error)
    if not isinstance(error, LineApiError):
        store.fail_next("read", error)
    result = deliver(desk, event)
    assert result.counts == {"failed": 1}
    assert result.failed == 1
    assert receipt(store, user.user_id, event) is None


# -- events the desk must not act on ---------------------------------------------------------


def test_an_event_older_than_the_deduplication_window_touches_nothing(
    desk, sim, line, store
) -> None:
    user = consented(desk, sim, line)
    event = user.text_event("古い")
    event["timestamp"] -= WEEK_MS + 1
    before = len(store.operations)
    result = deliver(desk, event)
    assert result.counts == {"expired": 1}
    assert store.operations[before:] == []
    assert line.sent == []


def test_an_event_just_inside_the_window_is_handled(desk, sim, line) -> None:
    user = consented(desk, sim, line)
    event = user.text_event("まだ新しい")
    event["timestamp"] -= WEEK_MS - 1000
    assert deliver(desk, event).counts == {"handled": 1}


def test_a_call_for_another_bot_is_skipped_whole(desk, sim, line, store) -> None:
    user = sim.user("alice")
    body = json.dumps({"destination": "U" + "0" * 32, "events": [user.follow_event()]}).encode()
    before = len(store.operations)
    result = desk.webhook.receive(body, sign(SECRET, body))
    assert result.counts == {"foreign": 1}
    assert store.operations[before:] == []
    assert line.sent == []


def test_a_verify_request_needs_no_bot_info(desk, line) -> None:
    line.bot_info_failures.append(LineApiError("LINE is down"))
    body = b'{"destination": "Uanything", "events": []}'
    assert desk.webhook.receive(body, sign(SECRET, body)).counts == {}
    assert line.bot_info_failures  # not asked


def test_when_the_bot_id_cannot_be_had_the_call_is_left_for_redelivery(desk, sim, line) -> None:
    line.bot_info_failures.append(LineApiError("LINE is down"))
    with pytest.raises(DependencyError):
        deliver(desk, sim.user("alice").follow_event())
    assert line.sent == []


def test_a_replay_from_before_an_erasure_does_not_bring_the_user_back(
    desk, sim, line, store, clock
) -> None:
    user = sim.user("alice")
    follow, consent = user.follow_event(), user.postback_event(AGREE)
    deliver(desk, follow, consent)
    clock.advance(seconds=5)
    confirm = user.postback_event("action=erase&confirm=yes")
    deliver(desk, confirm)
    assert user.user_id not in stored(store)
    line.sent.clear()
    clock.advance(seconds=5)

    assert deliver(desk, follow, consent).counts == {"erased": 2}
    assert user.user_id not in stored(store)
    assert line.sent == []

    # The erasure's own confirmation, redelivered, says again that it is done.
    assert deliver(desk, confirm).counts == {"handled": 1}
    assert line.texts() == [TEXTS.text("erased")]
    assert user.user_id not in stored(store)


def test_a_returning_user_is_fresh_and_an_old_consent_does_not_count(
    desk, sim, line, store, clock
) -> None:
    user = sim.user("alice")
    consent = user.postback_event(AGREE)
    deliver(desk, user.follow_event(), consent)
    clock.advance(seconds=5)
    deliver(desk, user.postback_event("action=erase&confirm=yes"))
    clock.advance(seconds=5)
    deliver(desk, user.follow_event())
    assert deliver(desk, consent).counts == {"erased": 1}
    record = store.read(USERS, user.user_id, "user")
    assert record is not None
    assert record["consentVersion"] is None
    assert record["erasedAt"] is not None


def test_the_tombstone_names_no_one_and_expires_with_the_window(
    desk, sim, line, store, clock
) -> None:
    user = consented(desk, sim, line)
    deliver(desk, user.postback_event("action=erase&confirm=yes"))
    (tombstone,) = [doc for doc, _ in store.docs.values() if doc.get("type") == "tombstone"]
    assert tombstone["pk"] == "erasures"
    assert tombstone["ttl"] == WEEK_MS // 1000
    assert user.user_id not in json.dumps(tombstone)
    assert user_key(desk.settings.hash_key, user.user_id) not in json.dumps(tombstone)
    clock.advance(seconds=WEEK_MS // 1000 + 1)
    assert store.read(DESK, "erasures", tombstone["id"]) is None


def test_a_text_in_an_open_session_costs_four_store_operations(desk, sim, line, store) -> None:
    """The user record, the flood counter shared by every instance (issue 20), the message,
    and the open sessions' tally the consoles' polls read (issue 21)."""
    user = open_session(desk, sim, line)
    deliver(desk, user.text_event("はじめまして"))  # the first one is acknowledged (a receipt more)
    before = len(store.operations)
    deliver(desk, user.text_event("こんにちは"))
    assert store.operations[before:] == ["read", "increment", "create", "increment"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("text", "\ud800"), ("timestamp", 253_402_300_800_000), ("timestamp", -1)],
    ids=["lone-surrogate", "year-10000", "negative"],
)
def test_an_event_no_retry_could_store_is_unreadable(desk, sim, line, field, value) -> None:
    user = open_session(desk, sim, line)
    broken = user.text_event("x")
    if field == "text":
        broken["message"]["text"] = value
    else:
        broken[field] = value
    body = json.dumps(
        {"destination": sim.bot_user_id, "events": [broken, user.text_event("読める")]}
    ).encode()
    assert desk.webhook.receive(body, sign(SECRET, body)).counts == {
        "unreadable": 1,
        "handled": 1,
    }


@pytest.mark.parametrize(
    "user_id", ["Uabc", "U" + "A" * 32, "U" + "a" * 33, "u" + "a" * 32, "U" + "a" * 32 + "\n"]
)
def test_an_event_whose_user_id_is_not_line_shaped_is_skipped(desk, sim, store, user_id) -> None:
    event = sim.user("shape").follow_event()
    event["source"]["userId"] = user_id
    before = len(store.operations)
    assert deliver(desk, event).counts == {"bad_user_id": 1}
    assert store.operations[before:] == []
