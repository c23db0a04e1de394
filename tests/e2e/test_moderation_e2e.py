"""Prohibited acts, suspension and erasure end to end, down to the bytes of the store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from shared.config import DEFAULT_CONTACT
from shared.domain.privacy import user_key
from shared.texts.catalogue import load_catalogue
from tests.e2e.conftest import AGREE as AGREE_CURRENT
from tests.e2e.conftest import RunningDesk

pytestmark = pytest.mark.e2e
TEXTS = load_catalogue()
HASH_KEY = "j9hca07LChMJQn0ZlhsCKu494phKc6Ekj7rZI4emOIY"  # the host's DESK_HASH_KEY (conftest)


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


def audit_documents(desk: RunningDesk) -> str:
    """The stored audit records, as JSON text."""
    return json.dumps([d for d in desk.documents() if d.get("type") == "audit"], ensure_ascii=False)


def audit_records(desk: RunningDesk) -> list[dict[str, Any]]:
    """The whole audit trail, every page."""
    records: list[dict[str, Any]] = []
    cursor = ""
    while True:
        body = desk.admin("GET", f"/api/admin/audit?limit=200{cursor}")[1]
        records += body["records"]
        if not body["nextCursor"]:
            return records
        cursor = f"&cursor={body['nextCursor']}"


def open_session_id(desk: RunningDesk, user_id: str) -> str:
    session_id = desk.admin("GET", f"/api/admin/users/{user_id}?operator=op-a")[1]["openSessionId"]
    assert session_id
    return str(session_id)


def flags_of(desk: RunningDesk, user_id: str, status: str = "open") -> list[dict[str, Any]]:
    status_code, body = desk.admin("GET", f"/api/admin/flags?status={status}&limit=200")
    assert status_code == 200
    return [f for f in body["flags"] if f["userId"] == user_id]


@contextmanager
def desk_in_state(desk: RunningDesk, state: str) -> Iterator[None]:
    """The service in `state` for the block, open again afterwards (other tests share it)."""
    assert desk.admin("PUT", "/api/admin/service", {"state": state, "operator": "A"})[0] == 200
    try:
        yield
    finally:
        desk.admin("PUT", "/api/admin/service", {"state": "open", "operator": "A"})


def erase_in_the_chat(desk: RunningDesk, user) -> None:
    user.say("データ削除")
    question = desk.sim.inbox(user.user_id)[-1].message
    assert question["type"] == "template", desk.sim.texts(user.user_id)
    user.postback(question["template"]["actions"][0]["data"])
    assert desk.sim.texts(user.user_id)[-1] == TEXTS.text("erased")


def test_flagged_suspended_purged_and_still_blocked(desk: RunningDesk) -> None:
    user = in_session(desk, "mod-spammer")
    secret = "私の本名は山田太郎で、副業の勧誘です"
    user.say(secret)
    user.say("登録はこちら https://bit.ly/kasegu-now")
    desk.sim.clear_inbox(user.user_id)  # the first message's acknowledgement
    (flag,) = flags_of(desk, user.user_id)  # one message, one flag with every reason
    assert [r["reason"] for r in flag["reasons"]] == ["link", "link shortener"]
    assert "bit.ly" not in json.dumps(flag)
    stats_before = [d for d in desk.documents() if d.get("type") == "stat"]
    session_id = open_session_id(desk, user.user_id)
    desk.admin("GET", f"/api/admin/sessions/{session_id}?operator=tanaka")

    status, _ = desk.admin(
        "POST",
        f"/api/admin/users/{user.user_id}/suspend",
        {"clause": "8(3)", "reason": "宣伝目的の利用", "operator": "運用者A"},
    )
    assert status == 200
    user.say("停止されましたか")
    user.say("もしもし")
    assert desk.sim.texts(user.user_id) == [TEXTS.text("suspended_notice", contact=DEFAULT_CONTACT)]

    assert desk.run_timer("purge_suspended")[0] == 202
    leaves_no_trace(desk, user.user_id, secret, "kasegu-now", "停止されましたか")

    user.follow()
    user.say("また使いたいです")
    assert desk.sim.texts(user.user_id) == [
        TEXTS.text("suspended_notice", contact=DEFAULT_CONTACT)
    ]  # no second notice
    leaves_no_trace(desk, user.user_id, "また使いたいです")

    stats_after = [d for d in desk.documents() if d.get("type") == "stat"]
    kept = {d["id"] for d in stats_after}
    assert {d["id"] for d in stats_before} <= kept  # published counts do not change
    assert any(d["kind"] == "erasure" for d in stats_after)

    audit = desk.admin("GET", "/api/admin/audit?limit=200")[1]
    actions = {r["action"] for r in audit["records"]}
    assert {"user.suspend", "user.purge"} <= actions
    assert user.user_id not in json.dumps(audit)
    # A suspended user's keyed hash stays (it keeps them suspended), and nothing else: their
    # records keep action, time and actor, without the session, the flag or the reason.
    key = user_key(HASH_KEY, user.user_id)
    theirs = [r for r in audit["records"] if r["userKey"] == key]
    assert [r["action"] for r in theirs] == [
        "user.read",
        "session.read",
        "user.suspend",
        "user.purge",
    ]
    assert all(r["details"] == {} and r["who"] and r["at"] for r in theirs)
    assert "宣伝目的の利用".encode() not in desk.stored_bytes()
    assert session_id not in audit_documents(desk)
    assert flag["flagId"] not in audit_documents(desk)


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


def test_an_erased_user_who_writes_again_starts_afresh(desk: RunningDesk) -> None:
    newcomer = desk.sim.user("mod-newcomer")
    newcomer.follow()
    first_follow = [d.message for d in desk.sim.inbox(newcomer.user_id)]
    user = in_session(desk, "mod-returning")
    assert desk.admin("POST", f"/api/admin/users/{user.user_id}/erase", {"operator": "A"})[0] == 200
    desk.sim.clear_inbox(user.user_id)

    user.say("また相談したいです")

    assert [d.message for d in desk.sim.inbox(user.user_id)] == first_follow
    status, body = desk.admin("GET", f"/api/admin/users/{user.user_id}?operator=op-a")
    assert status == 200
    assert (body["followed"], body["status"], body["consentStatus"]) == (True, "pending", "pending")
    assert body["firstFollowedAt"] is not None
    assert body["consents"] == []
    assert "また相談したいです" not in desk.stored_text()  # nothing kept before consent
    user.postback(AGREE_CURRENT)
    assert desk.admin("GET", f"/api/admin/users/{user.user_id}")[1]["status"] == "consented"


def test_one_message_raises_one_flag_and_an_action_on_the_user_closes_it(
    desk: RunningDesk,
) -> None:
    user = in_session(desk, "mod-many-reasons")
    user.say("本人のふりをして宣伝します https://bit.ly/many-reasons")
    (flag,) = flags_of(desk, user.user_id)
    assert flag["reasons"] == [
        {"clause": "8(3)", "reason": "link"},
        {"clause": "8(3)", "reason": "link shortener"},
        {"clause": "8(6)", "reason": "listed wording (impersonation)"},
    ]
    assert flag["clauses"] == ["8(3)", "8(6)"]

    path = f"/api/admin/users/{user.user_id}"
    status, body = desk.admin(
        "POST", f"{path}/suspend", {"clause": "§８（３）", "reason": "宣伝", "operator": "運用者B"}
    )
    assert (status, body["clause"]) == (200, "8(3)")
    assert flags_of(desk, user.user_id) == []
    (actioned,) = flags_of(desk, user.user_id, "actioned")
    assert (actioned["flagId"], actioned["status"], actioned["action"]) == (
        flag["flagId"],
        "actioned",
        "suspend",
    )
    assert actioned["actionedBy"] == "運用者B"
    assert actioned["actionedAt"]
    assert (
        desk.admin("POST", f"/api/admin/flags/{flag['flagId']}/dismiss", {"operator": "B"})[0]
        == 409
    )

    other = in_session(desk, "mod-restricted-flagged")
    other.say("https://a.example.com/x")
    assert len(flags_of(desk, other.user_id)) == 1
    desk.admin(
        "POST",
        f"/api/admin/users/{other.user_id}/restrict",
        {"mode": "text_only", "operator": "運用者C"},
    )
    assert flags_of(desk, other.user_id) == []
    assert [(f["action"], f["actionedBy"]) for f in flags_of(desk, other.user_id, "actioned")] == [
        ("restrict", "運用者C")
    ]


@pytest.mark.parametrize("clause", ["8(3)", "§8(3)", "８(３)", "§８（３）", "８（10）"])
def test_a_clause_is_accepted_in_every_way_it_is_written_and_stored_in_one(
    desk: RunningDesk, clause: str
) -> None:
    user = desk.consented_user(f"mod-clause-{clause}")
    status, body = desk.admin(
        "POST",
        f"/api/admin/users/{user.user_id}/suspend",
        {"clause": clause, "reason": "x", "operator": "A"},
    )
    assert status == 200
    assert body["clause"] in ("8(3)", "8(10)")
    assert (
        desk.admin("GET", f"/api/admin/users/{user.user_id}")[1]["suspension"]["clause"]
        == body["clause"]
    )


@pytest.mark.parametrize(
    "clause", ["8(11)", "8(3)\n", "8（３", "第8条3号", "§ 8(3)", "83", 83, None]
)
def test_any_other_clause_is_refused_naming_the_field(desk: RunningDesk, clause: object) -> None:
    user = desk.consented_user(f"mod-bad-clause-{clause!s}")
    status, body = desk.admin(
        "POST",
        f"/api/admin/users/{user.user_id}/suspend",
        {"clause": clause, "reason": "x", "operator": "A"},
    )
    assert (status, body["error"]["field"]) == (400, "clause")
    assert body["error"]["message"].startswith("clause：次のいずれかを指定してください：")


def test_erasure_on_request_leaves_audit_records_that_cannot_be_linked_back(
    desk: RunningDesk,
) -> None:
    user = in_session(desk, "mod-unlinkable")
    user.say("相談の中身です https://example.com/unlinkable")
    (flag,) = flags_of(desk, user.user_id)
    session_id = open_session_id(desk, user.user_id)
    desk.admin("GET", f"/api/admin/sessions/{session_id}?operator=tanaka")
    desk.admin("POST", f"/api/admin/sessions/{session_id}/claim", {"operator": "田中"})
    desk.admin(
        "POST",
        f"/api/admin/sessions/{session_id}/messages",
        {"text": "回答です", "operator": "田中"},
    )
    path = f"/api/admin/users/{user.user_id}"
    reason = "自由記述の停止理由です"
    desk.admin(
        "POST", f"{path}/suspend", {"clause": "8(3)", "reason": reason, "operator": "運用者A"}
    )
    desk.admin("POST", f"{path}/reinstate", {"operator": "運用者A"})
    key = user_key(HASH_KEY, user.user_id)
    before = [(r["action"], r["who"], r["at"]) for r in audit_records(desk) if r["userKey"] == key]
    assert len(before) >= 6
    assert session_id in audit_documents(desk)  # the links the erasure must cut

    assert desk.admin("POST", f"{path}/erase", {"operator": "窓口担当U"})[0] == 200

    stored = desk.stored_bytes()
    assert key[:16].encode() not in stored  # neither the keyed hash nor its log pseudonym
    assert reason.encode() not in stored
    audit_text = audit_documents(desk)
    assert session_id not in audit_text
    assert flag["flagId"] not in audit_text
    records = audit_records(desk)
    assert all(r["userKey"] != key for r in records)
    (erase,) = [r for r in records if r["action"] == "user.erase" and r["who"] == "窓口担当U"]
    token = erase["userKey"]
    assert token.startswith("erased-")
    theirs = [r for r in records if r["userKey"] == token]
    assert [(r["action"], r["who"], r["at"]) for r in theirs[:-1]] == before  # kept
    assert all(r["details"] == {} for r in theirs)  # and nothing else


def test_a_purged_user_reinstated_leaves_no_keyed_hash_in_the_audit(desk: RunningDesk) -> None:
    user = desk.consented_user("mod-purged-reinstated")
    path = f"/api/admin/users/{user.user_id}"
    desk.admin("POST", f"{path}/suspend", {"clause": "8(5)", "reason": "連投です", "operator": "A"})
    assert desk.run_timer("purge_suspended")[0] == 202
    key = user_key(HASH_KEY, user.user_id)
    assert key.encode() in desk.stored_bytes()  # kept while they are suspended
    assert desk.admin("POST", f"{path}/reinstate", {"operator": "A"})[0] == 200
    assert key[:16].encode() not in desk.stored_bytes()
    assert [r["action"] for r in audit_records(desk) if r["action"] == "user.reinstate"]


def test_erasure_in_the_chat_is_honoured_in_maintenance_and_when_ended(desk: RunningDesk) -> None:
    for state in ("maintenance", "ended"):
        user = in_session(desk, f"mod-erase-{state}")
        user.say(f"{state}前の相談です")
        with desk_in_state(desk, state):
            erase_in_the_chat(desk, user)
        leaves_no_trace(desk, user.user_id, f"{state}前の相談です")


def test_erasure_in_the_chat_is_honoured_over_the_flood_limit(desk: RunningDesk) -> None:
    user = in_session(desk, "mod-erase-flooding")
    desk.admin(
        "POST",
        f"/api/admin/users/{user.user_id}/restrict",
        {"mode": "lower_limit", "perMinute": 1, "perDay": 1, "operator": "A"},
    )
    user.say("一通目です")
    user.say("二通目です")
    assert TEXTS.text("flood_notice") in desk.sim.texts(user.user_id)  # over the limit
    erase_in_the_chat(desk, user)
    leaves_no_trace(desk, user.user_id, "一通目です")
