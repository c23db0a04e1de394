"""Hand-over of sessions (release, transfer) with App Service authentication on.

This module's host runs with DESK_REQUIRE_APP_ROLES=true, as production does: every call
carries the function key and an X-MS-CLIENT-PRINCIPAL, and the expert is the principal.
"""

from __future__ import annotations

import base64
import json

import pytest

from devtools.linesim import SimUser
from tests.e2e.conftest import FUNCTION_KEY, RunningDesk

pytestmark = pytest.mark.e2e
# The module's tests claim many sessions as the same expert over the module's life: the
# per-expert limit (DESK_EXPERT_MAX_OPEN, tested in test_board*) is set out of their way.
HOST_ENV = {"DESK_REQUIRE_APP_ROLES": "true", "DESK_EXPERT_MAX_OPEN": "1000"}


def principal(name: str, *roles: str) -> str:
    claims = [{"typ": "name", "val": name}] + [{"typ": "roles", "val": r} for r in roles]
    data = {"auth_typ": "aad", "name_typ": "name", "role_typ": "roles", "claims": claims}
    return base64.b64encode(json.dumps(data).encode()).decode()


TANAKA = principal("田中", "Desk.Expert")
SATO = principal("佐藤", "Desk.Expert")
ADMIN = principal("管理者", "Desk.Admin")
READER = principal("閲覧者", "Desk.Reader")


def call(
    desk: RunningDesk, method: str, path: str, who: str | None, payload: object = None
) -> tuple[int, dict]:
    headers = {"x-functions-key": FUNCTION_KEY}
    if who is not None:
        headers["x-ms-client-principal"] = who
    if isinstance(payload, bytes):
        body = payload
    else:
        body = json.dumps(payload).encode() if payload is not None else b""
    status, answer = desk.http(method, path, body, headers)
    return status, json.loads(answer) if answer else {}


def claimed_session(desk: RunningDesk, name: str, who: str = TANAKA) -> tuple[SimUser, str]:
    user = desk.consented_user(name)
    user.postback("action=topic&topic=career")
    user.say("相談があります")
    desk.sim.clear_inbox(user.user_id)
    mine = {
        d["id"]
        for d in desk.documents()
        if d.get("type") == "session" and d.get("userId") == user.user_id
    }
    (session_id,) = mine
    assert call(desk, "POST", f"/api/admin/sessions/{session_id}/claim", who)[0] == 200
    return user, session_id


def test_the_holder_transfers_and_the_new_holder_releases(desk: RunningDesk) -> None:
    user, session_id = claimed_session(desk, "handover-happy")
    path = f"/api/admin/sessions/{session_id}"
    note = "転職理由の整理まで済んでいます"
    status, moved = call(desk, "POST", f"{path}/transfer", TANAKA, {"to": "佐藤", "note": note})
    assert (status, moved["assignedTo"], moved["status"]) == (200, "佐藤", "active")
    status, body = call(desk, "POST", f"{path}/messages", TANAKA, {"text": "まだ私が"})
    assert status == 409
    assert "佐藤" in body["error"]["message"]
    status, sent = call(desk, "POST", f"{path}/messages", SATO, {"text": "佐藤が担当します。"})
    assert (status, sent["accepted"]) == (201, True)
    status, released = call(desk, "POST", f"{path}/release", SATO, {"note": "来週まで不在"})
    assert (status, released["assignedTo"], released["status"]) == (200, None, "waiting")

    detail = call(desk, "GET", path, TANAKA)[1]
    assert [(h["action"], h["by"], h["from"], h["to"], h["note"]) for h in detail["handovers"]] == [
        ("transfer", "田中", "田中", "佐藤", note),
        ("release", "佐藤", "佐藤", None, "来週まで不在"),
    ]
    queue = call(desk, "GET", "/api/admin/sessions?status=waiting&limit=200", SATO)[1]
    assert session_id in {s["sessionId"] for s in queue["sessions"]}
    # Notes are for the staff: nothing of them reached LINE.
    assert desk.sim.texts(user.user_id) == ["佐藤が担当します。"]
    records = call(desk, "GET", "/api/admin/audit?limit=200", ADMIN)[1]["records"]
    mine = [(r["who"], r["action"]) for r in records if r["details"].get("session") == session_id]
    assert ("田中", "session.transfer") in mine
    assert ("佐藤", "session.release") in mine
    assert note not in json.dumps(records, ensure_ascii=False)


def test_someone_else_s_session_is_a_conflict_naming_the_holder(desk: RunningDesk) -> None:
    _, session_id = claimed_session(desk, "handover-conflict")
    path = f"/api/admin/sessions/{session_id}"
    for action, payload in (("release", {}), ("transfer", {"to": "佐藤"})):
        status, body = call(desk, "POST", f"{path}/{action}", SATO, payload)
        assert (status, body["error"]["code"]) == (409, "conflict")
        assert "田中" in body["error"]["message"]
    assert call(desk, "GET", path, SATO)[1]["assignedTo"] == "田中"


def test_a_desk_admin_takes_over_and_it_is_audited(desk: RunningDesk) -> None:
    _, session_id = claimed_session(desk, "handover-admin")
    path = f"/api/admin/sessions/{session_id}"
    status, moved = call(desk, "POST", f"{path}/transfer", ADMIN, {"to": "佐藤"})
    assert (status, moved["assignedTo"]) == (200, "佐藤")
    status, released = call(desk, "POST", f"{path}/release", ADMIN, {"note": "割り振り直し"})
    assert (status, released["assignedTo"]) == (200, None)
    records = call(desk, "GET", "/api/admin/audit?limit=200", ADMIN)[1]["records"]
    takeovers = [
        (r["who"], r["details"]["previous"], r["details"]["during"])
        for r in records
        if r["action"] == "session.takeover" and r["details"].get("session") == session_id
    ]
    assert takeovers == [("管理者", "田中", "transfer"), ("管理者", "佐藤", "release")]


@pytest.mark.parametrize("action", ["release", "transfer"])
def test_callers_without_the_role_are_refused(desk: RunningDesk, action: str) -> None:
    _, session_id = claimed_session(desk, f"handover-roles-{action}")
    path = f"/api/admin/sessions/{session_id}/{action}"
    payload = {"to": "佐藤", "operator": "田中"}
    assert call(desk, "POST", path, None, payload)[0] == 403  # no principal: roles are required
    assert call(desk, "POST", path, READER, payload)[0] == 403  # a wrong role
    assert desk.http("POST", path, json.dumps(payload).encode())[0] == 401  # no function key
    assert call(desk, "GET", f"/api/admin/sessions/{session_id}", TANAKA)[1]["assignedTo"] == "田中"


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("release", b"{not json"),
        ("release", ["a", "list"]),
        ("release", {"note": 5}),
        ("release", {"note": "x" * 1001}),
        ("transfer", b""),
        ("transfer", {}),
        ("transfer", {"to": ""}),
        ("transfer", {"to": ["佐藤"]}),
        ("transfer", {"to": "あ" * 101}),
        ("transfer", {"to": "佐藤", "note": {"text": "x"}}),
        ("transfer", b"\xff\xfe"),
    ],
)
def test_malformed_hand_overs_are_400s(desk: RunningDesk, action: str, payload: object) -> None:
    _, session_id = claimed_session(desk, f"handover-bad-{action}-{abs(hash(str(payload)))}")
    status, body = call(desk, "POST", f"/api/admin/sessions/{session_id}/{action}", TANAKA, payload)
    assert (status, body["error"]["code"]) == (400, "invalid_request")
    assert body["error"]["message"]


@pytest.mark.parametrize("action", ["release", "transfer"])
def test_unknown_and_closed_sessions(desk: RunningDesk, action: str) -> None:
    payload = {"to": "佐藤"}
    unknown = f"/api/admin/sessions/20990101T000000-000000/{action}"
    assert call(desk, "POST", unknown, TANAKA, payload)[0] == 404
    _, session_id = claimed_session(desk, f"handover-closed-{action}")
    path = f"/api/admin/sessions/{session_id}"
    assert call(desk, "POST", f"{path}/close", TANAKA, {"outcome": "助言"})[0] == 200
    status, body = call(desk, "POST", f"{path}/{action}", TANAKA, payload)
    assert (status, "終了" in body["error"]["message"]) == (409, True)
