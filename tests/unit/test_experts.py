"""The experts' side over fakes: queue, detail, claims, answers, closing, the idle sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.errors import ConflictError, NotFoundError, ValidationError
from shared.ports import DESK, USERS
from shared.texts.catalogue import load_catalogue
from tests.kit.admin_api import api
from tests.kit.fakes import line_down
from tests.unit.conftest import deliver, open_session

TEXTS = load_catalogue()


def only_session(desk) -> str:
    (session,) = api(desk).experts.queue("waiting", None, 50)["sessions"]
    return session["sessionId"]


def test_the_queue_lists_oldest_first_without_message_text(desk, sim, line, clock) -> None:
    names = ["a", "b", "c"]
    for name in names:
        user = open_session(desk, sim, line, name)
        deliver(desk, user.text_event(f"{name}の秘密の相談"))
        clock.advance(minutes=1)
    page = api(desk).experts.queue("waiting", None, 2)
    assert [s["messageCount"] for s in page["sessions"]] == [1, 1]
    assert "秘密" not in str(page)
    rest = api(desk).experts.queue("waiting", page["nextCursor"], 2)
    assert rest["nextCursor"] is None
    ids = [s["sessionId"] for s in page["sessions"] + rest["sessions"]]
    assert ids == sorted(ids)
    assert len(ids) == 3
    assert page["sessions"][0]["topicLabel"] == "転職・就職"


@pytest.mark.parametrize(("status", "cursor"), [("open", None), (None, "a b")])
def test_bad_queue_parameters_are_refused(desk, status, cursor) -> None:
    with pytest.raises(ValidationError):
        api(desk).experts.queue(status, cursor, 50)


def test_the_detail_has_the_messages_in_order(desk, sim, line) -> None:
    user = open_session(desk, sim, line)
    deliver(desk, user.text_event("一通目"), user.sticker_event(), user.text_event("三通目"))
    detail = api(desk).experts.detail(only_session(desk), "田中")
    assert [(m["role"], m["kind"], m["text"]) for m in detail["messages"]] == [
        ("user", "text", "一通目"),
        ("user", "sticker", None),
        ("user", "text", "三通目"),
    ]
    assert detail["userId"] == user.user_id
    with pytest.raises(NotFoundError):
        api(desk).experts.detail("20990101T000000-000000", "田中")


def test_of_two_claims_one_wins(desk, sim, line) -> None:
    open_session(desk, sim, line)
    session_id = only_session(desk)
    assert api(desk).experts.claim(session_id, "田中")["assignedTo"] == "田中"
    assert api(desk).experts.claim(session_id, "田中")["status"] == "active"  # idempotent
    with pytest.raises(ConflictError, match="田中さんが担当"):
        api(desk).experts.claim(session_id, "佐藤")


def test_a_claim_that_loses_the_etag_race_is_a_conflict(desk, sim, line, store) -> None:
    open_session(desk, sim, line)
    session_id = only_session(desk)
    stale = desk.experts._index.get(session_id)
    api(desk).experts.claim(session_id, "田中")
    with pytest.raises(ConflictError, match="直前に"):
        desk.experts._claim(stale, "佐藤")


def test_an_answer_is_pushed_with_a_retry_key_and_recorded(desk, sim, line) -> None:
    user = open_session(desk, sim, line)
    session_id = only_session(desk)
    sent = api(desk).experts.send(session_id, "田中", {"text": "まずは職務経歴を整理しましょう。"})
    assert sent["accepted"] is True
    (push,) = line.sent
    assert (push.via, push.to, push.messages[0].text) == (
        "push",
        user.user_id,
        "まずは職務経歴を整理しましょう。",
    )
    assert push.retry_key
    detail = api(desk).experts.detail(session_id, "田中")
    assert detail["status"] == "active"  # answering a waiting session claims it
    assert detail["messages"][-1]["author"] == "田中"
    assert detail["messages"][-1]["delivery"] == "accepted"


def test_line_answering_429_then_200_is_retried_with_backoff(desk, sim, line, sleeps) -> None:
    open_session(desk, sim, line)
    line.push_failures.append(line_down(429))
    sent = api(desk).experts.send(only_session(desk), "田中", {"text": "お待たせしました。"})
    assert sent["accepted"] is True
    assert sleeps == [0.5]
    assert len(line.sent) == 1


def test_an_answer_line_keeps_refusing_is_recorded_as_failed(desk, sim, line, sleeps) -> None:
    open_session(desk, sim, line)
    line.push_failures.extend([line_down(500)] * 10)
    sent = api(desk).experts.send(only_session(desk), "田中", {"text": "回答です。"})
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
        api(desk).experts.send(only_session(desk), "田中", payload)
    assert line.sent == []


def test_nothing_is_pushed_to_a_user_who_blocked_the_account(desk, sim, line) -> None:
    user = open_session(desk, sim, line)
    deliver(desk, user.unfollow_event())
    with pytest.raises(ConflictError, match="ブロック"):
        api(desk).experts.send(only_session(desk), "田中", {"text": "こんにちは"})
    assert line.sent == []


def test_a_client_message_id_makes_a_repeated_call_send_once(desk, sim, line) -> None:
    open_session(desk, sim, line)
    session_id = only_session(desk)
    payload = {"text": "回答です。", "clientMessageId": "ui-123"}
    api(desk).experts.send(session_id, "田中", payload)
    again = api(desk).experts.send(session_id, "田中", payload)
    assert again["accepted"] is True
    assert len(line.sent) == 1
    assert len(api(desk).experts.detail(session_id, "田中")["messages"]) == 1


def test_closing_needs_a_known_outcome_and_tells_the_user(desk, sim, line, store) -> None:
    user = open_session(desk, sim, line)
    session_id = only_session(desk)
    with pytest.raises(ValidationError, match="情報提供"):
        api(desk).experts.close(session_id, "田中", {"outcome": "解決"})
    closed = api(desk).experts.close(session_id, "田中", {"outcome": "助言"})
    assert (closed["status"], closed["outcome"], closed["closedBy"]) == ("closed", "助言", "expert")
    assert closed["closedByName"] == "田中"
    assert closed["closingMessageAccepted"] is True
    assert line.texts() == [TEXTS.text("session_closed"), TEXTS.text("survey_question")]
    assert store.read(USERS, user.user_id, "user")["openSessionId"] is None
    with pytest.raises(ConflictError, match="終了"):
        api(desk).experts.close(session_id, "田中", {"outcome": "advice"})
    with pytest.raises(ConflictError, match="終了"):
        api(desk).experts.send(session_id, "田中", {"text": "追伸"})
    line.sent.clear()
    deliver(desk, user.text_event("ありがとうございました"))
    assert line.texts() == [TEXTS.text("draft_kept")]  # kept for the next topic chosen


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
        if d.get("type") == "session"
    }
    assert statuses == {quiet.user_id: "closed", busy.user_id: "waiting", blocked.user_id: "closed"}


# -- a claim protects a session (issue 10, defect 1) -------------------------------------------


def audit_actions(desk) -> list[tuple[str, str, dict]]:
    return [
        (r["who"], r["action"], r["details"]) for r in api(desk).auditor.page(None, 200)["records"]
    ]


def test_only_the_holder_answers_or_closes_a_claimed_session(desk, sim, line) -> None:
    open_session(desk, sim, line)
    session_id = only_session(desk)
    api(desk).experts.claim(session_id, "田中")
    with pytest.raises(ConflictError, match="田中さんが担当"):
        api(desk).experts.send(session_id, "佐藤", {"text": "佐藤です。"})
    with pytest.raises(ConflictError, match="田中さんが担当"):
        api(desk).experts.close(session_id, "佐藤", {"outcome": "助言"})
    with pytest.raises(ConflictError, match="田中さんが担当"):
        api(desk).experts.claim(session_id, "佐藤")
    assert line.sent == []  # the user received nothing from 佐藤
    assert api(desk).experts.send(session_id, "田中", {"text": "田中です。"})["accepted"] is True
    assert line.texts() == ["田中です。"]


def test_a_desk_admin_takes_a_session_over_and_it_is_audited(desk, sim, line) -> None:
    open_session(desk, sim, line)
    session_id = only_session(desk)
    api(desk).experts.claim(session_id, "田中")
    sent = api(desk).experts.send(
        session_id, "管理者", {"text": "代わりに回答します。"}, admin=True
    )
    assert sent["accepted"] is True
    detail = api(desk).experts.detail(session_id, "管理者")
    assert detail["assignedTo"] == "管理者"
    assert [(h["action"], h["from"], h["to"]) for h in detail["handovers"]] == [
        ("takeover", "田中", "管理者")
    ]
    takeovers = [d for _, a, d in audit_actions(desk) if a == "session.takeover"]
    assert takeovers == [{"session": session_id, "previous": "田中", "during": "answer"}]
    with pytest.raises(ConflictError, match="管理者さんが担当"):
        api(desk).experts.send(session_id, "田中", {"text": "戻りました。"})


def test_release_puts_a_session_back_in_the_queue_with_a_note(desk, sim, line) -> None:
    open_session(desk, sim, line)
    session_id = only_session(desk)
    with pytest.raises(ConflictError, match="誰も担当していない"):
        api(desk).experts.release(session_id, "田中")
    api(desk).experts.claim(session_id, "田中")
    with pytest.raises(ConflictError, match="田中さんが担当"):
        api(desk).experts.release(session_id, "佐藤")
    released = api(desk).experts.release(session_id, "田中", "履歴書の添削が途中です")
    assert (released["status"], released["assignedTo"]) == ("waiting", None)
    assert released["handovers"][-1]["note"] == "履歴書の添削が途中です"
    assert only_session(desk) == session_id  # back in the queue
    assert line.sent == []  # a note is for the staff only
    assert ("田中", "session.release") in [(w, a) for w, a, _ in audit_actions(desk)]
    assert api(desk).experts.send(session_id, "佐藤", {"text": "引き継ぎました。"})["accepted"]


def test_transfer_hands_a_session_to_another_expert(desk, sim, line) -> None:
    open_session(desk, sim, line)
    session_id = only_session(desk)
    api(desk).experts.claim(session_id, "田中")
    with pytest.raises(ConflictError, match="田中さんが担当"):
        api(desk).experts.transfer(session_id, "佐藤", "佐藤")
    moved = api(desk).experts.transfer(session_id, "田中", "佐藤", "転職支援に詳しい方へ")
    assert (moved["status"], moved["assignedTo"]) == ("active", "佐藤")
    assert api(desk).experts.transfer(session_id, "佐藤", "佐藤")["handovers"] == moved["handovers"]
    with pytest.raises(ConflictError, match="佐藤さんが担当"):
        api(desk).experts.send(session_id, "田中", {"text": "まだ私が"})
    taken = api(desk).experts.transfer(session_id, "管理者", "鈴木", admin=True)
    assert taken["assignedTo"] == "鈴木"
    actions = [(a, d.get("previous"), d.get("to")) for _, a, d in audit_actions(desk)]
    assert ("session.transfer", "田中", "佐藤") in actions
    assert ("session.takeover", "佐藤", None) in actions
    assert ("session.transfer", "佐藤", "鈴木") in actions
    assert line.sent == []


@pytest.mark.parametrize(
    ("to", "note"), [("", None), ("  ", None), (5, None), ("あ" * 101, None), ("佐藤", 3)]
)
def test_bad_hand_overs_are_refused(desk, sim, line, to, note) -> None:
    open_session(desk, sim, line)
    session_id = only_session(desk)
    api(desk).experts.claim(session_id, "田中")
    with pytest.raises(ValidationError):
        api(desk).experts.transfer(session_id, "田中", to, note)
    with pytest.raises(NotFoundError):
        api(desk).experts.transfer("20990101T000000-000000", "田中", "佐藤")
    with pytest.raises(NotFoundError):
        api(desk).experts.release("20990101T000000-000000", "田中")
    with pytest.raises(ValidationError):
        api(desk).experts.release(session_id, "田中", "x" * 1001)


def test_a_closed_session_cannot_be_handed_over(desk, sim, line) -> None:
    open_session(desk, sim, line)
    session_id = only_session(desk)
    api(desk).experts.claim(session_id, "田中")
    api(desk).experts.close(session_id, "田中", {"outcome": "助言"})
    with pytest.raises(ConflictError, match="終了"):
        api(desk).experts.release(session_id, "田中")
    with pytest.raises(ConflictError, match="終了"):
        api(desk).experts.transfer(session_id, "田中", "佐藤")


def test_closed_by_names_the_kind_and_the_expert(desk, sim, line, clock) -> None:
    open_session(desk, sim, line)
    closed = api(desk).experts.close(only_session(desk), "田中", {"outcome": "助言"})
    assert (closed["closedBy"], closed["closedByName"]) == ("expert", "田中")
    open_session(desk, sim, line, "quiet")
    clock.advance(days=15)
    desk.experts.close_idle()
    (idle,) = [
        s for s in api(desk).experts.queue("closed", None, 50)["sessions"] if s["outcome"] != "助言"
    ]
    assert (idle["closedBy"], idle["closedByName"]) == ("idle", None)


# -- a session the user ended can still be answered (issue 10, defect 2) ------------------------


def ended_with_a_question(desk, sim, line, clock, *, claimed_by: str | None = "田中"):
    user = open_session(desk, sim, line)
    session_id = only_session(desk)
    if claimed_by:
        api(desk).experts.claim(session_id, claimed_by)
    deliver(desk, user.text_event("面接で何を聞かれますか？"))
    clock.advance(minutes=5)
    deliver(desk, user.text_event("相談を終了"), user.postback_event("action=end&confirm=yes"))
    line.sent.clear()
    return user, session_id


def test_the_expert_answers_a_question_the_user_left_when_ending(desk, sim, line, clock) -> None:
    user, session_id = ended_with_a_question(desk, sim, line, clock)
    detail = api(desk).experts.detail(session_id, "田中")
    assert (detail["status"], detail["closedBy"], detail["outcome"]) == ("closed", "user", None)
    assert detail["followUpUntil"] == (clock() + timedelta(hours=72)).isoformat()
    with pytest.raises(ConflictError, match="田中さんが担当"):
        api(desk).experts.send(session_id, "佐藤", {"text": "横から失礼します"})
    clock.advance(hours=71)
    sent = api(desk).experts.send(session_id, "田中", {"text": "志望動機をよく聞かれます。"})
    assert sent["accepted"] is True
    assert [(s.via, s.to, s.messages[0].text) for s in line.sent] == [
        ("push", user.user_id, "志望動機をよく聞かれます。")
    ]
    assert api(desk).experts.send(session_id, "田中", {"text": "追記です。"})["accepted"]
    clock.advance(hours=2)
    with pytest.raises(ConflictError, match="回答できる期間"):
        api(desk).experts.send(session_id, "田中", {"text": "遅れてすみません"})
    line.sent.clear()
    recorded = api(desk).experts.close(session_id, "田中", {"outcome": "情報提供"})
    assert (recorded["status"], recorded["outcome"], recorded["closedBy"]) == (
        "closed",
        "情報提供",
        "user",
    )
    assert line.sent == []  # the user ended it: no closing message
    with pytest.raises(ConflictError, match="終了"):
        api(desk).experts.close(session_id, "田中", {"outcome": "助言"})


def test_a_waiting_session_the_user_ended_can_be_claimed_and_answered(
    desk, sim, line, clock
) -> None:
    _user, session_id = ended_with_a_question(desk, sim, line, clock, claimed_by=None)
    assert api(desk).experts.detail(session_id, "佐藤")["assignedTo"] is None
    sent = api(desk).experts.send(session_id, "佐藤", {"text": "お答えします。"})
    assert sent["accepted"] is True
    detail = api(desk).experts.detail(session_id, "佐藤")
    assert (detail["status"], detail["assignedTo"]) == ("closed", "佐藤")
    with pytest.raises(ConflictError, match="佐藤さんが担当"):
        api(desk).experts.send(session_id, "田中", {"text": "私も"})
    assert line.texts() == ["お答えします。"]


def test_nothing_unanswered_means_no_follow_up(desk, sim, line, clock) -> None:
    user = open_session(desk, sim, line)
    session_id = only_session(desk)
    deliver(desk, user.text_event("質問です"))
    api(desk).experts.send(session_id, "田中", {"text": "回答です。"})
    deliver(desk, user.text_event("相談を終了"), user.postback_event("action=end&confirm=yes"))
    detail = api(desk).experts.detail(session_id, "田中")
    assert (detail["closedBy"], detail["followUpUntil"]) == ("user", None)
    with pytest.raises(ConflictError, match="終了"):
        api(desk).experts.send(session_id, "田中", {"text": "追伸"})
    assert api(desk).experts.close(session_id, "田中", {"outcome": "助言"})["outcome"] == "助言"


def test_the_outcome_recorded_later_is_counted_once(desk, sim, line, clock, store) -> None:
    _, session_id = ended_with_a_question(desk, sim, line, clock)
    api(desk).experts.close(session_id, "田中", {"outcome": "助言"})
    entries = [
        d
        for (c, _, _), (d, _) in store.docs.items()
        if c == DESK and d.get("kind") == "session_close"
    ]
    assert [(e["outcome"], e["closedBy"], e["messages"]) for e in entries] == [("助言", "user", 1)]
    assert session_id not in str(entries)  # the entry names no session (issue 11)


def test_no_follow_up_reaches_a_user_who_withdrew_consent(desk, sim, line, clock) -> None:
    user, session_id = ended_with_a_question(desk, sim, line, clock)
    deliver(desk, user.text_event("同意を撤回"), user.postback_event("action=withdraw&confirm=yes"))
    line.sent.clear()
    with pytest.raises(ConflictError, match="同意を撤回"):
        api(desk).experts.send(session_id, "田中", {"text": "回答です。"})
    assert line.sent == []
