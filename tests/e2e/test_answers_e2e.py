"""Experts' answers through LINE: a free reply when the user wrote within the last 50 seconds
and their reply token is unused, a push otherwise; answers LINE did not take go with the next
call; LINE's monthly limit refused with a reason for the expert, nothing recorded delivered."""

from __future__ import annotations

import pytest

from devtools.linesim import SimUser
from shared.texts.catalogue import load_catalogue
from tests.e2e.conftest import RunningDesk
from tests.e2e.test_sessions_e2e import open_session

pytestmark = pytest.mark.e2e
TEXTS = load_catalogue()


def answer(
    desk: RunningDesk, session_id: str, text: str, operator: str = "田中"
) -> tuple[int, dict[str, object]]:
    status, sent = desk.admin(
        "POST", f"/api/admin/sessions/{session_id}/messages", {"text": text, "operator": operator}
    )
    return status, sent


def opened(desk: RunningDesk, name: str) -> tuple[SimUser, str]:
    """A user with an open session whose first message the desk has acknowledged (its reply
    token is used by then); the simulator's record of calls and the inbox forgotten."""
    user, session_id = open_session(desk, name)
    user.say("よろしくお願いします", age=120)  # older than what the tests then send
    ack = desk.sim.texts(user.user_id)[-1]
    assert ack.startswith(TEXTS.text("ack_first"))  # past the reply window: by push
    with desk.sim._lock:
        desk.sim.calls.clear()
    desk.sim.clear_inbox(user.user_id)
    return user, session_id


def vias(desk: RunningDesk, user_id: str) -> list[tuple[str, str]]:
    return [(d.via, d.message.get("text", "")) for d in desk.sim.inbox(user_id)]


def test_an_answer_49_seconds_after_the_user_wrote_is_a_free_reply(desk: RunningDesk) -> None:
    user, session_id = opened(desk, "answers-49")
    said = user.say("転職の相談です", age=49)
    token = said.events[0]["replyToken"]
    status, sent = answer(desk, session_id, "お答えします。")
    assert (status, sent["accepted"], sent["via"]) == (201, True, "reply")
    assert vias(desk, user.user_id) == [("reply", "お答えします。")]
    assert desk.sim.calls_to("push") == []
    # The token is single use: marked used, so the next answer is a push.
    status, sent = answer(desk, session_id, "補足です。")
    assert (status, sent["via"]) == (201, "push")
    assert [c.status for c in desk.sim.calls_to("reply")] == [200]
    stored = [d for d in desk.documents() if d.get("type") == "message"]
    assert all(d.get("replyToken") is None for d in stored)
    assert token not in desk.log.read_text()  # never logged


def test_the_first_message_token_answers_the_acknowledgement_not_the_expert(
    desk: RunningDesk,
) -> None:
    user, session_id = open_session(desk, "answers-first")
    desk.sim.clear_inbox(user.user_id)
    user.say("転職の相談です", age=5)
    (ack,) = desk.sim.inbox(user.user_id)
    assert (ack.via, ack.message["text"].startswith(TEXTS.text("ack_first"))) == ("reply", True)
    stored = [
        d
        for d in desk.documents()
        if d.get("type") == "message" and d.get("userId") == user.user_id
    ]
    assert [d.get("replyToken") for d in stored] == [None]  # used by the desk: not kept
    # Another expert (at most DESK_EXPERT_MAX_OPEN sessions held by one).
    status, sent = answer(desk, session_id, "お答えします。", operator="鈴木")
    assert (status, sent["via"]) == (201, "push")


def test_an_answer_51_seconds_after_the_user_wrote_is_a_push(desk: RunningDesk) -> None:
    user, session_id = opened(desk, "answers-51")
    user.say("転職の相談です", age=51)  # the token itself is still valid at LINE
    status, sent = answer(desk, session_id, "お答えします。")
    assert (status, sent["accepted"], sent["via"]) == (201, True, "push")
    assert desk.sim.calls_to("reply") == []
    assert vias(desk, user.user_id) == [("push", "お答えします。")]


def test_a_token_line_expired_falls_back_to_a_push(desk: RunningDesk) -> None:
    user, session_id = opened(desk, "answers-expired")
    user.say("転職の相談です", age=10)
    desk.sim.expire_reply_tokens()
    status, sent = answer(desk, session_id, "お答えします。")
    assert (status, sent["accepted"], sent["via"]) == (201, True, "push")
    assert [c.status for c in desk.sim.calls_to("reply")] == [400]
    assert vias(desk, user.user_id) == [("push", "お答えします。")]


def test_a_redelivered_message_keeps_one_copy_and_one_free_answer(desk: RunningDesk) -> None:
    user, session_id = opened(desk, "answers-redelivered")
    said = user.say("転職の相談です", age=5)
    assert user.redeliver(said).status == 200
    detail = desk.admin("GET", f"/api/admin/sessions/{session_id}")[1]
    assert [m["text"] for m in detail["messages"]] == ["よろしくお願いします", "転職の相談です"]
    status, sent = answer(desk, session_id, "お答えします。")
    assert (status, sent["via"]) == (201, "reply")
    assert vias(desk, user.user_id) == [("reply", "お答えします。")]


def test_the_monthly_limit_is_refused_with_a_reason_and_sent_later(desk: RunningDesk) -> None:
    user, session_id = opened(desk, "answers-quota")
    user.say("転職の相談です", age=55)
    desk.sim.set_monthly_limit(200, used=200)
    status, sent = answer(desk, session_id, "一つ目の回答です。")
    assert (status, sent.get("accepted"), sent.get("via")) == (201, False, None), sent
    assert sent["reason"] == TEXTS.text("expert_monthly_limit")
    message = sent["message"]
    assert isinstance(message, dict)
    assert (message["delivery"], message["deliveryDetail"]) == ("failed", "HTTP 429 monthly limit")
    assert [c.status for c in desk.sim.calls_to("push")] == [429]  # not retried: pointless
    assert desk.sim.inbox(user.user_id) == []
    assert "LINE monthly limit reached" in desk.log.read_text()  # what the quota alert keys on
    # Next month: the pending answer goes with the next one, in one push of two bubbles.
    desk.sim.set_monthly_limit(200, used=0)
    status, sent = answer(desk, session_id, "二つ目の回答です。")
    assert (status, sent["accepted"], sent["via"]) == (201, True, "push")
    assert vias(desk, user.user_id) == [
        ("push", "一つ目の回答です。"),
        ("push", "二つ目の回答です。"),
    ]
    assert [c.status for c in desk.sim.calls_to("push")] == [429, 200]
    assert desk.sim.pushes_this_month == 1  # one count for both
    detail = desk.admin("GET", f"/api/admin/sessions/{session_id}")[1]
    assert [m["delivery"] for m in detail["messages"] if m["role"] == "expert"] == [
        "accepted",
        "accepted",
    ]


def test_the_closing_message_carries_a_survey_for_every_client(desk: RunningDesk) -> None:
    user, session_id = opened(desk, "answers-closing")
    user.say("ありがとうございました", age=70)
    # Another expert than the one answering the other tests' sessions (at most
    # DESK_EXPERT_MAX_OPEN held at once).
    status, closed = desk.admin(
        "POST", f"/api/admin/sessions/{session_id}/close", {"outcome": "助言", "operator": "佐藤"}
    )
    assert (status, closed.get("closingMessageAccepted")) == (200, True), closed
    closing, survey = (d.message for d in desk.sim.inbox(user.user_id))
    assert closing["text"] == TEXTS.text("session_closed")
    assert survey["type"] == "template"  # not quick replies: LINE for PC shows templates
    assert survey["template"]["type"] == "buttons"
    labels = [a["label"] for a in survey["template"]["actions"]]
    assert labels == ["満足", "ふつう", "不満"]

    # 満足 is counted once, anonymously, and thanked by reply.
    good = survey["template"]["actions"][0]["data"]
    desk.sim.clear_inbox(user.user_id)
    first = user.postback(good)
    user.postback(good)
    assert user.redeliver(first).status == 200
    assert [(d.via, d.message["text"]) for d in desk.sim.inbox(user.user_id)] == [
        ("reply", TEXTS.text("survey_thanks")),
        ("reply", TEXTS.text("survey_thanks")),
    ]
    entries = [d for d in desk.documents() if d.get("type") == "stat" and d["kind"] == "survey"]
    assert [e["rating"] for e in entries] == ["good"]
    assert user.user_id not in str(entries)
    assert session_id not in str(entries)
