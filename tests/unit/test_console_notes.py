"""The console's notes, the user's history panel and presence, through the local host over
fakes: private session notes, the note carried over to a user's later sessions, the earlier
sessions beside the conversation, and 「○○さんが閲覧中」 driven by the fake clock."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime

import pytest

from shared.adapters.sqlite_store import SqliteStore
from shared.ports import DESK, USERS
from shared.repositories.notes import MAX_NOTE
from shared.services.consultations.console import BEAT_WRITE_EVERY, PRESENCE_EXPIRY
from shared.wiring import Desk, install_desk, reset_desk
from tests.kit.admin_api import api
from tests.kit.app import desk_host
from tests.kit.fakes import FakeClock, FakeMessenger, MemoryStore
from tests.unit.conftest import deliver
from tests.unit.test_console import (
    ADMIN,
    ALICE,
    BOB,
    NOBODY,
    SAME_SITE,
    _contrast,
    a_session,
    console_desk,
    get,
    post,
)

NOTE = "家族の事情で転職を急いでいる様子"
USER_NOTE = "前回はハローワークを紹介済み。丁寧に状況を確認すること。"


@pytest.fixture
def desk(store: MemoryStore, line: FakeMessenger, clock: FakeClock) -> Iterator[Desk]:
    built = console_desk(store, line, clock, "true")
    install_desk(built)
    yield built
    reset_desk()


def stored_json(store: MemoryStore) -> str:
    return json.dumps([doc for doc, _ in store.docs.values()], ensure_ascii=False)


def audit_records(store: MemoryStore) -> list[dict]:
    return [doc for (container, _, _), (doc, _) in store.docs.items() if doc.get("type") == "audit"]


def shown_version(page: str) -> str:
    """The user note's version a page carries in its hidden field."""
    found = re.search(r'name="version" value="([^"]*)"', page)
    assert found is not None
    return found.group(1)


def written_by_staff(store: MemoryStore) -> list[str]:
    """The types of every note and presence document stored."""
    kinds = {"note", "usernote", "viewing"}
    return [doc["type"] for doc, _ in store.docs.values() if doc.get("type") in kinds]


def close_as(desk: Desk, session_id: str, who: str) -> None:
    api(desk).experts.claim(session_id, who)
    api(desk).experts.send(session_id, who, {"text": "ご相談ありがとうございます。"})
    api(desk).experts.close(session_id, who, {"outcome": "referral", "referral": None})


def reopen(desk: Desk, sim, name: str, topic: str = "income") -> str:
    """The same user opens a new consultation; returns its id."""
    before = {s["sessionId"] for s in api(desk).experts.queue("waiting", None, 200)["sessions"]}
    deliver(desk, sim.user(name).postback_event(f"action=topic&topic={topic}"))
    deliver(desk, sim.user(name).text_event("また相談させてください。"))
    after = {s["sessionId"] for s in api(desk).experts.queue("waiting", None, 200)["sessions"]}
    (session_id,) = after - before
    return session_id


# -- private notes on a session ---------------------------------------------------------------


def test_a_private_note_is_kept_for_staff_never_sent_and_audited_without_its_text(
    desk, sim, line, *, store, clock, caplog
) -> None:
    session_id = a_session(desk, sim, line, "alice", "転職の相談です")
    caplog.set_level(logging.DEBUG)
    status, headers, body = post(f"/console/sessions/{session_id}/notes", {"text": NOTE})
    assert status == 200
    assert NOTE in body
    assert "メモを保存しました" in body
    assert headers["Content-Security-Policy"]
    clock.advance(minutes=1)
    # Bob (another expert, not the holder) adds one too: notes are for every staff member.
    assert (
        post(f"/console/sessions/{session_id}/notes", {"text": "二件目"}, principal=BOB)[0] == 200
    )

    assert line.sent == []  # nothing went to LINE
    _, _, page = get(f"/console/sessions/{session_id}", principal=BOB)
    assert page.index(NOTE) < page.index("二件目")  # oldest first
    assert "相談員Aさん" in page
    notes = [r for r in audit_records(store) if r["action"] == "session.note"]
    assert [r["who"] for r in notes] == ["相談員A", "相談員B"]
    assert NOTE not in json.dumps(notes, ensure_ascii=False)
    assert NOTE not in caplog.text


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"text": ""}, "空のメモは保存できません"),
        ({"text": "   \r\n "}, "空のメモは保存できません"),
        ({"text": "あ" * (MAX_NOTE + 1)}, f"{MAX_NOTE}文字以内"),
    ],
)
def test_an_empty_or_too_long_note_is_400_with_the_reason(desk, sim, line, form, reason) -> None:
    session_id = a_session(desk, sim, line)
    status, _, body = post(f"/console/sessions/{session_id}/notes", form)
    assert status == 400
    assert reason in body
    assert desk.console.conversation(session_id, "x").notes == ()


def test_a_note_on_a_session_whose_text_retention_erased_is_refused(desk, sim, line, clock) -> None:
    session_id = a_session(desk, sim, line, "alice", "古い相談")
    post(f"/console/sessions/{session_id}/notes", {"text": NOTE})
    close_as(desk, session_id, "相談員A")
    clock.advance(days=2)
    desk.retention.purge_expired(retention_days=1, inactive_days=730, limit=100)

    status, _, body = post(f"/console/sessions/{session_id}/notes", {"text": "あとから"})
    assert status == 409
    assert "保存期間を過ぎて" in body
    _, _, page = get(f"/console/sessions/{session_id}")
    assert NOTE not in page  # the retention timer erased the note's text with the rest
    assert "（保存期間を過ぎたため削除済み）" in page
    assert 'id="note-form"' not in page


def test_retention_erases_session_notes_but_keeps_the_user_note(
    desk, sim, line, store, clock
) -> None:
    session_id = a_session(desk, sim, line, "alice", "古い相談")
    post(f"/console/sessions/{session_id}/notes", {"text": NOTE})
    post(f"/console/sessions/{session_id}/user-note", {"text": USER_NOTE, "version": ""})
    close_as(desk, session_id, "相談員A")
    clock.advance(days=2)
    summary = desk.retention.purge_expired(retention_days=1, inactive_days=730, limit=100)
    assert summary.parts["sessions"] == 1
    assert NOTE not in stored_json(store)
    assert USER_NOTE in stored_json(store)  # the user's note lives until the user is erased


# -- the note carried over, and the history panel ---------------------------------------------


def test_the_user_note_and_history_carry_over_to_the_users_next_session(
    desk, sim, line, clock
) -> None:
    clock.now = datetime.fromisoformat("2025-11-04T01:30:00+00:00")  # 10:30 in Japan
    first = a_session(desk, sim, line, "alice", "転職の相談です")
    assert post(f"/console/sessions/{first}/notes", {"text": NOTE})[0] == 200
    status, _, body = post(
        f"/console/sessions/{first}/user-note", {"text": USER_NOTE, "version": ""}
    )
    assert status == 200
    assert "利用者メモを保存しました" in body
    close_as(desk, first, "相談員A")
    clock.advance(days=3)
    second = reopen(desk, sim, "alice", topic="income")

    _, _, page = get(f"/console/sessions/{second}", principal=BOB)
    assert USER_NOTE in page
    assert "最終更新：2025年11月4日 10:30" in page  # Japan time
    history = page[page.index('id="history-panel"') :]
    assert "転職・就職" in history  # the earlier session's topic
    assert "2025年11月4日 10:30" in history  # its dates in Japan time (with the year)
    assert "他機関紹介" in history  # its outcome
    assert "相談員A" in history  # who answered
    assert NOTE in history  # its notes
    assert f'href="/console/sessions/{first}"' in history  # and it opens
    assert f'href="/console/sessions/{second}"' not in history  # not the session itself
    # The earlier session's page lists the later one, and has no note of its own yet.
    _, _, earlier = get(f"/console/sessions/{first}")
    assert f'href="/console/sessions/{second}"' in earlier[earlier.index('id="history-panel"') :]


def test_a_user_without_earlier_sessions_has_an_empty_history(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line)
    _, _, page = get(f"/console/sessions/{session_id}")
    assert "過去の相談はありません" in page
    assert "まだ書かれていません" in page


def test_a_colleagues_save_in_between_is_a_409_that_shows_their_text(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line)
    assert (
        post(f"/console/sessions/{session_id}/user-note", {"text": "Aの内容", "version": ""})[0]
        == 200
    )
    status, _, body = post(
        f"/console/sessions/{session_id}/user-note",
        {"text": "Bの内容", "version": ""},
        principal=BOB,
    )
    assert status == 409
    assert "他の担当者が先に保存しました" in body
    assert "Aの内容" in body
    version = shown_version(body)
    assert version
    status, _, body = post(
        f"/console/sessions/{session_id}/user-note",
        {"text": "Bの内容", "version": version},
        principal=BOB,
    )
    assert status == 200
    assert desk.console.user_note(session_id).text == "Bの内容"
    # Emptying the note clears it (and is audited as such, without text).
    version = shown_version(body)
    post(f"/console/sessions/{session_id}/user-note", {"text": "", "version": version})
    assert desk.console.user_note(session_id).text == ""


def test_notes_go_into_the_users_export_and_go_with_the_user_on_erasure(
    desk, sim, line, store
) -> None:
    session_id = a_session(desk, sim, line, "alice", "転職の相談です")
    post(f"/console/sessions/{session_id}/notes", {"text": NOTE})
    post(f"/console/sessions/{session_id}/user-note", {"text": USER_NOTE, "version": ""})
    user_id = desk.console.session(session_id).user_id

    export = desk.exports.export(user_id, "管理者C")
    (session,) = export["sessions"]
    assert [n["text"] for n in session["notes"]] == [NOTE]
    assert export["userNote"]["text"] == USER_NOTE
    assert NOTE in export["text"]
    assert USER_NOTE in export["text"]
    held = {doc["id"] for doc in store.query_partition(USERS, user_id)}
    listed = {f"note:{session_id}:{n['noteId']}" for n in session["notes"]} | {"usernote"}
    assert listed <= held

    desk.eraser.erase(user_id)
    everything = stored_json(store)
    assert NOTE not in everything
    assert USER_NOTE not in everything
    assert user_id not in everything


# -- presence ---------------------------------------------------------------------------------


def test_two_experts_on_one_session_see_each_other_until_a_beat_expires(
    desk, sim, line, clock
) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    _, _, alone = get(f"/console/sessions/{session_id}")  # Alice opens it (a beat)
    assert "が閲覧中" not in alone
    _, _, bobs = get(f"/console/sessions/{session_id}", principal=BOB)
    assert "相談員Aさんが閲覧中" in bobs
    status, _, beat = post(f"/console/sessions/{session_id}/presence")
    assert status == 200
    assert "相談員Bさんが閲覧中" in beat
    assert "相談員Aさん" not in beat  # never oneself
    # The queue marks the row for anyone else, the admin included.
    _, _, queue = get("/console/", principal=ADMIN)
    assert "相談員Aさん、相談員Bさんが閲覧中" in queue

    clock.advance(seconds=PRESENCE_EXPIRY.total_seconds() - 5)
    assert "相談員Bさんが閲覧中" in post(f"/console/sessions/{session_id}/presence")[2]
    clock.advance(seconds=10)  # Bob's last beat is now older than the expiry: he left
    _, _, later = post(f"/console/sessions/{session_id}/presence")
    assert "閲覧中" not in later
    _, _, queue = get("/console/queue?tab=waiting", principal=BOB, **{"HX-Request": "true"})
    assert "相談員Aさんが閲覧中" in queue
    assert "相談員Bさん" not in queue


def test_a_persons_beats_are_written_at_most_once_per_interval(desk, sim, line, store, clock):
    """The conversation page and its presence poll, in two tabs: one write per interval
    (issue 21: polls that cost nothing when nothing changed)."""
    session_id = a_session(desk, sim, line, "alice", "相談です")
    get(f"/console/sessions/{session_id}")
    before = store.operations.count("upsert")
    for _ in range(3):
        post(f"/console/sessions/{session_id}/presence")
    assert store.operations.count("upsert") == before  # within BEAT_WRITE_EVERY: no write
    clock.advance(seconds=BEAT_WRITE_EVERY.total_seconds())
    post(f"/console/sessions/{session_id}/presence")
    assert store.operations.count("upsert") == before + 1


def test_presence_holds_no_user_data(desk, sim, line, store) -> None:
    session_id = a_session(desk, sim, line, "alice", "秘密の相談")
    post(f"/console/sessions/{session_id}/presence")
    user_id = desk.console.session(session_id).user_id
    beats = store.query_partition(DESK, "console-viewing")
    assert beats
    assert user_id not in json.dumps(beats)
    assert all(isinstance(b["ttl"], int) for b in beats)


# -- refusals on every new route --------------------------------------------------------------

ROUTES = [
    ("notes", {"text": NOTE}),
    ("user-note", {"text": USER_NOTE, "version": ""}),
    ("presence", {}),
]


@pytest.mark.parametrize(("route", "form"), ROUTES)
def test_without_a_principal_the_new_routes_send_to_sign_in(
    desk, sim, line, *, store, route, form
) -> None:
    session_id = a_session(desk, sim, line)
    status, headers, _ = post(f"/console/sessions/{session_id}/{route}", form, principal=None)
    assert status == 401
    assert headers["HX-Redirect"].startswith("/.auth/login/aad?")
    assert written_by_staff(store) == []


@pytest.mark.parametrize(("route", "form"), ROUTES)
def test_a_principal_without_a_desk_role_is_403_on_the_new_routes(
    desk, sim, line, *, store, route, form
) -> None:
    session_id = a_session(desk, sim, line)
    status, _, body = post(f"/console/sessions/{session_id}/{route}", form, principal=NOBODY)
    assert status == 403
    assert "アクセスできません" in body
    assert written_by_staff(store) == []


@pytest.mark.parametrize(("route", "form"), ROUTES)
@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "", "Origin": "https://evil.example"},
        {"HX-Request": ""},
    ],
)
def test_cross_site_posts_to_the_new_routes_are_403_and_change_nothing(
    desk, sim, line, *, store, route, form, headers
) -> None:
    session_id = a_session(desk, sim, line)
    status, _, body = post(f"/console/sessions/{session_id}/{route}", form, **headers)
    assert status == 403
    assert "操作を受け付けられません" in body
    assert written_by_staff(store) == []


@pytest.mark.parametrize(("route", "form"), ROUTES)
def test_the_new_routes_refuse_gets(desk, sim, line, route, form) -> None:
    session_id = a_session(desk, sim, line)
    status, _, _ = get(f"/console/sessions/{session_id}/{route}")
    assert status in (404, 405)


@pytest.mark.parametrize(
    ("route", "body", "expected"),
    [
        ("notes", {}, 400),  # no text field
        ("user-note", {"text": "x"}, 400),  # no version
        ("user-note", {"version": ""}, 400),  # no text
        ("user-note", {"text": "あ" * (MAX_NOTE + 1), "version": ""}, 400),
        ("user-note", {"text": "x", "version": '"not-the-version"'}, 409),
    ],
)
def test_malformed_note_forms_are_4xx(desk, sim, line, *, route, body, expected) -> None:
    session_id = a_session(desk, sim, line)
    status, _, page = post(f"/console/sessions/{session_id}/{route}", body)
    assert status == expected
    assert '<p class="status error"' in page or "入力内容を確認してください" in page


@pytest.mark.parametrize("route", ["notes", "user-note", "presence"])
@pytest.mark.parametrize(
    "session_id", ["no-such-session", "x" * 300, "%00", "20251103T010000-zzzzzz"]
)
def test_unknown_or_malformed_session_ids_are_404(desk, route, session_id) -> None:
    status, _, body = post(f"/console/sessions/{session_id}/{route}", {"text": "x", "version": ""})
    assert status == 404
    assert "相談が見つかりません" in body


def test_a_form_that_is_not_utf8_is_400(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line)
    headers = {**SAME_SITE, "HX-Request": "true", "X-MS-CLIENT-PRINCIPAL": ALICE}
    status, _, _ = desk_host().handle(
        "POST", f"/console/sessions/{session_id}/notes", headers, b"text=%FF%FE\xff"
    )
    assert status == 400


def test_the_new_colours_pass_wcag_aa() -> None:
    assert _contrast("#5a2d82", "#f1e9f9") >= 4.5
    assert _contrast("#5a2d82", "#ffffff") >= 4.5


def test_sqlite_finds_a_users_sessions_through_an_index(tmp_path) -> None:
    """The history panel asks for one user's sessions among every session: on SQLite that
    must be an index search, not a scan of the sessions partition."""
    sqlite = SqliteStore(str(tmp_path / "desk.sqlite3"))
    try:
        sql, params = sqlite._select(
            "body", DESK, "sessions", "session", {"userId": "U" + "0" * 32}
        )
        plan = " ".join(str(row) for row in sqlite._db.execute("EXPLAIN QUERY PLAN " + sql, params))
    finally:
        sqlite.close()
    assert "documents_user" in plan
