"""The conversation of issue 14 end to end, as a LINE user through the simulator: crisis help
lines, acknowledgements, drafts, confirmations, the 15-character rule, urgent sessions in the
admin API and the consultation rich menu. Every redelivery has exactly one effect."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from devtools.linesim import SimUser
from shared.texts.catalogue import load_catalogue
from tests.e2e.conftest import AGREE, RunningDesk

pytestmark = pytest.mark.e2e
TEXTS = load_catalogue()
SESSION_MENU = "richmenu-e2e-session"


def open_session(desk: RunningDesk, name: str, topic: str = "career") -> SimUser:
    user = desk.consented_user(name)
    user.postback(f"action=topic&topic={topic}")
    desk.sim.clear_inbox(user.user_id)
    return user


def session_of(desk: RunningDesk, user_id: str, session_id: str | None = None) -> dict[str, Any]:
    """The detail of the user's open session (or of `session_id`)."""
    if session_id is None:
        status, described = desk.admin("GET", f"/api/admin/users/{user_id}?operator=op-a")
        assert status == 200
        session_id = described["openSessionId"]
        assert session_id, described
    status, detail = desk.admin("GET", f"/api/admin/sessions/{session_id}?operator=op-a")
    assert status == 200
    return detail


def template(desk: RunningDesk, user: SimUser) -> dict[str, Any]:
    message = desk.sim.inbox(user.user_id)[-1].message
    assert message["type"] == "template", desk.sim.texts(user.user_id)
    return message["template"]


def test_a_crisis_message_before_consent_gets_help_lines_and_nothing_is_stored(
    desk: RunningDesk,
) -> None:
    user = desk.sim.user("crisis-before-consent")
    words = "もう死にたいと思っています"
    delivery = user.say(words)
    assert delivery.status == 200
    texts = desk.sim.texts(user.user_id)
    assert texts[0].startswith(TEXTS.text("crisis_intro"))
    assert "よりそいホットライン" in texts[0]
    assert texts[-1] == TEXTS.text("consent_question", version="2025年10月24日")
    desk.sim.redeliver(delivery.event_ids[0])
    assert len(desk.sim.texts(user.user_id)) == len(texts)  # one answer, whatever LINE resends
    assert words.encode("utf-8") not in desk.stored_bytes()
    assert "死にたい".encode() not in desk.stored_bytes()
    assert "死にたい" not in desk.log.read_text(encoding="utf-8")


def test_a_crisis_message_in_a_consultation_marks_it_urgent_first_in_the_queue(
    desk: RunningDesk,
) -> None:
    earlier = open_session(desk, "urgent-earlier")
    earlier.say("先に相談しています")
    user = open_session(desk, "urgent-later")
    user.say("生きるのがつらいです")
    assert desk.sim.texts(user.user_id)[0].startswith(TEXTS.text("crisis_intro"))
    detail = session_of(desk, user.user_id)
    assert detail["urgent"] is True
    assert [m["text"] for m in detail["messages"]] == ["生きるのがつらいです"]
    status, queue = desk.admin("GET", "/api/admin/sessions?status=waiting&limit=1")
    assert status == 200
    assert queue["sessions"][0]["sessionId"] == detail["sessionId"]
    assert queue["sessions"][0]["urgent"] is True
    assert session_of(desk, earlier.user_id)["urgent"] is False


def test_the_first_message_is_acknowledged_once_and_later_ones_are_not_answered(
    desk: RunningDesk,
) -> None:
    user = open_session(desk, "acknowledged")
    first = user.say("転職するか迷っています")
    (ack,) = desk.sim.texts(user.user_id)
    assert ack.startswith(TEXTS.text("ack_first"))
    assert "番目にお待ちいただいています" in ack
    assert desk.sim.calls_to("push") == []  # a reply: free
    desk.sim.redeliver(first.event_ids[0])
    user.say("30代です")
    user.say("まだですか")  # within three minutes of the acknowledgement
    assert desk.sim.texts(user.user_id) == [ack]
    texts = [m["text"] for m in session_of(desk, user.user_id)["messages"]]
    assert texts == ["転職するか迷っています", "30代です", "まだですか"]


def test_a_text_before_choosing_a_topic_is_filed_into_the_consultation(
    desk: RunningDesk,
) -> None:
    user = desk.consented_user("draft-writer")
    delivery = user.say("年収を上げる方法を知りたいです")
    assert desk.sim.texts(user.user_id) == [TEXTS.text("draft_kept")]
    desk.sim.redeliver(delivery.event_ids[0])
    assert len(desk.sim.texts(user.user_id)) == 1
    user.postback("action=topic&topic=income")
    detail = session_of(desk, user.user_id)
    assert [m["text"] for m in detail["messages"]] == ["年収を上げる方法を知りたいです"]


def test_before_consent_every_message_is_answered_and_none_kept(desk: RunningDesk) -> None:
    user = desk.sim.user("reminded")
    user.follow()
    desk.sim.clear_inbox(user.user_id)
    user.say("相談できますか")
    user.say("もしもし")
    assert desk.sim.texts(user.user_id) == [TEXTS.text("consent_reminder")] * 2
    assert "もしもし".encode() not in desk.stored_bytes()
    user.postback(AGREE)
    assert desk.admin("GET", f"/api/admin/users/{user.user_id}?operator=a")[1]["status"] == (
        "consented"
    )


def test_ending_and_withdrawing_ask_first(desk: RunningDesk) -> None:
    user = open_session(desk, "confirmer")
    user.say("終わります")
    question = template(desk, user)
    assert question["text"] == TEXTS.text("end_question")
    user.postback(question["actions"][1]["data"])  # 続ける
    assert desk.sim.texts(user.user_id)[-1] == TEXTS.text("end_cancelled")
    session_id = session_of(desk, user.user_id)["sessionId"]
    assert session_of(desk, user.user_id, session_id)["status"] == "waiting"
    user.say("相談を終了")
    yes = template(desk, user)["actions"][0]["data"]
    delivery = user.postback(yes)
    assert desk.sim.texts(user.user_id)[-1] == TEXTS.text("session_ended")
    desk.sim.redeliver(delivery.event_ids[0])
    assert desk.sim.texts(user.user_id).count(TEXTS.text("session_ended")) == 1
    assert session_of(desk, user.user_id, session_id)["status"] == "closed"
    user.say("同意を撤回")
    question = template(desk, user)
    assert question["text"] == TEXTS.text("withdraw_question")
    described = desk.admin("GET", f"/api/admin/users/{user.user_id}?operator=a")[1]
    assert described["status"] == "consented"  # one tap withdraws nothing
    user.postback(question["actions"][0]["data"])
    assert desk.sim.texts(user.user_id)[-1] == TEXTS.text("withdrawn")
    described = desk.admin("GET", f"/api/admin/users/{user.user_id}?operator=a")[1]
    assert described["status"] == "withdrawn"


def test_a_long_text_is_never_taken_for_a_command(desk: RunningDesk) -> None:
    user = open_session(desk, "long-texter")
    user.say("はじめまして")
    desk.sim.clear_inbox(user.user_id)
    long_text = "相談を終了する前に、もう一つだけ聞きたいことがあります"
    user.say(long_text)
    user.say("相談を終了。")  # a short one is: loosely, after normalisation
    assert desk.sim.texts(user.user_id) == [TEXTS.text("end_question")]
    texts = [m["text"] for m in session_of(desk, user.user_id)["messages"]]
    assert texts == ["はじめまして", long_text]


def test_the_consultation_menu_is_linked_while_a_session_is_open(desk: RunningDesk) -> None:
    desk.sim.add_rich_menu(SESSION_MENU, alias="desk-session")
    user = open_session(desk, "menu-user")
    assert desk.sim.menu_of(user.user_id) == SESSION_MENU
    url = desk.sim.base_url + f"/_sim/users/{user.user_id}/menu"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert json.loads(response.read())["richMenuId"] == SESSION_MENU
    user.say("相談を終了")
    user.postback(template(desk, user)["actions"][0]["data"])
    assert desk.sim.menu_of(user.user_id) is None  # the default menu shows again
