"""Crisis cases and 要注意 in the experts' console (issue 19, item 1): marked in every list and
at the top of the conversation, listed first in 待機中 wherever they wait, counted in the tab."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from tests.kit.admin_api import api
from tests.kit.fakes import FakeClock
from tests.unit.conftest import deliver, open_session
from tests.unit.test_console import ADMIN, ALICE, NOBODY, a_session, desk, get, post

__all__ = ["desk"]  # the console's desk fixture, installed in the local host


def waiting(desk) -> list[str]:
    return [s["sessionId"] for s in api(desk).experts.queue("waiting", None, 100)["sessions"]]


def rows(body: str) -> list[str]:
    """The session ids of the queue's rows, in order."""
    return re.findall(r'<tr data-session="([^"]+)"', body)


def row_of(body: str, session_id: str) -> str:
    start = body.index(f'<tr data-session="{session_id}"')
    return body[start : body.index("</tr>", start)]


def test_a_crisis_case_is_first_marked_and_counted_in_the_experts_queue(
    desk, sim, line, clock: FakeClock
) -> None:
    first = a_session(desk, sim, line, "alice", "相談です")
    clock.advance(seconds=60)
    second = a_session(desk, sim, line, "bob", "はじめまして")
    clock.advance(seconds=60)
    deliver(desk, sim.user("bob").text_event("もう死にたいです"))
    _, _, body = get("/console/?tab=waiting")
    assert rows(body) == [second, first]
    marked = row_of(body, second)
    assert "危機" in marked
    assert re.search(r"危機を示す言葉（\d+月\d+日（.）\s?\d+:\d\d）", marked)
    assert "はじめまして" not in body  # only the latest message's first words
    assert "危機" not in row_of(body, first)
    assert 'id="marked-waiting"' in body
    assert "危機・要注意 1件" in body


def test_a_flagged_session_far_down_the_queue_is_listed_first_with_its_reason(
    desk, sim, line, clock: FakeClock
) -> None:
    ids = []
    for n in range(52):  # more than one page (50 rows)
        ids.append(a_session(desk, sim, line, f"user{n}"))
        clock.advance(seconds=1)
    far = ids[-1]
    status, _, _ = post(f"/console/sessions/{far}/flag", {"reason": "自傷の心配があります"})
    assert status == 200
    clock.advance(seconds=11)  # past the tab counts' cache
    _, _, body = get("/console/?tab=waiting")
    listed = rows(body)
    assert listed[0] == far
    assert listed.count(far) == 1
    assert "要注意" in row_of(body, far)
    assert "自傷の心配があります" in row_of(body, far)
    assert "危機・要注意 1件" in body
    _, _, second_page = get(f"/console/?tab=waiting&cursor={ids[49]}")
    assert far not in rows(second_page)  # listed on the first page, not repeated


def test_the_conversation_opens_with_the_crisis_and_the_flag(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    deliver(desk, sim.user("alice").text_event("消えたい"))
    post(f"/console/sessions/{session_id}/flag", {"reason": "夜間の連絡先を確認"})
    _, _, body = get(f"/console/sessions/{session_id}")
    banner = body.index('id="crisis-banner"')
    assert banner < body.index('id="transcript-title"')
    assert 'role="alert"' in body[banner - 80 : banner + 80]
    assert "危機を示す言葉がありました" in body
    assert "要注意（相談員Aさん、" in body
    assert "夜間の連絡先を確認" in body[body.index('id="attention-banner"') :]


def test_an_ordinary_conversation_has_no_banner(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    _, _, body = get(f"/console/sessions/{session_id}", principal=ADMIN)
    assert 'id="crisis-banner"' not in body
    assert 'id="attention-banner"' not in body


def test_a_closed_crisis_case_stays_marked_in_the_closed_tab_but_is_not_counted(
    desk, sim, line, clock: FakeClock
) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    deliver(desk, sim.user("alice").text_event("死にたい"))
    post(f"/console/sessions/{session_id}/claim")
    status, _, _ = post(f"/console/sessions/{session_id}/close", {"outcome": "advice"})
    assert status == 204
    clock.advance(seconds=11)  # past the tab counts' cache
    _, _, body = get("/console/?tab=closed", principal=ALICE)
    assert session_id in rows(body)
    assert "危機" in row_of(body, session_id)
    assert "marked-closed" not in body
    assert "marked-waiting" not in body


def test_a_user_in_another_session_is_not_marked(desk, sim, line) -> None:
    open_session(desk, sim, line, "carol")
    _, _, body = get("/console/?tab=waiting")
    assert 'id="marked-waiting"' not in body


def test_every_page_polls_the_counts_for_its_title(desk, sim, line, clock: FakeClock) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    _, _, page = get(f"/console/sessions/{session_id}")
    assert 'hx-get="/console/counts"' in page
    deliver(desk, sim.user("alice").text_event("死にたい"))
    clock.advance(seconds=11)
    status, headers, body = get("/console/counts", **{"HX-Request": "true"})
    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    assert 'data-waiting="1"' in body
    assert 'data-marked="1"' in body
    assert 'data-title="（危機/要注意1・待機1）"' in body
    assert "死にたい" not in body


@pytest.mark.parametrize(
    ("principal", "status"),
    [(None, 302), (NOBODY, 403), ("not base64!", 403)],
)
def test_the_counts_refuse_who_may_not_see_them(desk, principal, status: int) -> None:
    assert get("/console/counts", principal=principal)[0] == status


# -- finding things (item 6): filters, the latest words, lookup by 受付番号 -------------------


def test_the_queue_filters_by_topic_marked_overdue_and_unread(
    desk, sim, line, clock: FakeClock
) -> None:
    clock.now = datetime.fromisoformat("2025-11-04T00:00:00+00:00")  # 09:00 JST, a Tuesday
    old = a_session(desk, sim, line, "old", "前からの相談です")  # job-change
    clock.advance(minutes=40)
    user = open_session(desk, sim, line, "income", topic="income")
    deliver(desk, user.text_event("収入の相談です"))
    income = next(s for s in waiting(desk) if s != old)
    crisis = a_session(desk, sim, line, "crisis", "相談です")
    deliver(desk, sim.user("crisis").text_event("死にたい"))
    get(f"/console/sessions/{crisis}")  # read: no longer unread
    assert rows(get("/console/?tab=waiting&topic=income")[2]) == [income]
    assert rows(get("/console/?tab=waiting&marked=1")[2]) == [crisis]
    assert rows(get("/console/?tab=waiting&overdue=1")[2]) == [old]
    assert set(rows(get("/console/?tab=waiting&unread=1")[2])) == {old, income}
    narrowed = get("/console/queue?tab=waiting&unread=1&topic=job-change")[2]
    assert rows(narrowed) == [old]
    assert "/console/queue?tab=waiting&amp;topic=job-change&amp;unread=1" in narrowed  # polls so
    assert "条件に合う相談はありません" in get("/console/?tab=waiting&topic=career")[2]


@pytest.mark.parametrize(
    "query", ["topic=nonsense", "marked=yes", "overdue=2", "unread=%00", "topic=" + "x" * 300]
)
def test_bad_filters_are_400_in_japanese(desk, query: str) -> None:
    status, _, body = get(f"/console/?tab=waiting&{query}")
    assert status == 400
    assert "<html" in body


def test_a_consultation_is_found_by_its_short_reference_as_typed(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    reference = desk.console.session(session_id).reference
    assert reference is not None
    wide = reference.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    status, headers, _ = get(f"/console/find?ref=%20{wide}%20")
    assert status == 302
    assert headers["Location"] == f"/console/sessions/{session_id}"
    assert get(f"/console/find?ref={session_id}")[1]["Location"].endswith(session_id)
    _, _, page = get(f"/console/sessions/{session_id}")
    assert f'<dd id="reference">{reference}</dd>' in page


@pytest.mark.parametrize(
    ("principal", "ref", "status"),
    [
        (None, "251104-001", 302),
        (NOBODY, "251104-001", 403),
        (ALICE, "not a number", 400),
        (ALICE, "1" * 500, 400),
        (ALICE, "991231-999", 404),
    ],
)
def test_the_lookup_refuses_as_it_should(desk, principal, ref: str, status: int) -> None:
    assert get(f"/console/find?ref={ref}", principal=principal)[0] == status
