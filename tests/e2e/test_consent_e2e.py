"""Consent end to end: the buttons, the gate, receipts, withdrawal and the admin view."""

from __future__ import annotations

import pytest

from shared.texts.catalogue import load_catalogue
from tests.e2e.conftest import AGREE, CURRENT, DECLINE, POLICY_URL, RunningDesk

pytestmark = pytest.mark.e2e
TEXTS = load_catalogue()


def consents(desk: RunningDesk, user_id: str) -> list[tuple[str, str]]:
    status, body = desk.admin("GET", f"/api/admin/users/{user_id}")
    assert status == 200
    return [(c["policyVersion"], c["method"]) for c in body["consents"]]


def test_agree_then_use_then_receipt_then_withdraw(desk: RunningDesk) -> None:
    user = desk.sim.user("consent-happy")
    user.follow()
    question = desk.sim.inbox(user.user_id)[-1].message
    actions = question["template"]["actions"]
    assert [a["label"] for a in actions] == ["同意する", "同意しない"]
    assert [a["data"] for a in actions] == [AGREE, DECLINE]
    desk.sim.clear_inbox(user.user_id)

    user.postback(AGREE)
    thanks, menu = desk.sim.texts(user.user_id)
    assert "2025年10月24日版" in thanks
    assert menu == TEXTS.text("menu")
    assert consents(desk, user.user_id) == [(CURRENT, "explicit")]
    desk.sim.clear_inbox(user.user_id)

    user.say("相談できますか")
    assert desk.sim.texts(user.user_id) == [TEXTS.text("draft_kept")]
    desk.sim.clear_inbox(user.user_id)

    user.say("同意内容の確認")
    (receipt,) = desk.sim.texts(user.user_id)
    assert "2025年10月24日版" in receipt
    assert POLICY_URL in receipt
    assert "ボタンによる同意" in receipt
    desk.sim.clear_inbox(user.user_id)

    user.say("同意を撤回")
    assert desk.sim.texts(user.user_id) == [TEXTS.text("withdraw_question")]
    assert consents(desk, user.user_id)[-1] == (CURRENT, "explicit")  # one tap withdraws nothing
    question = desk.sim.inbox(user.user_id)[-1].message["template"]
    desk.sim.clear_inbox(user.user_id)
    user.postback(question["actions"][0]["data"])
    assert desk.sim.texts(user.user_id) == [TEXTS.text("withdrawn")]
    assert consents(desk, user.user_id)[-1] == (CURRENT, "withdrawn")
    assert desk.admin("GET", f"/api/admin/users/{user.user_id}")[1]["status"] == "withdrawn"


def test_before_consent_the_full_prompt_answers_once_then_a_reminder(desk: RunningDesk) -> None:
    user = desk.sim.user("consent-gate")
    user.follow()
    desk.sim.clear_inbox(user.user_id)
    user.say("まだ同意していません")
    user.sticker()
    # Prompted a moment ago, on follow: a one-line reminder each, never silence.
    assert desk.sim.texts(user.user_id) == [TEXTS.text("consent_reminder")] * 2
    assert "まだ同意していません" not in desk.stored_text()
    assert consents(desk, user.user_id) == []


def test_declining_is_recorded_and_explained(desk: RunningDesk) -> None:
    user = desk.sim.user("consent-decline")
    user.follow()
    desk.sim.clear_inbox(user.user_id)
    user.postback(DECLINE)
    assert desk.sim.texts(user.user_id) == [TEXTS.text("consent_declined")]
    assert consents(desk, user.user_id) == [(CURRENT, "declined")]


def test_a_stale_postback_gets_the_current_prompt(desk: RunningDesk) -> None:
    user = desk.sim.user("consent-stale")
    user.follow()
    desk.sim.clear_inbox(user.user_id)
    user.postback("action=consent&version=2025-09-26&answer=yes")
    texts = desk.sim.texts(user.user_id)
    assert texts[0] == TEXTS.text("consent_stale")
    assert desk.sim.inbox(user.user_id)[-1].message["template"]["actions"][0]["data"] == AGREE
    assert consents(desk, user.user_id) == []


def test_admin_user_view_needs_the_key_and_knows_unknown_users(desk: RunningDesk) -> None:
    assert desk.http("GET", "/api/admin/users/U" + "0" * 32)[0] == 401
    assert desk.admin("GET", "/api/admin/users/U" + "0" * 32)[0] == 404
    status, body = desk.admin("GET", "/api/admin/users/not-a-user")
    assert status == 400
    assert body["error"]["code"] == "invalid_request"


def test_unfollow_shows_in_the_admin_view(desk: RunningDesk) -> None:
    user = desk.consented_user("consent-unfollow")
    user.unfollow()
    body = desk.admin("GET", f"/api/admin/users/{user.user_id}")[1]
    assert (body["followed"], body["status"]) == (False, "unfollowed")


def test_policies_are_listed_and_bad_registrations_get_reasons(desk: RunningDesk) -> None:
    status, body = desk.admin("GET", "/api/admin/policies")
    assert status == 200
    assert body["current"] == CURRENT
    assert [v["versionId"] for v in body["versions"]] == ["2025-09-26", "2025-10-24"]
    assert desk.http("POST", "/api/admin/policies", b"{}")[0] == 401
    bad = {"versionId": "x1", "effectiveDate": "2030/01/01", "url": POLICY_URL, "text": "t"}
    status, body = desk.admin("POST", "/api/admin/policies", bad)
    assert status == 400
    assert body["error"]["field"] == "effectiveDate"
    status, body = desk.admin("POST", "/api/admin/policies", ["not", "an", "object"])
    assert status == 400
    past = {**bad, "effectiveDate": "2025-10-01"}
    assert desk.admin("POST", "/api/admin/policies", past)[0] == 409
    duplicate = {**bad, "versionId": CURRENT, "effectiveDate": "2030-01-01"}
    assert desk.admin("POST", "/api/admin/policies", duplicate)[0] == 409
    status, body = desk.admin("POST", "/api/admin/policies", {**bad, "effectiveDate": "2030-01-01"})
    assert status == 201
    assert body["versionId"] == "x1"
    assert desk.admin("GET", "/api/admin/policies")[1]["current"] == CURRENT
