"""Prohibited acts, suspension and erasure end to end, down to the bytes of the store."""

from __future__ import annotations

import json

import pytest

from shared.texts.catalogue import load_catalogue
from tests.e2e.conftest import RunningDesk

pytestmark = pytest.mark.e2e
TEXTS = load_catalogue()


def in_session(desk: RunningDesk, name: str):
    user = desk.consented_user(name)
    user.postback("action=topic&topic=income")
    desk.sim.clear_inbox(user.user_id)
    return user


def leaves_no_trace(desk: RunningDesk, user_id: str, *texts: str) -> None:
    stored = desk.stored_bytes()
    assert user_id.encode() not in stored
    for text in texts:
        assert text.encode("utf-8") not in stored


def test_flagged_suspended_purged_and_still_blocked(desk: RunningDesk) -> None:
    user = in_session(desk, "mod-spammer")
    secret = "私の本名は山田太郎で、副業の勧誘です"
    user.say(secret)
    user.say("登録はこちら https://bit.ly/kasegu-now")
    status, body = desk.admin("GET", "/api/admin/flags?status=open&limit=200")
    mine = [f for f in body["flags"] if f["userId"] == user.user_id]
    assert {f["reason"] for f in mine} == {"link", "link shortener"}
    assert "bit.ly" not in json.dumps(body)
    stats_before = [d for d in desk.documents() if d.get("type") == "stat"]

    status, _ = desk.admin(
        "POST",
        f"/api/admin/users/{user.user_id}/suspend",
        {"clause": "8(3)", "reason": "宣伝目的の利用", "operator": "運用者A"},
    )
    assert status == 200
    user.say("停止されましたか")
    user.say("もしもし")
    assert desk.sim.texts(user.user_id) == [TEXTS.text("suspended_notice")]

    assert desk.run_timer("purge_suspended")[0] == 202
    leaves_no_trace(desk, user.user_id, secret, "kasegu-now", "停止されましたか")

    user.follow()
    user.say("また使いたいです")
    assert desk.sim.texts(user.user_id) == [TEXTS.text("suspended_notice")]  # no second notice
    leaves_no_trace(desk, user.user_id, "また使いたいです")

    stats_after = [d for d in desk.documents() if d.get("type") == "stat"]
    kept = {d["id"] for d in stats_after}
    assert {d["id"] for d in stats_before} <= kept  # published counts do not change
    assert any(d["kind"] == "erasure" for d in stats_after)

    audit = desk.admin("GET", "/api/admin/audit?limit=200")[1]
    actions = {r["action"] for r in audit["records"]}
    assert {"user.suspend", "user.purge"} <= actions
    assert user.user_id not in json.dumps(audit)


def test_erasure_asked_for_in_the_chat(desk: RunningDesk) -> None:
    user = in_session(desk, "mod-eraser")
    user.say("消してほしい相談内容")
    user.say("データ削除")
    question = desk.sim.inbox(user.user_id)[-1].message
    assert question["type"] == "template"
    yes = question["template"]["actions"][0]["data"]
    user.postback(yes)
    assert desk.sim.texts(user.user_id)[-1] == TEXTS.text("erased")
    leaves_no_trace(desk, user.user_id, "消してほしい相談内容")


def test_erasure_asked_for_by_post_or_phone(desk: RunningDesk) -> None:
    user = in_session(desk, "mod-by-phone")
    user.say("電話で削除を頼みます")
    status, body = desk.admin(
        "POST", f"/api/admin/users/{user.user_id}/erase", {"operator": "窓口担当"}
    )
    assert (status, body["erased"], body["userTold"]) == (200, True, True)
    assert desk.sim.texts(user.user_id)[-1] == TEXTS.text("erased_by_admin")
    leaves_no_trace(desk, user.user_id, "電話で削除を頼みます")
    assert (
        desk.admin("POST", f"/api/admin/users/{user.user_id}/erase", {"operator": "窓口担当"})[0]
        == 404
    )


def test_restrict_and_reinstate(desk: RunningDesk) -> None:
    user = in_session(desk, "mod-restricted")
    path = f"/api/admin/users/{user.user_id}"
    status, body = desk.admin(
        "POST", f"{path}/restrict", {"mode": "read_only", "days": 3, "operator": "運用者A"}
    )
    assert (status, body["restriction"]["mode"]) == (200, "read_only")
    user.say("書き込めますか")
    assert desk.sim.texts(user.user_id) == [TEXTS.text("restricted_read_only")]
    assert desk.admin("GET", path)[1]["restriction"]["mode"] == "read_only"
    assert desk.admin("POST", f"{path}/reinstate", {"operator": "運用者A"})[0] == 200
    assert desk.admin("GET", path)[1]["restriction"] is None


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("suspend", {"clause": "99", "reason": "x", "operator": "A"}),
        ("suspend", {"clause": "8(3)", "operator": "A"}),
        ("restrict", {"mode": "mute", "operator": "A"}),
        ("restrict", {"mode": "read_only"}),
    ],
)
def test_bad_operator_requests_get_reasons(desk: RunningDesk, action, payload) -> None:
    user = desk.consented_user(f"mod-bad-{action}-{len(payload)}")
    status, body = desk.admin("POST", f"/api/admin/users/{user.user_id}/{action}", payload)
    assert status == 400
    assert body["error"]["message"]


def test_unknown_users_and_flags(desk: RunningDesk) -> None:
    nobody = "U" + "0" * 32
    assert (
        desk.admin(
            "POST",
            f"/api/admin/users/{nobody}/suspend",
            {"clause": "8(3)", "reason": "x", "operator": "A"},
        )[0]
        == 404
    )
    assert desk.admin("POST", "/api/admin/users/not-an-id/erase", {"operator": "A"})[0] == 400
    assert (
        desk.admin(
            "POST", "/api/admin/flags/20990101T000000-0000000000/dismiss", {"operator": "A"}
        )[0]
        == 404
    )
    assert desk.http("GET", "/api/admin/flags")[0] == 401
