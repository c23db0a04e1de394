"""Consultations end to end: a user opens a session on LINE, experts answer through the API."""

from __future__ import annotations

import base64
import json
import threading

import pytest

from devtools.linesim import SimUser
from shared.texts.catalogue import load_catalogue
from tests.e2e.conftest import FUNCTION_KEY, RunningDesk

pytestmark = pytest.mark.e2e
TEXTS = load_catalogue()


def open_session(desk: RunningDesk, name: str, topic: str = "career") -> tuple[SimUser, str]:
    user = desk.consented_user(name)
    user.postback(f"action=topic&topic={topic}")
    desk.sim.clear_inbox(user.user_id)
    status, queue = desk.admin("GET", "/api/admin/sessions?status=waiting&limit=200")
    assert status == 200
    mine = [s for s in queue["sessions"] if s["sessionId"] in sessions_of(desk, user.user_id)]
    (session,) = mine
    return user, session["sessionId"]


def end_session(desk: RunningDesk, user: SimUser) -> None:
    """相談を終了, then 終了する on the confirmation."""
    user.say("相談を終了")
    question = desk.sim.inbox(user.user_id)[-1].message
    assert question["type"] == "template", desk.sim.texts(user.user_id)
    user.postback(question["template"]["actions"][0]["data"])


def sessions_of(desk: RunningDesk, user_id: str) -> set[str]:
    return {
        d["id"]
        for d in desk.documents()
        if d.get("type") == "session" and d.get("userId") == user_id
    }


def test_a_consultation_from_topic_to_closing(desk: RunningDesk) -> None:
    user, session_id = open_session(desk, "session-happy")
    user.say("転職するか迷っています", age=60)  # past the reply window: a push
    user.sticker(age=60)
    user.media("image")
    ack, refused = desk.sim.texts(user.user_id)
    assert ack.startswith(TEXTS.text("ack_first"))  # the first message only
    assert refused == TEXTS.text("media_refused")
    assert desk.sim.calls_to("content") == []  # nothing was downloaded

    status, queue = desk.admin("GET", "/api/admin/sessions?status=waiting")
    listed = next(s for s in queue["sessions"] if s["sessionId"] == session_id)
    assert listed["messageCount"] == 3  # the refused image is counted as a (content-free) marker
    assert listed["topicLabel"] == "キャリア・将来"
    assert "転職" not in json.dumps(queue, ensure_ascii=False)

    status, detail = desk.admin("GET", f"/api/admin/sessions/{session_id}")
    assert [(m["kind"], m["text"]) for m in detail["messages"]] == [
        ("text", "転職するか迷っています"),
        ("sticker", None),
        ("image-refused", None),
    ]

    path = f"/api/admin/sessions/{session_id}"
    assert desk.admin("POST", f"{path}/claim", {"operator": "田中"})[0] == 200
    status, sent = desk.admin(
        "POST",
        f"{path}/messages",
        {"text": "まずは今のお仕事の状況を教えてください。", "operator": "田中"},
    )
    assert status == 201
    assert sent["accepted"] is True
    # Past the reply window the acknowledgement went by push too; the answer is the last one.
    answer = [d for d in desk.sim.inbox(user.user_id) if d.via == "push"][-1]
    assert answer.message["text"] == "まずは今のお仕事の状況を教えてください。"

    status, closed = desk.admin("POST", f"{path}/close", {"outcome": "助言", "operator": "田中"})
    assert (status, closed["status"], closed["outcome"]) == (200, "closed", "助言")
    assert desk.sim.texts(user.user_id)[-2:] == [
        TEXTS.text("session_closed"),
        TEXTS.text("survey_question"),
    ]
    assert desk.admin("POST", f"{path}/messages", {"text": "追伸", "operator": "田中"})[0] == 409
    status, queue = desk.admin("GET", "/api/admin/sessions?status=closed&limit=200")
    assert session_id in {s["sessionId"] for s in queue["sessions"]}


def test_two_experts_claiming_at_once_one_wins(desk: RunningDesk) -> None:
    _, session_id = open_session(desk, "session-race")
    statuses: list[int] = []
    start = threading.Barrier(2)

    def claim(operator: str) -> None:
        start.wait()
        statuses.append(
            desk.admin("POST", f"/api/admin/sessions/{session_id}/claim", {"operator": operator})[0]
        )

    threads = [threading.Thread(target=claim, args=(name,)) for name in ("田中", "佐藤")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409]


def test_line_answering_429_then_200_still_delivers_the_answer(desk: RunningDesk) -> None:
    user, session_id = open_session(desk, "session-throttled")
    desk.sim.fail_next("push", 429, retry_after=0)
    status, sent = desk.admin(
        "POST",
        f"/api/admin/sessions/{session_id}/messages",
        {"text": "お待たせしました。", "operator": "田中"},
    )
    assert (status, sent["accepted"]) == (201, True)
    assert [c.status for c in desk.sim.calls_to("push")] == [429, 200]
    keys = {c.retry_key for c in desk.sim.calls_to("push")}
    assert len(keys) == 1  # the retry reused its key
    assert desk.sim.texts(user.user_id) == ["お待たせしました。"]


def test_nothing_is_pushed_to_a_user_who_blocked_the_account(desk: RunningDesk) -> None:
    user, session_id = open_session(desk, "session-blocked")
    user.unfollow()
    status, body = desk.admin(
        "POST",
        f"/api/admin/sessions/{session_id}/messages",
        {"text": "こんにちは", "operator": "田中"},
    )
    assert status == 409
    assert "ブロック" in body["error"]["message"]
    assert desk.sim.calls_to("push") == []


def test_the_expert_is_named_by_app_service_authentication(desk: RunningDesk) -> None:
    _, session_id = open_session(desk, "session-principal")

    def principal(*roles: str) -> str:
        claims = [{"typ": "name", "val": "山田 花子"}] + [{"typ": "roles", "val": r} for r in roles]
        data = {"auth_typ": "aad", "name_typ": "name", "role_typ": "roles", "claims": claims}
        return base64.b64encode(json.dumps(data).encode()).decode()

    path = f"/api/admin/sessions/{session_id}/claim"
    key = {"x-functions-key": FUNCTION_KEY}
    status, body = desk.http("POST", path, b"", {**key, "x-ms-client-principal": principal()})
    assert (status, json.loads(body)["error"]["code"]) == (403, "forbidden")
    wrong = principal("Desk.Reader")
    assert desk.http("POST", path, b"", {**key, "x-ms-client-principal": wrong})[0] == 403
    expert = principal("Desk.Expert")
    status, body = desk.http("POST", path, b"", {**key, "x-ms-client-principal": expert})
    assert status == 200
    assert json.loads(body)["assignedTo"] == "山田 花子"
    status, _ = desk.http("GET", "/api/admin/flags", b"", {**key, "x-ms-client-principal": expert})
    assert status == 403  # experts see sessions; the rest needs Desk.Admin


@pytest.mark.parametrize(
    ("route", "payload", "status"),
    [
        ("messages", {"operator": "田中"}, 400),
        ("messages", {"text": "", "operator": "田中"}, 400),
        ("messages", {"text": "あ" * 5001, "operator": "田中"}, 400),
        ("messages", {"text": "こんにちは"}, 400),
        ("close", {"outcome": "解決", "operator": "田中"}, 400),
        ("claim", ["not", "an", "object"], 400),
    ],
)
def test_bad_expert_requests_get_reasons(desk: RunningDesk, route, payload, status) -> None:
    _, session_id = open_session(desk, f"session-bad-{route}-{status}-{len(str(payload))}")
    got, body = desk.admin("POST", f"/api/admin/sessions/{session_id}/{route}", payload)
    assert got == status
    assert body["error"]["message"]


def test_unknown_sessions_and_bad_queries(desk: RunningDesk) -> None:
    assert desk.admin("GET", "/api/admin/sessions/20990101T000000-000000")[0] == 404
    assert desk.admin("GET", "/api/admin/sessions?status=pending")[0] == 400
    assert desk.http("GET", "/api/admin/sessions")[0] == 401


def test_unsend_removes_the_text_the_experts_see(desk: RunningDesk) -> None:
    user, session_id = open_session(desk, "session-unsend")
    event = user.text_event("取り消したい内容")
    user.send(event)
    user.unsend(event["message"]["id"])
    detail = desk.admin("GET", f"/api/admin/sessions/{session_id}")[1]
    assert [(m["text"], m["unsent"]) for m in detail["messages"]] == [(None, True)]
    assert "取り消したい" not in desk.stored_text()


def test_the_idle_sweep_runs_on_the_admin_endpoint(desk: RunningDesk) -> None:
    _, session_id = open_session(desk, "session-sweep")
    status, summary = desk.run_timer("close_idle_sessions")
    assert status == 202
    assert "closed=0" in summary
    assert "recent=" in summary  # the fresh session was skipped, and the line says why
    detail = desk.admin("GET", f"/api/admin/sessions/{session_id}")[1]
    assert detail["status"] == "waiting"  # a fresh session is not idle


def principal(name: str, *roles: str) -> str:
    """An X-MS-CLIENT-PRINCIPAL header as App Service authentication builds it."""
    claims = [{"typ": "name", "val": name}] + [{"typ": "roles", "val": r} for r in roles]
    data = {"auth_typ": "aad", "name_typ": "name", "role_typ": "roles", "claims": claims}
    return base64.b64encode(json.dumps(data).encode()).decode()


def as_principal(desk: RunningDesk, header: str, path: str, payload: object) -> tuple[int, dict]:
    headers = {"x-functions-key": FUNCTION_KEY, "x-ms-client-principal": header}
    status, body = desk.http("POST", path, json.dumps(payload).encode(), headers)
    return status, json.loads(body)


def test_a_claimed_session_is_answered_only_by_its_holder(desk: RunningDesk) -> None:
    user, session_id = open_session(desk, "session-exclusive")
    user.say("相談です")
    desk.sim.clear_inbox(user.user_id)  # the acknowledgement
    path = f"/api/admin/sessions/{session_id}"
    assert desk.admin("POST", f"{path}/claim", {"operator": "田中"})[0] == 200
    status, body = desk.admin("POST", f"{path}/messages", {"text": "佐藤です", "operator": "佐藤"})
    assert (status, body["error"]["code"]) == (409, "conflict")
    assert "田中" in body["error"]["message"]
    status, body = desk.admin("POST", f"{path}/close", {"outcome": "助言", "operator": "佐藤"})
    assert status == 409
    assert "田中" in body["error"]["message"]
    assert desk.sim.calls_to("push") == []  # the user received nothing from 佐藤
    status, sent = desk.admin("POST", f"{path}/messages", {"text": "田中です", "operator": "田中"})
    assert (status, sent["accepted"]) == (201, True)
    assert desk.sim.texts(user.user_id) == ["田中です"]

    # A Desk.Admin takes it over (audited); a plain expert principal may not.
    expert = principal("佐藤", "Desk.Expert")
    assert as_principal(desk, expert, f"{path}/messages", {"text": "佐藤です"})[0] == 409
    admin = principal("管理者", "Desk.Admin")
    status, sent = as_principal(desk, admin, f"{path}/messages", {"text": "管理者が引き継ぎます"})
    assert (status, sent["accepted"]) == (201, True)
    assert desk.admin("GET", path)[1]["assignedTo"] == "管理者"
    records = desk.admin("GET", "/api/admin/audit?limit=200")[1]["records"]
    takeovers = [r for r in records if r["action"] == "session.takeover"]
    assert [(r["who"], r["details"]["previous"]) for r in takeovers][-1:] == [("管理者", "田中")]


def test_the_expert_answers_after_the_user_ended_the_session(desk: RunningDesk) -> None:
    user, session_id = open_session(desk, "session-follow-up")
    path = f"/api/admin/sessions/{session_id}"
    assert desk.admin("POST", f"{path}/claim", {"operator": "田中"})[0] == 200
    user.say("面接対策を教えてください", age=60)  # past the reply window
    end_session(desk, user)
    assert desk.sim.texts(user.user_id)[-1] == TEXTS.text("session_ended")
    detail = desk.admin("GET", path)[1]
    assert (detail["status"], detail["closedBy"], detail["assignedTo"]) == (
        "closed",
        "user",
        "田中",
    )
    assert detail["followUpUntil"]
    status, body = desk.admin("POST", f"{path}/messages", {"text": "横から", "operator": "佐藤"})
    assert (status, "田中" in body["error"]["message"]) == (409, True)
    desk.sim.clear_inbox(user.user_id)
    status, sent = desk.admin(
        "POST", f"{path}/messages", {"text": "想定問答を用意しましょう。", "operator": "田中"}
    )
    assert (status, sent["accepted"]) == (201, True)
    assert [(d.via, d.message["text"]) for d in desk.sim.inbox(user.user_id)] == [
        ("push", "想定問答を用意しましょう。")
    ]
    status, recorded = desk.admin("POST", f"{path}/close", {"outcome": "助言", "operator": "田中"})
    assert (status, recorded["outcome"], recorded["closedBy"]) == (200, "助言", "user")
    assert len(desk.sim.inbox(user.user_id)) == 1  # no closing message after the user's end


def test_a_session_ended_while_waiting_can_be_claimed_and_answered(desk: RunningDesk) -> None:
    user, session_id = open_session(desk, "session-follow-up-waiting")
    path = f"/api/admin/sessions/{session_id}"
    user.say("誰か答えてくれますか")
    end_session(desk, user)
    desk.sim.clear_inbox(user.user_id)
    assert desk.admin("POST", f"{path}/claim", {"operator": "佐藤"})[0] == 200
    status, sent = desk.admin(
        "POST", f"{path}/messages", {"text": "お答えします。", "operator": "佐藤"}
    )
    assert (status, sent["accepted"]) == (201, True)
    assert desk.sim.texts(user.user_id) == ["お答えします。"]
    detail = desk.admin("GET", path)[1]
    assert (detail["status"], detail["closedBy"], detail["assignedTo"]) == (
        "closed",
        "user",
        "佐藤",
    )


def test_line_s_retry_after_beyond_the_bound_is_honoured(desk: RunningDesk) -> None:
    user, session_id = open_session(desk, "session-retry-after")
    desk.sim.fail_next("push", 429, retry_after=30)  # longer than the 8 s the desk waits
    status, sent = desk.admin(
        "POST",
        f"/api/admin/sessions/{session_id}/messages",
        {"text": "お待たせしました。", "operator": "田中"},
    )
    assert (status, sent["accepted"], sent["message"]["deliveryDetail"]) == (201, False, "HTTP 429")
    assert [c.status for c in desk.sim.calls_to("push")] == [429]  # not retried sooner
    assert desk.sim.texts(user.user_id) == []
