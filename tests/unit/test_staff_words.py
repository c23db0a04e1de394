"""Honest labels (issue 19, item 7): every audit action and §8 flag reason the code records is
shown to staff in Japanese, with the record's details and the actor; the service status screen
says what really happens to messages."""

from __future__ import annotations

import re
from pathlib import Path

from shared.domain.screening import Finding
from shared.entrypoints.console.pages import audit_action, audit_details, clause_name, flag_reason
from tests.kit.admin_api import api
from tests.unit.test_console import ADMIN, ALICE, a_session, desk, get, post

__all__ = ["desk"]

SHARED = Path(__file__).resolve().parents[2] / "shared"
ACTION = re.compile(r'"((?:session|user|flag|policy|service|staff)\.[a-z_]+)"')


def recorded_actions() -> set[str]:
    found: set[str] = set()
    for path in SHARED.rglob("*.py"):
        found.update(ACTION.findall(path.read_text("utf-8")))
    return found


def test_every_audit_action_has_a_japanese_name() -> None:
    actions = recorded_actions() | {
        f"{k}.{op}" for k in ("canned", "referral") for op in ("create", "update", "delete")
    }
    assert len(actions) > 25, actions  # the scan found them
    unnamed = {a for a in actions if audit_action(a) == a}
    assert unnamed == set()
    assert audit_action("something.new") == "something.new"  # a new code shows as it is


def test_every_flag_reason_has_a_japanese_name() -> None:
    reasons = [
        "link",
        "link shortener",
        "listed domain",
        "affiliate or tracking parameter",
        "sustained flood",
        "listed wording (defamation)",
        "listed wording (others' rights)",
        "listed wording (impersonation)",
    ]
    for reason in reasons:
        assert re.search(
            r"[\u3040-\u30ff\u4e00-\u9fff]", flag_reason(Finding("8(3)", reason).reason)
        )
    assert clause_name("8(3)") == "第8条（3）"


def test_details_are_named_and_yes_no_in_japanese() -> None:
    assert audit_details({"session": "s1", "accepted": True, "note": False}) == [
        ("受付（相談ID）", "s1"),
        ("LINEが受け付けた", "はい"),
        ("メモあり", "いいえ"),
    ]


def test_the_audit_screen_shows_actions_details_and_actors_in_japanese(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    post(f"/console/sessions/{session_id}/close", {"outcome": "advice"})
    api(desk).experts.claim(a_session(desk, sim, line, "bob", "相談です"), "鈴木")
    _, _, page = get("/console/admin/audit", principal=ADMIN)
    assert ">相談を終了</span>" in page
    assert ">相談を担当</span>" in page
    assert "結果：助言" in page
    assert "相談員A" in page
    assert "詳細" in page


def test_the_status_screen_says_what_happens_to_messages(desk) -> None:
    _, _, page = get("/console/admin/status", principal=ADMIN)
    assert "届いたメッセージは保存しません" in page
    assert "危機を示すメッセージは相談に記録し" in page
    assert "入力したメッセージが届きます" not in page
    assert get("/console/admin/status", principal=ALICE)[0] == 403
