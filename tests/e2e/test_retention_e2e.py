"""Retention and a user's copy of their data (issue 16), through the HTTP surface, on SQLite
and on the Cosmos test server. This module's host runs with DESK_RETENTION_DAYS=0 (the next
run erases every closed session's text) and App Service roles required."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.e2e.conftest import FUNCTION_KEY, RunningDesk

pytestmark = pytest.mark.e2e
CONTACT = "〒260-8667 千葉市中央区市場町1-1 運営事務局 043-000-0000"
HOST_ENV = {
    "DESK_RETENTION_DAYS": "0",
    "DESK_REQUIRE_APP_ROLES": "true",
    "DESK_CONTACT": CONTACT,
}


def principal(name: str, *roles: str) -> str:
    claims = [{"typ": "name", "val": name}] + [{"typ": "roles", "val": r} for r in roles]
    data = {"auth_typ": "aad", "name_typ": "name", "role_typ": "roles", "claims": claims}
    return base64.b64encode(json.dumps(data).encode()).decode()


ADMIN = principal("管理者", "Desk.Admin")
EXPERT = principal("田中", "Desk.Expert")


def call(
    desk: RunningDesk, method: str, path: str, who: str | None = ADMIN, payload: object = None
) -> tuple[int, Any, str]:
    headers = {"x-functions-key": FUNCTION_KEY}
    if who is not None:
        headers["x-ms-client-principal"] = who
    body = json.dumps(payload).encode() if payload is not None else b""
    status, answer = desk.http(method, path, body, headers)
    text = answer.decode("utf-8")
    try:
        return status, json.loads(text), text
    except ValueError:
        return status, None, text


def consultation(desk: RunningDesk, name: str, words: str, answer: str, note: str) -> str:
    """A user's session with their words, an expert's answer and a hand-over note."""
    user = desk.consented_user(name)
    user.postback("action=topic&topic=career")
    user.say(words)
    (session_id,) = {
        d["id"]
        for d in desk.documents()
        if d.get("type") == "session" and d.get("userId") == user.user_id
    }
    base = f"/api/admin/sessions/{session_id}"
    assert call(desk, "POST", f"{base}/messages", ADMIN, {"text": answer})[0] == 201
    assert call(desk, "POST", f"{base}/transfer", ADMIN, {"to": "佐藤", "note": note})[0] == 200
    return user.user_id


def console_post(desk: RunningDesk, path: str, form: dict[str, str]) -> int:
    """A same-site htmx POST of the experts' console, signed in as an expert."""
    headers = {
        "x-ms-client-principal": EXPERT,
        "HX-Request": "true",
        "Origin": desk.base_url,
        "Sec-Fetch-Site": "same-origin",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    status, _ = desk.http("POST", path, urlencode(form).encode(), headers)
    return status


def session_of(desk: RunningDesk, user_id: str) -> str:
    return next(
        d["id"] for d in desk.documents() if d.get("type") == "session" and d["userId"] == user_id
    )


def test_closed_sessions_lose_their_text_down_to_the_bytes(desk: RunningDesk) -> None:
    secret, answer, note = (
        "退職を考えている本当の理由",
        "まず有給の残りを確認しましょう",
        "給与の話は慎重に",
    )
    user_id = consultation(desk, "ret-closed", secret, answer, note)
    open_words = "まだ続いている相談の内容"
    still_open = consultation(desk, "ret-open", open_words, "続けて伺います", "続きの引継ぎ")
    session_id = session_of(desk, user_id)
    private = "相談員だけの私的なメモ"
    assert console_post(desk, f"/console/sessions/{session_id}/notes", {"text": private}) == 200
    status, _, _ = call(
        desk, "POST", f"/api/admin/sessions/{session_id}/close", ADMIN, {"outcome": "助言"}
    )
    assert status == 200
    stats_before = sorted(
        json.dumps(d, sort_keys=True) for d in desk.documents() if d.get("type") == "stat"
    )

    status, summary = desk.run_timer("purge_expired")

    assert status == 202
    assert summary.startswith("timer purge_expired examined=")
    assert " sessions=1 " in summary
    assert summary.strip() in desk.log.read_text()
    stored = desk.stored_bytes()
    for gone in (secret, answer, note, private):
        assert gone.encode("utf-8") not in stored
    for kept in (open_words, "続けて伺います", "続きの引継ぎ"):
        assert kept.encode("utf-8") in stored  # an open session keeps its text
    stats_after = sorted(
        json.dumps(d, sort_keys=True) for d in desk.documents() if d.get("type") == "stat"
    )
    assert stats_after == stats_before  # statistics do not change
    status, detail, _ = call(desk, "GET", f"/api/admin/sessions/{session_id}")
    assert status == 200
    # The user's message, the answer and the closing message the user received: all blanked.
    assert [(m["role"], m["text"]) for m in detail["messages"]] == [
        ("user", None),
        ("expert", None),
        ("desk", None),
    ]
    assert still_open != user_id
    _, again = desk.run_timer("purge_expired")
    assert " sessions=0 " in again  # idempotent: nothing left to erase


def _held_under(desk: RunningDesk, user_id: str) -> list[dict[str, Any]]:
    return [d for d in desk.documents() if d.get("userId") == user_id]


def test_the_export_holds_everything_stored_under_the_user_and_nothing_else(
    desk: RunningDesk,
) -> None:
    user_id = consultation(
        desk, "ret-export", "開示してほしい相談", "回答の本文です", "開示用のメモ"
    )
    other = consultation(desk, "ret-other", "他人の相談内容", "他人への回答", "他人のメモ")
    user = desk.sim.user("ret-export")
    user.say("登録はこちら https://bit.ly/export-flag")  # raises a flag about them
    session_id = session_of(desk, user_id)
    base = f"/console/sessions/{session_id}"
    assert console_post(desk, f"{base}/notes", {"text": "開示用の相談メモ"}) == 200
    assert (
        console_post(desk, f"{base}/user-note", {"text": "開示用の利用者メモ", "version": ""})
        == 200
    )
    assert (
        console_post(
            desk, f"/console/sessions/{session_of(desk, other)}/notes", {"text": "他人の相談メモ"}
        )
        == 200
    )

    status, export, raw = call(desk, "GET", f"/api/admin/users/{user_id}/export")

    assert status == 200
    assert other not in raw
    for foreign in ("他人の相談内容", "他人への回答", "他人のメモ", "他人の相談メモ"):
        assert foreign not in raw
    listed = {
        "session": {s["sessionId"] for s in export["sessions"]},
        "message": {m["messageId"] for s in export["sessions"] for m in s["messages"]},
        "flag": {f["flagId"] for f in export["flags"]},
        "event": {r["id"] for r in export["eventReceipts"]},
        "statmark": {m["id"] for m in export["statisticsMarks"]},
        "consent": {f"consent:{c['eventId']}:{c['method']}" for c in export["consents"]},
        "user": {"user"},
        "activity": {f"{export['user']['activeDay']}:{user_id}"},
        "note": {
            f"note:{s['sessionId']}:{n['noteId']}" for s in export["sessions"] for n in s["notes"]
        },
        "usernote": {"usernote"} if export["userNote"] else set(),
        "flood": {f["id"] for f in export["floodCounts"]},
        "carry": {c["id"] for c in export["deliveryClaims"]},
    }
    held = _held_under(desk, user_id)
    assert held
    for doc in held:
        assert doc["id"] in listed[doc["type"]], doc["type"]  # nothing missing
    for kind, ids in listed.items():
        assert ids <= {d["id"] for d in held if d["type"] == kind}, kind  # nothing invented
    texts = [m["text"] for s in export["sessions"] for m in s["messages"]]
    assert "開示してほしい相談" in texts
    assert "回答の本文です" in texts
    assert "開示用のメモ" in [h["note"] for s in export["sessions"] for h in s["handovers"]]
    assert "開示してほしい相談" in export["text"]
    assert "開示用のメモ" in export["text"]
    assert [n["text"] for s in export["sessions"] for n in s["notes"]] == ["開示用の相談メモ"]
    assert export["userNote"]["text"] == "開示用の利用者メモ"
    assert "開示用の相談メモ" in export["text"]
    assert "開示用の利用者メモ" in export["text"]
    assert "保有個人データの開示" in export["text"]

    status, _, text = call(desk, "GET", f"/api/admin/users/{user_id}/export?format=text")
    assert status == 200
    assert text.startswith("保有個人データの開示")
    assert "回答の本文です" in text
    audit = call(desk, "GET", "/api/admin/audit?limit=200")[1]
    assert "user.export" in {r["action"] for r in audit["records"]}
    assert user_id not in json.dumps(audit)
    assert "開示してほしい相談" not in desk.log.read_text()


def test_the_export_refuses_what_it_must(desk: RunningDesk) -> None:
    user_id = desk.consented_user("ret-refused").user_id
    path = f"/api/admin/users/{user_id}/export"
    assert call(desk, "GET", path, None)[0] == 403  # no principal
    assert call(desk, "GET", path, EXPERT)[0] == 403  # an expert may not
    assert desk.http("GET", path)[0] == 401  # no function key
    assert call(desk, "GET", "/api/admin/users/not-a-user/export")[0] == 400
    assert call(desk, "GET", f"{path}?format=pdf")[0] == 400
    assert call(desk, "GET", f"/api/admin/users/U{'0' * 32}/export")[0] == 404
    assert call(desk, "POST", path)[0] in (404, 405)  # read only


def test_asking_for_ones_data_in_the_chat_explains_how_without_sending_it(
    desk: RunningDesk,
) -> None:
    user = desk.consented_user("ret-asks")
    user.postback("action=topic&topic=career")
    user.say("誰にも言えない悩み")
    desk.sim.clear_inbox(user.user_id)
    user.say("データの開示")
    (answer,) = desk.sim.texts(user.user_id)
    assert CONTACT in answer
    assert "誰にも言えない悩み" not in answer
    assert "データの開示" not in desk.stored_text()  # a command, not filed as a message


def test_the_consent_summary_states_the_periods(desk: RunningDesk) -> None:
    user = desk.sim.user("ret-new")
    user.follow()
    summary = next(t for t in desk.sim.texts(user.user_id) if "運用ポリシー" in t)
    assert "相談の終了から0日" in summary  # DESK_RETENTION_DAYS=0 in this host
    assert "730日間" in summary
