"""Polls that cost one read when nothing changed (issue 21): the queue panel, the tab counts
and the supervisor's board send back the tally's token and get 204 while it holds."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest

from shared.wiring import Desk, install_desk, reset_desk
from tests.kit.admin_api import api
from tests.kit.fakes import FakeClock, FakeMessenger, MemoryStore
from tests.unit.conftest import deliver
from tests.unit.test_console import ADMIN, BOB, a_session, console_desk, get, post

HX = {"HX-Request": "true"}


@pytest.fixture
def desk(store: MemoryStore, line: FakeMessenger, clock: FakeClock) -> Iterator[Desk]:
    built = console_desk(store, line, clock, "true")
    install_desk(built)
    yield built
    reset_desk()


def poll_url(page: str, element: str) -> str:
    """The URL the element's poll asks for, as the browser reads it from the page."""
    found = re.search(rf'id="{element}"[^>]* hx-get="([^"]+)"', page)
    assert found is not None, element
    return html.unescape(found.group(1))


def row_is_unread(page: str, session_id: str) -> bool:
    """Does the queue mark the session's row unread?"""
    row = re.search(rf'<tr data-session="{session_id}" class="([^"]*)"', page)
    assert row is not None, session_id
    return "unread" in row.group(1).split()


def settled(url: str, principal: str | None = None) -> None:
    """Poll once, so this minute's presence beat is written before counting."""
    get(url, principal, **HX) if principal else get(url, **HX)


def test_an_unchanged_queue_panel_is_204_after_one_point_read(desk, sim, line, store) -> None:
    a_session(desk, sim, line, "alice", "相談です")
    a_session(desk, sim, line, "bob", "こんにちは")
    _, _, page = get("/console/")
    url = poll_url(page, "queue-panel")
    assert "since=" in url
    settled(url)
    before = len(store.operations)
    assert get(url, **HX)[0] == 204
    assert store.operations[before:] == ["read"]


def test_the_queue_panel_answers_again_after_a_message_a_flag_or_a_new_viewer(
    desk, sim, line, clock
) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    _, _, page = get("/console/")
    url = poll_url(page, "queue-panel")
    assert get(url, **HX)[0] == 204
    get(f"/console/sessions/{session_id}")  # read: no longer unread
    _, _, panel = get(url.split("&since=")[0])
    assert not row_is_unread(panel, session_id)
    url = poll_url(panel, "queue-panel")
    deliver(desk, sim.user("alice").text_event("追伸です"))
    status, _, panel = get(url, **HX)
    assert status == 200
    assert row_is_unread(panel, session_id)
    url = poll_url(panel, "queue-panel")
    assert get(url, **HX)[0] == 204
    assert post(f"/console/sessions/{session_id}/flag", {"reason": "様子が心配"})[0] < 400
    assert get(url, **HX)[0] == 200
    _, _, panel = get(url.split("&since=")[0])
    url = poll_url(panel, "queue-panel")
    get(f"/console/sessions/{session_id}", principal=BOB)  # 相談員B opens it
    assert get(url, **HX)[0] == 200
    _, _, panel = get(url.split("&since=")[0])
    url = poll_url(panel, "queue-panel")
    clock.advance(seconds=60)  # waits are in minutes: a new minute is shown
    assert get(url, **HX)[0] == 200


def test_the_unread_marker_and_count_come_from_the_tally(desk, sim, line, store) -> None:
    session_id = a_session(desk, sim, line, "alice", "一通目", "二通目")
    before = len(store.operations)
    (summary,) = [
        s
        for s in api(desk).experts.queue("waiting", None, 50)["sessions"]
        if s["sessionId"] == session_id
    ]
    assert summary["messageCount"] == 2
    assert store.operations[before:].count("count") == 0
    _, _, page = get("/console/")
    assert row_is_unread(page, session_id)
    get(f"/console/sessions/{session_id}")
    _, _, page = get("/console/")
    assert not row_is_unread(page, session_id)


def test_unchanged_counts_are_204_after_one_point_read(desk, sim, line, store) -> None:
    a_session(desk, sim, line, "alice", "相談です")
    _, _, counts = get("/console/counts")
    url = poll_url(counts, "desk-counts")
    settled(url)
    before = len(store.operations)
    assert get(url, **HX)[0] == 204
    assert store.operations[before:] == ["read"]
    a_session(desk, sim, line, "bob", "二人目です")
    status, _, counts = get(url, **HX)
    assert status == 200
    assert 'data-waiting="2"' in counts


def test_an_unchanged_board_is_204_after_one_point_read(desk, sim, line, store) -> None:
    a_session(desk, sim, line, "alice", "相談です")
    _, _, page = get("/console/board", principal=ADMIN)
    url = poll_url(page, "board-panel")
    settled(url, ADMIN)
    before = len(store.operations)
    assert get(url, ADMIN, **HX)[0] == 204
    assert store.operations[before:] == ["read"]
    a_session(desk, sim, line, "bob", "二人目です")
    assert get(url, ADMIN, **HX)[0] == 200


def test_a_forged_or_missing_token_is_answered_in_full(desk, sim, line) -> None:
    a_session(desk, sim, line, "alice", "相談です")
    for since in ("", "0.0", "x" * 300, "%00"):
        assert get(f"/console/queue?tab=waiting&since={since}", **HX)[0] == 200
        assert get(f"/console/counts?since={since}", **HX)[0] == 200
    assert get("/console/queue?tab=waiting&since=1.1", principal=None, **HX)[0] == 401


def test_a_closed_consultation_leaves_nothing_in_the_tally(desk, sim, line, store) -> None:
    """Answered, closed with the closing message and the survey: the document keeps the
    open sessions' fields only (it is read by every poll)."""
    session_id = a_session(desk, sim, line, "alice", "相談です")
    other = a_session(desk, sim, line, "bob", "こんにちは")
    api(desk).experts.claim(session_id, "相談員A")
    api(desk).experts.send(session_id, "相談員A", {"text": "お返事です"})
    deliver(desk, sim.user("alice").text_event("ありがとうございます"))
    api(desk).experts.close(session_id, "相談員A", {"outcome": "助言"})
    tally = store.read("desk", "sessions:open", "tally")
    assert tally is not None
    assert {name[2:] for name in tally if name[1] == "_"} == {other}
