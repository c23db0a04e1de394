"""The supervisor's board through the local host (desk over fakes): Desk.Admin only, presence and
受付可/受付停止, 要注意 and 「SVに相談」 (highlighted past DESK_ESCALATION_ALERT_MINUTES), the
per-expert limit DESK_EXPERT_MAX_OPEN, a supervisor's reassignment and release, the audit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from shared.config import settings_from
from shared.domain.sessions import Session, SessionStatus
from shared.errors import OverLimit
from shared.repositories.user_records import SessionIndex
from shared.wiring import Desk, build_desk, install_desk, reset_desk
from tests.kit.admin_api import api
from tests.kit.fakes import FakeClock, FakeMessenger, MemoryStore
from tests.kit.staff import signed_in
from tests.unit.conftest import SECRET
from tests.unit.test_console import ADMIN, ALICE, BOB, NOBODY, a_session, get, post


@pytest.fixture
def desk(store: MemoryStore, line: FakeMessenger, clock: FakeClock) -> Iterator[Desk]:
    settings = settings_from(
        {
            "DESK_ENVIRONMENT": "Development",
            "LINE_API_BASE_URL": "http://127.0.0.1:9",
            "LINE_CHANNEL_SECRET": SECRET,
            "WEBSITE_AUTH_ENABLED": "true",
            "DESK_EXPERT_MAX_OPEN": "1",
            "DESK_ESCALATION_ALERT_MINUTES": "15",
        }
    )
    built = build_desk(settings, store, line, clock, sleep=lambda _: None)
    install_desk(built)
    yield built
    reset_desk()


def actions(desk: Desk) -> list[str]:
    return [r["action"] for r in api(desk).auditor.page(None, 200)["records"]]


def staff_row(body: str, name: str) -> str:
    found = re.search(rf'<tr data-staff="{re.escape(name)}">(.*?)</tr>', body, re.S)
    assert found, f"{name} is not on the board"
    return found.group(1)


def session_row(body: str, session_id: str, table: str) -> str:
    section = body.split(f'class="queue {table}"', 1)[1].split("</table>", 1)[0]
    found = re.search(rf'<tr data-session="{session_id}" class="([^"]*)">(.*?)</tr>', section, re.S)
    assert found, f"{session_id} is not in {table}"
    return found.group(1) + "|" + found.group(2)


# -- who may see it -----------------------------------------------------------------------------


def test_only_a_supervisor_sees_the_board(desk) -> None:
    status, _, body = get("/console/board", principal=ADMIN)
    assert status == 200
    assert "スーパーバイザーボード" in body
    assert 'hx-trigger="every 5s"' in body  # refreshes itself within 10 s
    for principal in (ALICE, NOBODY):
        status, _, body = get("/console/board", principal=principal)
        assert status == 403
        assert "アクセスできません" in body
    assert get("/console/board/panel", principal=BOB)[0] == 403
    status, headers, _ = get("/console/board", principal=None)
    assert status == 302
    assert headers["Location"].endswith("post_login_redirect_uri=%2Fconsole%2Fboard")


def test_only_supervisors_see_the_boards_link(desk) -> None:
    assert 'href="/console/board"' in get("/console/", principal=ADMIN)[2]
    assert 'href="/console/board"' not in get("/console/", principal=ALICE)[2]


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/console/availability", {"accepting": "0"}),
        ("/console/sessions/{sid}/flag", {"reason": "希死念慮の訴え"}),
        ("/console/sessions/{sid}/escalate", {"note": "助言がほしい"}),
        ("/console/board/sessions/{sid}/reassign", {"to": "相談員B"}),
        ("/console/board/sessions/{sid}/release", {"note": "戻します"}),
        ("/console/board/sessions/{sid}/resolve", {}),
    ],
)
def test_cross_site_posts_are_403_and_change_nothing(desk, sim, line, path, form) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    before = actions(desk)
    cross = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
    status, _, body = post(path.format(sid=session_id), form, principal=ADMIN, **cross)
    assert status == 403
    assert "操作を受け付けられません" in body
    assert actions(desk) == before
    assert desk.board.flag_of(session_id).urgent is False
    assert desk.console.session(session_id).assigned_to == "相談員A"
    assert desk.board.accepting("管理者C") is True


@pytest.mark.parametrize(
    "path",
    [
        "/console/board/sessions/{sid}/reassign",
        "/console/board/sessions/{sid}/release",
        "/console/board/sessions/{sid}/resolve",
    ],
)
def test_an_expert_may_not_act_as_a_supervisor(desk, sim, line, path) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    post(f"/console/sessions/{session_id}/escalate", {"note": ""})
    status, _, body = post(path.format(sid=session_id), {"to": "相談員B"}, principal=BOB)
    assert status == 403
    assert "アクセスできません" in body
    assert desk.console.session(session_id).assigned_to == "相談員A"
    assert desk.board.flag_of(session_id).escalated is True


# -- presence and availability ------------------------------------------------------------------


def test_presence_comes_from_console_requests_and_fades(desk, clock) -> None:
    get("/console/", principal=ALICE)
    body = get("/console/board", principal=ADMIN)[2]
    assert "在席" in staff_row(body, "相談員A")
    assert "受付可" in staff_row(body, "相談員A")
    clock.advance(minutes=4)
    body = get("/console/board", principal=ADMIN)[2]
    assert "不在" in staff_row(body, "相談員A")
    assert "在席" in staff_row(body, "管理者C")


def test_an_expert_stops_and_resumes_taking_consultations(desk) -> None:
    status, _, fragment = get("/console/availability")
    assert status == 200
    assert "受付停止にする" in fragment
    status, _, fragment = post("/console/availability", {"accepting": "0"})
    assert status == 200
    assert "受付可にする" in fragment
    assert "受付停止" in staff_row(get("/console/board", principal=ADMIN)[2], "相談員A")
    assert "staff.availability" in actions(desk)
    post("/console/availability", {"accepting": "1"})
    assert desk.board.accepting("相談員A") is True


@pytest.mark.parametrize("form", [{}, {"accepting": "maybe"}, {"accepting": "01"}])
def test_a_malformed_availability_is_400(desk, form) -> None:
    status, _, body = post("/console/availability", form)
    assert status == 400
    assert "入力内容を確認してください" in body
    assert desk.board.accepting("相談員A") is True


# -- 要注意 and 「SVに相談」 -------------------------------------------------------------------


def test_a_flagged_session_comes_first_with_its_reason(desk, sim, line, clock) -> None:
    older = a_session(desk, sim, line, "alice", "相談です")
    clock.advance(minutes=10)
    flagged = a_session(desk, sim, line, "bob", "もう限界です")
    status, _, fragment = post(f"/console/sessions/{flagged}/flag", {"reason": "強い不安の訴え"})
    assert status == 200
    assert "要注意（相談員Aさん）：強い不安の訴え" in fragment
    body = get("/console/board", principal=ADMIN)[2]
    sessions = body.split('class="queue board-sessions"', 1)[1]
    assert sessions.index(flagged) < sessions.index(older)  # urgent first, despite a shorter wait
    assert "urgent" in session_row(body, flagged, "board-sessions")
    assert "強い不安の訴え" in session_row(body, flagged, "board-sessions")
    assert "もう限界です" not in body  # never a message's text
    assert "session.flag" in actions(desk)
    post(f"/console/sessions/{flagged}/flag", {"urgent": "0"}, principal=BOB)
    assert desk.board.flag_of(flagged).urgent is False
    assert "session.unflag" in actions(desk)


@pytest.mark.parametrize(
    ("form", "status"),
    [({"reason": ""}, 400), ({"reason": "  "}, 400), ({"reason": "x" * 501}, 400)],
)
def test_a_flag_needs_a_reason(desk, sim, line, form, status) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    assert post(f"/console/sessions/{session_id}/flag", form)[0] == status
    assert desk.board.flag_of(session_id).urgent is False


def test_an_escalation_waits_on_the_board_and_turns_red_past_the_setting(
    desk, sim, line, clock
) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    status, _, fragment = post(
        f"/console/sessions/{session_id}/escalate", {"note": "対応方針を相談したい"}
    )
    assert status == 200
    assert "相談員AさんがSVに相談しています" in fragment
    clock.advance(minutes=14)
    row = session_row(get("/console/board", principal=ADMIN)[2], session_id, "board-escalations")
    assert "14分" in row
    assert "対応方針を相談したい" in row
    assert not row.startswith("overdue")
    clock.advance(minutes=1)
    row = session_row(get("/console/board", principal=ADMIN)[2], session_id, "board-escalations")
    assert row.startswith("overdue")
    assert "超過" in row
    # A repeated escalation keeps its first time.
    post(f"/console/sessions/{session_id}/escalate", {"note": "まだです"})
    row = session_row(get("/console/board", principal=ADMIN)[2], session_id, "board-escalations")
    assert "15分" in row
    status, _, fragment = post(f"/console/board/sessions/{session_id}/resolve", principal=ADMIN)
    assert status == 200
    assert "SVに相談しています" not in fragment
    assert "いま、SVへの相談はありません。" in get("/console/board", principal=ADMIN)[2]
    records = api(desk).auditor.page(None, 200)["records"]
    resolved = [r for r in records if r["action"] == "session.escalation_resolved"]
    assert resolved[0]["details"]["waitedMinutes"] == 15
    assert post(f"/console/board/sessions/{session_id}/resolve", principal=ADMIN)[0] == 409


def test_a_closed_or_unknown_session_is_not_flagged(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    post(f"/console/sessions/{session_id}/close", {"outcome": "advice"})
    assert desk.console.session(session_id).is_open is False
    assert post(f"/console/sessions/{session_id}/flag", {"reason": "念のため"})[0] == 409
    assert post(f"/console/sessions/{session_id}/escalate", {})[0] == 409
    assert post("/console/sessions/s-none/flag", {"reason": "念のため"})[0] == 404
    assert get("/console/sessions/s-none/attention")[0] == 404


# -- the per-expert limit -----------------------------------------------------------------------


def test_a_claim_over_the_limit_is_refused_with_the_reason(desk, sim, line) -> None:
    first = a_session(desk, sim, line, "alice", "一件目")
    second = a_session(desk, sim, line, "bob", "二件目")
    assert post(f"/console/sessions/{first}/claim")[0] == 204
    status, _, body = post(f"/console/sessions/{second}/claim")
    assert status == 409
    assert "担当できる相談の上限に達しています（1件担当中、上限1件）" in body
    assert desk.console.session(second).assigned_to is None
    with pytest.raises(OverLimit, match="上限（DESK_EXPERT_MAX_OPEN）の1件"):
        api(desk).experts.claim(second, signed_in("相談員A"))  # the same person, by the API
    assert "session.claim_refused" in actions(desk)
    # A supervisor's takeover is their decision, not limited; a colleague may claim it.
    assert post(f"/console/sessions/{second}/claim", principal=BOB)[0] == 204
    assert post(f"/console/sessions/{first}/claim", principal=ADMIN)[0] == 204
    assert post(f"/console/sessions/{second}/claim", principal=ADMIN)[0] == 204


def test_closing_frees_a_place_under_the_limit(desk, sim, line) -> None:
    first = a_session(desk, sim, line, "alice", "一件目")
    second = a_session(desk, sim, line, "bob", "二件目")
    post(f"/console/sessions/{first}/claim")
    post(f"/console/sessions/{first}/close", {"outcome": "advice"})
    assert post(f"/console/sessions/{second}/claim")[0] == 204


# -- a supervisor reassigns or releases any session ----------------------------------------------


def test_a_supervisor_reassigns_a_session_with_a_note_audited(desk, sim, line) -> None:
    get("/console/", principal=BOB)  # in the staff directory
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    status, headers, _ = post(
        f"/console/board/sessions/{session_id}/reassign",
        {"to": "相談員B", "note": "専門の方へ"},
        principal=ADMIN,
    )
    assert status == 204
    assert headers["HX-Refresh"] == "true"
    session = desk.console.session(session_id)
    assert session.assigned_to == "相談員B"
    assert session.handovers[-1].note == "専門の方へ"
    assert {"session.takeover", "session.transfer"} <= set(actions(desk))
    page = get(f"/console/sessions/{session_id}", principal=BOB)[2]
    assert "専門の方へ" in page


def test_a_supervisor_releases_a_session_to_the_queue(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    status, _, _ = post(
        f"/console/board/sessions/{session_id}/release", {"note": "休憩に入ります"}, principal=ADMIN
    )
    assert status == 204
    assert desk.console.session(session_id).status.value == "waiting"
    assert "session.release" in actions(desk)
    # Nothing left to release: refused with the reason, not a 500.
    status, _, body = post(f"/console/board/sessions/{session_id}/release", principal=ADMIN)
    assert status == 409
    assert "一覧に戻せません" in body


@pytest.mark.parametrize(
    ("form", "status"), [({}, 400), ({"to": " "}, 400), ({"to": "x" * 101}, 400)]
)
def test_a_bad_reassignment_is_4xx(desk, sim, line, form, status) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    assert (
        post(f"/console/board/sessions/{session_id}/reassign", form, principal=ADMIN)[0] == status
    )
    assert desk.console.session(session_id).assigned_to == "相談員A"


def test_the_board_shows_what_each_holds_and_the_longest_waits(desk, sim, line, clock) -> None:
    clock.now = datetime.fromisoformat("2025-11-04T01:00:00+00:00")  # Tuesday 10:00 in Japan
    held = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{held}/claim")
    clock.advance(minutes=5)
    waiting = a_session(desk, sim, line, "bob", "待っています")
    clock.advance(minutes=20)
    body = get("/console/board", principal=ADMIN)[2]
    assert "1件／上限1件" in staff_row(body, "相談員A")
    assert "20分" in session_row(body, waiting, "board-sessions")
    assert "相談員A" in session_row(body, held, "board-sessions")
    assert "待機中：1件　対応中：1件" in body


def test_the_attention_panel_shows_supervisor_actions_to_supervisors_only(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    expert = get(f"/console/sessions/{session_id}/attention")[2]
    assert "SVに相談" in expert
    assert "担当を変更する" not in expert
    admin = get(f"/console/sessions/{session_id}/attention", principal=ADMIN)[2]
    assert "担当を変更する" in admin
    assert "一覧に戻す（SV）" in admin


def _waiting_105(store, clock) -> tuple[SessionIndex, Session]:
    """105 sessions waiting (more than the board lists), and the one that waited least."""
    index = SessionIndex(store)
    for n in range(105):
        session = Session(
            f"20251103T0100{n:02d}-{n:06x}"[:22],
            "U" + f"{n:032x}",
            "career",
            SessionStatus.WAITING,
            clock() + timedelta(seconds=n),
        )
        index.create(session)
    return index, index.page(SessionStatus.WAITING, None, 200)[-1]


def test_a_flagged_session_far_down_the_queue_is_still_listed_first(desk, store, clock) -> None:
    _, last = _waiting_105(store, clock)
    desk.board.flag(last, "相談員A", "強い不安の訴え")
    view = desk.board.view()
    assert view.sessions[0].session_id == last.session_id
    assert view.sessions[0].urgent
    assert len(view.sessions) == 101  # the flagged one and the 100 longest waits
    assert view.waiting == 105


def test_a_session_the_crisis_rule_marked_is_listed_first_far_down_the_queue(
    desk, store, clock
) -> None:
    index, last = _waiting_105(store, clock)
    index.save(replace(last, urgent=True))  # as a crisis wording in the consultation marks it
    view = desk.board.view()
    assert view.sessions[0].session_id == last.session_id
    assert view.sessions[0].urgent
    assert view.sessions[0].crisis
    assert len(view.sessions) == 101
    body = get("/console/board", principal=ADMIN)[2]
    assert "危機を示す言葉がありました" in session_row(body, last.session_id, "board-sessions")
