"""The conversation as a chat (issue 19, item 4): closing asks first, and a closed consultation's
transcript shows what the user received at the end (closing message, referral, survey)."""

from __future__ import annotations

from shared.domain.sessions import Role
from shared.errors import LineApiError
from tests.kit.admin_api import api
from tests.kit.fakes import FakeClock
from tests.unit.test_console import ADMIN, BOB, a_session, desk, get, post

__all__ = ["desk"]  # the console's desk fixture, installed in the local host


def test_closing_asks_for_confirmation(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    _, _, body = get(f"/console/sessions/{session_id}")
    form = body[body.index('<form id="close-form"') :]
    form = form[: form.index(">")]
    assert 'hx-confirm="この相談を終了します。' in form


def test_the_closed_transcript_shows_what_the_user_received(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    status, _, _ = post(
        f"/console/sessions/{session_id}/close", {"outcome": "referral", "referral": "hellowork"}
    )
    assert status == 204
    received = "\n\n".join(getattr(m, "text", "") for m in line.sent[-1].messages)
    messages = desk.experts.detail(session_id, "相談員A").messages
    (closing,) = [m for m in messages if m.role is Role.DESK]
    assert closing.kind == "closing"
    assert closing.delivery == "accepted"
    assert closing.text is not None
    assert closing.text.startswith(received.split("\n\n")[0])  # the closing message itself
    assert "ハローワーク" in closing.text
    assert "［満足］［ふつう］［不満］" in closing.text
    _, _, page = get(f"/console/sessions/{session_id}")
    assert "終了時に利用者へ送ったメッセージ" in page
    assert "［満足］［ふつう］［不満］" in page
    # It is the desk's own message: not the user's, not an answer waiting to be delivered.
    (summary,) = [
        s
        for s in api(desk).experts.queue("closed", None, 10)["sessions"]
        if s["sessionId"] == session_id
    ]
    assert summary["messageCount"] == 1


def test_a_closing_line_did_not_take_is_shown_as_failed(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    refused = LineApiError("LINE answered 400", http_status=400)  # not worth retrying
    line.reply_failures.append(refused)
    line.push_failures.append(refused)
    post(f"/console/sessions/{session_id}/close", {"outcome": "advice"})
    (closing,) = [
        m for m in desk.experts.detail(session_id, "相談員A").messages if m.role is Role.DESK
    ]
    assert closing.delivery == "failed"


def test_the_hand_over_offers_the_staff_directory_with_availability(
    desk, sim, line, clock: FakeClock
) -> None:
    get("/console/", principal=BOB)
    get("/console/", principal=ADMIN)
    clock.advance(minutes=5)  # the admin's last request is past the presence window
    get("/console/", principal=BOB)
    post("/console/availability", {"accepting": "0"}, principal=BOB)
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    _, _, body = get(f"/console/sessions/{session_id}")
    start = body.index('<select id="handover-to"')
    select = body[start : body.index("</select>", start)]
    assert '<option value="相談員B">相談員B（サインイン中・受付停止）</option>' in select
    assert '<option value="管理者C">管理者C（不在・管理者）</option>' in select
    assert 'value="相談員A"' not in select  # not oneself
    assert '<input type="text" id="handover-to"' not in body  # never free text


def test_a_transfer_to_someone_unknown_is_refused_with_the_reason(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    status, _, body = post(f"/console/sessions/{session_id}/transfer", {"to": "相談員Z"})
    assert status == 400
    assert "一覧にあるスタッフから選んでください" in body
    assert desk.console.session(session_id).assigned_to == "相談員A"
    status, _, _ = post(
        f"/console/board/sessions/{session_id}/reassign", {"to": "相談員Z"}, principal=ADMIN
    )
    assert status == 400
    assert desk.console.session(session_id).assigned_to == "相談員A"
