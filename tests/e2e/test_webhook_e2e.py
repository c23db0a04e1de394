"""The desk end to end: LINE (simulated) -> the local host -> the desk -> LINE."""

from __future__ import annotations

import json
import uuid

import pytest

from devtools.linesim import sign
from shared.services.line.answering import retry_key_for
from shared.texts.catalogue import load_catalogue
from tests.e2e.conftest import FUNCTION_KEY, MASTER_KEY, SECRET, RunningDesk

pytestmark = pytest.mark.e2e
TEXTS = load_catalogue()


def test_follow_gets_the_greeting_and_the_consent_question(desk: RunningDesk) -> None:
    delivery = desk.sim.user("e2e-follow").follow()
    assert delivery.status == 200
    greeting, summary, question = desk.sim.inbox("e2e-follow")
    assert greeting.message["text"] == TEXTS.text("greeting")
    assert "運用ポリシー" in summary.message["text"]
    assert question.message["type"] == "template"
    assert {d.via for d in (greeting, summary, question)} == {"reply"}


def test_text_from_a_consented_user_without_a_session_is_kept_and_the_topics_offered(
    desk: RunningDesk,
) -> None:
    user = desk.consented_user("e2e-text")
    user.say("キャリアの相談をしたいです")
    assert desk.sim.texts(user.user_id) == [TEXTS.text("draft_kept")]
    (draft,) = [d for d in desk.documents() if d.get("text") == "キャリアの相談をしたいです"]
    assert (draft["sessionId"], draft["userId"]) == ("draft", user.user_id)


def test_line_verify_request_gets_200(desk: RunningDesk) -> None:
    assert desk.sim.post_events([]).status == 200


@pytest.mark.parametrize(
    "signature",
    [None, "", sign("another-secret", b"{}"), "A" * 44],
    ids=["missing", "empty", "other-secret", "garbage"],
)
def test_a_forged_webhook_is_refused_and_leaves_no_trace(desk: RunningDesk, signature) -> None:
    user = desk.sim.user("e2e-forged")
    body = json.dumps({"destination": "U0", "events": [user.text_event("偽の秘密メッセージ")]})
    rows_before = desk.stored_rows()
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["x-line-signature"] = signature
    status, _ = desk.http("POST", "/api/line/webhook", body.encode(), headers)
    assert status == 401
    assert desk.stored_rows() == rows_before
    assert desk.sim.calls == []
    assert "偽の秘密" not in desk.log.read_text("utf-8")


def test_a_signed_but_malformed_body_is_400(desk: RunningDesk) -> None:
    body = b'{"events": "nope"}'
    status, answer = desk.http(
        "POST",
        "/api/line/webhook",
        body,
        {"x-line-signature": sign(SECRET, body), "Content-Type": "application/json"},
    )
    assert status == 400
    assert json.loads(answer)["error"]["code"] == "malformed_payload"


def test_an_oversized_body_is_413(desk: RunningDesk) -> None:
    body = b'{"events": []}' + b" " * 1_000_001
    status, _ = desk.http(
        "POST",
        "/api/line/webhook",
        body,
        {"x-line-signature": sign(SECRET, body), "Content-Type": "application/json"},
    )
    assert status == 413


def test_other_methods_are_405(desk: RunningDesk) -> None:
    assert desk.http("GET", "/api/line/webhook")[0] == 405


def test_a_redelivered_event_is_answered_once(desk: RunningDesk) -> None:
    user = desk.consented_user("e2e-redelivery")
    first = user.say("こんにちは")
    again = user.redeliver(first)
    assert (first.status, again.status) == (200, 200)
    assert desk.sim.texts(user.user_id) == [TEXTS.text("draft_kept")]


def test_a_refused_reply_falls_back_to_a_push_with_a_retry_key(desk: RunningDesk) -> None:
    user = desk.consented_user("e2e-push")
    event = user.text_event("こんにちは")
    desk.sim.expire_reply_tokens()
    assert user.send(event).status == 200
    assert {d.via for d in desk.sim.inbox(user.user_id)} == {"push"}
    (push,) = [c for c in desk.sim.calls_to("push") if c.status == 200]
    assert push.retry_key == retry_key_for(event["webhookEventId"])
    uuid.UUID(push.retry_key)


def test_when_line_is_down_the_desk_asks_for_redelivery_and_then_answers_once(desk) -> None:
    user = desk.consented_user("e2e-outage")
    desk.sim.fail_next("reply", 500)
    desk.sim.fail_next("push", 503)
    first = user.say("こんにちは")
    assert first.status == 503
    assert desk.sim.inbox(user.user_id) == []
    assert user.redeliver(first).status == 200
    assert user.redeliver(first).status == 200
    assert desk.sim.texts(user.user_id) == [TEXTS.text("draft_kept")]


def test_admin_health_needs_the_function_key(desk: RunningDesk) -> None:
    assert desk.http("GET", "/api/admin/health")[0] == 401
    status, body = desk.admin("GET", "/api/admin/health")
    assert status == 200
    assert body["status"] == "ok"
    assert body["environment"] == "Development"
    assert body["store"] == desk.store


def test_the_housekeeping_timer_runs_on_the_admin_endpoint(desk: RunningDesk) -> None:
    json_type = {"Content-Type": "application/json"}
    assert desk.http("POST", "/admin/functions/housekeeping", b"{}", json_type)[0] == 401
    key = {"x-functions-key": MASTER_KEY, "Content-Type": "application/x-www-form-urlencoded"}
    # As on the real host, the admin API takes JSON only.
    assert desk.http("POST", "/admin/functions/housekeeping", b"{}", key)[0] == 415
    status, summary = desk.run_timer("housekeeping")
    assert status == 202
    assert summary.startswith("timer housekeeping examined=")
    function_key = {"x-functions-key": FUNCTION_KEY, **json_type}
    assert desk.http("POST", "/admin/functions/housekeeping", b"{}", function_key)[0] == 401


def test_the_log_holds_no_user_ids_and_no_message_text(desk: RunningDesk) -> None:
    user = desk.consented_user("e2e-privacy")
    desk.sim.fail_next("reply", 500)
    desk.sim.fail_next("push", 500)
    user.say("とても個人的な相談です")  # fails, so the desk logs about it
    desk.admin("GET", f"/api/admin/users/{user.user_id}")
    log = desk.log.read_text("utf-8")
    assert "event failed" in log
    assert user.user_id not in log
    assert "個人的な相談" not in log
