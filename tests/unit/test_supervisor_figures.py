"""The supervisor's internal figures (issue 19, item 10): per day and per consultant, first
answer and total times in business minutes (median, 90th percentile), crisis cases and how fast
they were taken, satisfaction per consultant, open and overdue now; the CSV; Desk.Admin only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from shared.services.statistics.figures import Times
from tests.kit.fakes import FakeClock
from tests.unit.conftest import deliver
from tests.unit.test_console import ADMIN, ALICE, BOB, NOBODY, a_session, desk, get, post

__all__ = ["desk"]

TUESDAY_9_JST = datetime(2025, 11, 4, 0, 0, tzinfo=UTC)


def test_times_are_median_and_nearest_rank_90th() -> None:
    assert Times.of([]) == Times(0, None, None)
    assert Times.of([5]) == Times(1, 5.0, 5.0)
    assert Times.of([1, 2, 3, 4]) == Times(4, 2.5, 4.0)
    assert Times.of(range(1, 11)) == Times(10, 5.5, 9.0)


def answer_and_close(session_id: str, who: str, clock: FakeClock, minutes: int) -> None:
    post(f"/console/sessions/{session_id}/claim", principal=who)
    clock.advance(minutes=minutes)
    assert (
        post(f"/console/sessions/{session_id}/messages", {"text": "回答です"}, principal=who)[0]
        == 201
    )
    clock.advance(minutes=minutes)
    post(f"/console/sessions/{session_id}/close", {"outcome": "advice"}, principal=who)


def test_the_figures_per_consultant_and_the_csv(desk, sim, line, clock: FakeClock) -> None:
    clock.now = TUESDAY_9_JST
    first = a_session(desk, sim, line, "u1", "相談です")
    answer_and_close(first, ALICE, clock, 10)
    second = a_session(desk, sim, line, "u2", "相談です")
    answer_and_close(second, ALICE, clock, 20)
    crisis = a_session(desk, sim, line, "u3", "相談です")
    deliver(desk, sim.user("u3").text_event("死にたい"))
    clock.advance(minutes=3)
    post(f"/console/sessions/{crisis}/claim", principal=BOB)
    a_session(desk, sim, line, "u4", "待っています")
    clock.advance(minutes=40)  # the last one waits past the alert (30 business minutes)
    rating = f"action=survey&session={first}&rating=good"
    deliver(desk, sim.user("u1").postback_event(rating))
    status, headers, page = get(
        "/console/admin/figures?from=2025-11-04&to=2025-11-04", principal=ADMIN
    )
    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    assert "公表しません" in page
    people = page[page.index('id="per-consultant"') :]
    alice_row = people[people.index("相談員A") : people.index("</tr>", people.index("相談員A"))]
    assert ">2</td>" in alice_row  # two consultations, two closed
    assert "15分" in alice_row  # first answers after 10 and 20 minutes: median 15
    assert "1・0・0" in alice_row  # one 満足
    bob_row = people[people.index("相談員B") : people.index("</tr>", people.index("相談員B"))]
    assert bob_row.count(">1</td>") >= 2  # one consultation, one crisis
    assert '<dd id="crisis-cases">1</dd>' in page
    assert "中央値 3分" in page[page.index('id="crisis-taken"') :]
    assert '<dd id="overdue-now">1</dd>' in page
    assert '<dd id="open-now">2</dd>' in page  # Bob's crisis case and the waiting one
    assert '<td>2025-11-04</td><td class="num">4</td>' in page
    assert "死にたい" not in page
    status, headers, body = get(
        "/console/admin/figures.csv?from=2025-11-04&to=2025-11-04", principal=ADMIN
    )
    assert status == 200
    assert (
        headers["Content-Disposition"] == 'attachment; filename="figures-2025-11-04-2025-11-04.csv"'
    )
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert ["2025-11-04", "4"] in rows
    (alice,) = [r for r in rows if r and r[0] == "相談員A"]
    assert alice[:5] == ["相談員A", "2", "2", "15", "20"]


def test_by_default_the_figures_cover_this_month(desk, clock: FakeClock) -> None:
    clock.now = TUESDAY_9_JST
    _, _, page = get("/console/admin/figures", principal=ADMIN)
    assert 'value="2025-11-01"' in page
    assert 'value="2025-11-04"' in page


@pytest.mark.parametrize(
    ("principal", "query", "status"),
    [
        (None, "", 302),
        (NOBODY, "", 403),
        (ALICE, "", 403),
        (ADMIN, "?from=11/01", 400),
        (ADMIN, "?from=2025-11-05&to=2025-11-01", 400),
        (ADMIN, "?from=2020-01-01&to=2025-11-01", 400),
    ],
)
def test_the_figures_refuse_as_they_should(desk, principal, query: str, status: int) -> None:
    assert get(f"/console/admin/figures{query}", principal=principal)[0] == status
    assert get(f"/console/admin/figures.csv{query}", principal=principal)[0] == status
