"""Reads of personal data, from outside (issue 22, items 4 and 5): every one is audited, and
experts get the desk's pseudonym, never a raw LINE user id."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devtools.host import dev_principal
from tests.e2e.conftest import FUNCTION_KEY, RunningDesk

pytestmark = pytest.mark.e2e

KEY = {"x-functions-key": FUNCTION_KEY}
EXPERT = {**KEY, "x-ms-client-principal": dev_principal("田中", ["Desk.Expert"])}
ADMIN = {**KEY, "x-ms-client-principal": dev_principal("管理者", ["Desk.Admin"])}


def get(desk: RunningDesk, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    status, answer = desk.http("GET", path, b"", headers)
    try:
        return status, json.loads(answer)
    except ValueError:
        return status, answer.decode("utf-8")


def audit(desk: RunningDesk) -> list[dict[str, Any]]:
    """Every audit record, read as the operators' API gives them."""
    records: list[dict[str, Any]] = []
    cursor = ""
    while True:
        status, page = get(desk, f"/api/admin/audit?limit=200{cursor}", KEY)
        assert status == 200
        records += page["records"]
        if not page["nextCursor"]:
            return records
        cursor = f"&cursor={page['nextCursor']}"


def opened(desk: RunningDesk, name: str) -> tuple[str, str]:
    user = desk.consented_user(name)
    user.postback("action=topic&topic=career")
    user.say("相談があります")
    (session_id,) = {
        d["id"]
        for d in desk.documents()
        if d.get("type") == "session" and d.get("userId") == user.user_id
    }
    return user.user_id, session_id


def test_an_expert_gets_the_pseudonym_and_an_admin_the_audited_raw_id(desk: RunningDesk) -> None:
    user_id, session_id = opened(desk, "reads-id")
    status, seen = get(desk, f"/api/admin/sessions/{session_id}", EXPERT)
    assert status == 200
    assert "userId" not in seen
    assert user_id not in json.dumps(seen)
    assert len(seen["user"]) == 8
    before = [r for r in audit(desk) if r["action"] == "user.id_read"]
    status, full = get(desk, f"/api/admin/sessions/{session_id}", ADMIN)
    assert (status, full["userId"], full["user"]) == (200, user_id, seen["user"])
    after = [r for r in audit(desk) if r["action"] == "user.id_read"]
    assert len(after) == len(before) + 1
    assert after[-1]["who"] == "管理者"


@pytest.mark.parametrize(
    ("path", "headers", "action"),
    [
        ("/api/admin/flags", KEY, "flags.read"),
        ("/api/admin/audit", KEY, "audit.read"),
        ("/console/admin/flags", ADMIN, "flags.read"),
        ("/console/admin/audit", ADMIN, "audit.read"),
        ("/console/sessions/{session}/attention", EXPERT, "session.attention"),
        ("/console/admin/erase?ref={reference}", ADMIN, "session.lookup"),
    ],
)
def test_every_read_of_personal_data_is_audited(
    desk: RunningDesk, path: str, headers: dict[str, str], action: str
) -> None:
    _, session_id = opened(desk, f"reads-{action}-{len(path)}")
    reference = next(d for d in desk.documents() if d.get("id") == session_id)["reference"]
    before = len([r for r in audit(desk) if r["action"] == action])
    target = path.format(session=session_id, reference=reference)
    assert get(desk, target, headers)[0] == 200
    assert len([r for r in audit(desk) if r["action"] == action]) > before
