"""The experts' side over fakes: queue, detail, claims, answers, closing, the idle sweep."""

from __future__ import annotations

import pytest

from shared.errors import ConflictError, NotFoundError, ValidationError
from shared.services.ports import DESK, USERS
from shared.texts.catalogue import load_catalogue
from tests.kit.fakes import line_down
from tests.unit.conftest import deliver, open_session

TEXTS = load_catalogue()


def only_session(desk) -> str:
    (session,) = desk.experts.queue("waiting", None, 50)["sessions"]
    return session["sessionId"]


def test_the_queue_lists_oldest_first_without_message_text(desk, sim, line, clock) -> None:
    names = ["a", "b", "c"]
    for name in names:
        user = open_session(desk, sim, line, name)
        deliver(desk, user.text_event(f"{name}の秘密の相談"))
        clock.advance(minutes=1)
    page = desk.experts.queue("waiting", None, 2)
    assert [s["messageCount"] for s in page["sessions"]] == [1, 1]
    assert "秘密" not in str(page)
    rest = desk.experts.queue("waiting", page["nextCursor"], 2)
    assert rest["nextCursor"] is None
    ids = [s["sessionId"] for s in page["sessions"] + rest["sessions"]]
    assert ids == sorted(ids)
    assert len(ids) == 3
    assert page["sessions"][0]["topicLabel"] == "転職・就職"


@pytest.mark.parametrize(("status", "cursor"), [("open", None), (None, "a b")])
def test_bad_queue_parameters_are_refused(desk, status, cursor) -> None:
    with pytest.raises(ValidationError):
        desk.experts.queue(status, cursor, 50)


def test_the_detail_has_the_messages_in_order(desk, sim, line) -> None:
    user = open_session(desk, sim, line)
    deliver(desk, user.text_event("一通目"), user.sticker_event(), user.text_event("三通目"))
    detail = desk.experts.detail(only_session(desk), "田中")
    assert [(m["role"], m["kind"], m["text"]) for m in detail["messages"]] == [
        ("user", "text", "一通目"),
        ("user", "sticker", None),
        ("user", "text", "三通目"),
    ]
    assert detail["userId"] == user.user_id
    with pytest.raises(NotFoundError):
        desk.experts.detail("20990101T000000-000000", "田中")


def test_of_two_claims_one_wins(desk, sim, line) -> None:
    open_session(desk, sim, line)
    session_id = only_session(desk)
    assert desk.experts.claim(session_id, "田中")["assignedTo"] == "田中"
    assert desk.experts.claim(session_id, "田中")["status"] == "active"  # idempotent
    with pytest.raises(ConflictError, match="already claimed by 田中"):
        desk.experts.claim(session_id, "佐藤")


def test_a_claim_that_loses_the_etag_race_is_a_conflict(desk, sim, line, store) -> None:
    open_session(desk, sim, line)
    session_id = only_session(desk)
    stale = desk.experts._index.get(session_id)
    desk.experts.claim(session_id, "田中")
    with pytest.raises(ConflictError, match="a moment ago"):
        desk.experts._claim(stale, "佐藤")


def test_an_answer_is_pushed_with_a_retry_key_and_recorded(desk, sim, line) -> None:
    user = open_session(desk, sim, line)
    session_id = only_session(desk)
    sent = desk.experts.send(session_id, "田中", {"text": "まずは職務経歴を整理しましょう。"})
    assert sent["accepted"] is True
    (push,) = line.sent
    assert (push.via, push.to, push.messages[0].text) == (
        "push",
        user.user_id,
        "まずは職務経歴を整理しましょう。",
    )
    assert push.retry_key
    detail = desk.experts.detail(session_id, "田中")
    assert detail["status"] == "active"  # answering a waiting session claims it
    assert detail["messages"][-1]["author"] == "田中"
    assert detail["messages"][-1]["delivery"] == "accepted"


def test_line_answering_429_then_200_is_retried_with_backoff(desk, sim, line, sleeps) -> None:
    open_session(desk, sim, line)
    line.push_failures.append(line_down(429))
    sent = desk.experts.send(only_session(desk), "田中", {"text": "お待たせしました。"})
    assert sent["accepted"] is True
    assert sleeps == [0.5]
    assert len(line.sent) == 1


def test_an_answer_line_keeps_refusing_is_recorded_as_failed(desk, sim, line, sleeps) -> None:
    open_session(desk, sim, line)
    line.push_failures.extend([line_down(500)] * 10)
    sent = desk.experts.send(only_session(desk), "田中", {"text": "回答です。"})
    assert sent["accepted"] is False
    assert sent["message"]["delivery"] == "failed"
    assert sent["message"]["deliveryDetail"] == "HTTP 500"
    assert len(sleeps) == 3  # four attempts, bounded


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"text": ""},
        {"text": "   "},
        {"text": 5},
        {"text": "あ" * 5001},
        {"text": "x", "clientMessageId": "a b"},
    ],
)
def test_bad_answers_are_refused_before_anything_is_sent(desk, sim, line, payload) -> None:
    open_session(desk, sim, line)
    with pytest.raises(ValidationError):
        desk.experts.send(only_session(desk), "田中", payload)
    assert line.sent == []


def test_nothing_is_pushed_to_a_user_who_blocked_the_account(desk, sim, line) -> None:
    user = open_session(desk, sim, line)
    deliver(desk, user.unfollow_event())
    with pytest.raises(ConflictError, match="blocked"):
        desk.experts.send(only_session(desk), "田中", {"text": "こんにちは"})
    assert line.sent == []


def test_a_client_message_id_makes_a_repeated_call_send_once(desk, sim, line) -> None:
    open_session(desk, sim, line)
    session_id = only_session(desk)
    payload = {"text": "回答です。", "clientMessageId": "ui-123"}
    desk.experts.send(session_id, "田中", payload)
    again = desk.experts.send(session_id, "田中", payload)
    assert again["accepted"] is True
    assert len(line.sent) == 1
    assert len(desk.experts.detail(session_id, "田中")["messages"]) == 1


def test_closing_needs_a_known_outcome_and_tells_the_user(desk, sim, line, store) -> None:
    user = open_session(desk, sim, line)
    session_id = only_session(desk)
    with pytest.raises(ValidationError, match="情報提供"):
        desk.experts.close(session_id, "田中", {"outcome": "解決"})
    closed = desk.experts.close(session_id, "田中", {"outcome": "助言"})
    assert (closed["status"], closed["outcome"], closed["closedBy"]) == ("closed", "助言", "田中")
    assert closed["closingMessageAccepted"] is True
    assert line.texts() == [TEXTS.text("session_closed")]
    assert store.read(USERS, user.user_id, "user")["openSessionId"] is None
    with pytest.raises(ConflictError, match="closed"):
        desk.experts.close(session_id, "田中", {"outcome": "advice"})
    with pytest.raises(ConflictError, match="closed"):
        desk.experts.send(session_id, "田中", {"text": "追伸"})
    line.sent.clear()
    deliver(desk, user.text_event("ありがとうございました"))
    assert line.texts() == [TEXTS.text("start_hint"), TEXTS.text("menu")]


def test_idle_sessions_close_themselves_once(desk, sim, line, store, clock) -> None:
    quiet = open_session(desk, sim, line, "quiet")
    busy = open_session(desk, sim, line, "busy")
    blocked = open_session(desk, sim, line, "blocked")
    deliver(desk, blocked.unfollow_event())
    clock.advance(days=13)
    deliver(desk, busy.text_event("まだ相談中です"))
    clock.advance(days=1, seconds=1)
    line.sent.clear()
    assert desk.experts.close_idle().acted == 2
    assert desk.experts.close_idle().acted == 0  # a second (or overlapping) run changes nothing
    assert [(s.to, s.messages[0].text) for s in line.sent] == [
        (quiet.user_id, TEXTS.text("session_closed_idle"))
    ]
    statuses = {
        d["userId"]: d["status"]
        for (c, p, _), (d, _) in store.docs.items()
        if c == DESK and p == "sessions"
    }
    assert statuses == {quiet.user_id: "closed", busy.user_id: "waiting", blocked.user_id: "closed"}
