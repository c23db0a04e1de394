"""Publishable statistics from real conversations, suppressed, and stable under erasure."""

from __future__ import annotations

import pytest

from shared.config import settings_from
from shared.errors import ValidationError
from shared.wiring import build_desk
from tests.kit.fakes import FakeMessenger, MemoryStore
from tests.unit.conftest import SECRET, deliver, open_session


@pytest.fixture
def desk(store: MemoryStore, line: FakeMessenger, clock, sleeps):
    settings = settings_from(
        {
            "DESK_ENVIRONMENT": "Development",
            "LINE_CHANNEL_SECRET": SECRET,
            "LINE_API_BASE_URL": "http://127.0.0.1:9",
            "DESK_STATS_K": "3",
        }
    )
    return build_desk(settings, store, line, clock, sleep=sleeps.append)


def busy_month(desk, sim, line) -> list:
    users = []
    for n in range(6):
        topic = "career" if n < 4 else "income"
        user = open_session(desk, sim, line, f"u{n}", topic=topic)
        deliver(desk, user.text_event("相談です"), user.text_event("よろしくお願いします"))
        users.append(user)
    for session in desk.experts.queue("waiting", None, 50)["sessions"]:
        desk.experts.send(session["sessionId"], "田中", {"text": "回答です"})
        desk.experts.close(session["sessionId"], "田中", {"outcome": "助言"})
    return users


def test_monthly_counts_with_small_cells_suppressed(desk, sim, line) -> None:
    busy_month(desk, sim, line)
    report = desk.reports.table("2025-11-01", "2025-11-30", "month")
    (row,) = report["rows"]
    cells = row["cells"]
    assert cells["new_users"] == 6
    assert cells["consents_explicit"] == 6
    assert (cells["sessions_opened"], cells["sessions_closed"], cells["messages"]) == (6, 6, 12)
    assert cells["suspensions"] is None or cells["suspensions"] == 0
    assert row["medianFirstAnswerMinutes"] == 0
    assert report["totals"]["sessions_opened"] == 6


def test_by_topic_suppresses_a_small_topic_and_a_partner(desk, sim, line) -> None:
    busy_month(desk, sim, line)
    report = desk.reports.table("2025-11-01", "2025-11-30", "topic")
    cells = {row["key"]: row["cells"]["sessions_opened"] for row in report["rows"]}
    assert cells["career"] in (4, None)  # published right, or withheld as the partner
    assert cells["income"] is None  # 2 < k = 3
    assert report["totals"]["sessions_opened"] == 6
    hidden = [key for key, value in cells.items() if value is None]
    assert len(hidden) >= 2  # a partner, so 6 - 4 does not give 2 away


def test_by_outcome_is_a_two_way_table(desk, sim, line) -> None:
    busy_month(desk, sim, line)
    report = desk.reports.table("2025-11-01", "2025-11-30", "outcome")
    advice = next(row for row in report["rows"] if row["key"] == "助言")
    assert advice["cells"]["career"] in (4, None)
    assert advice["cells"]["income"] is None  # 2 < k
    assert advice["total"] == 6
    assert report["grandTotal"] == 6


def test_published_figures_do_not_change_when_a_user_is_erased(desk, sim, line) -> None:
    users = busy_month(desk, sim, line)
    before = desk.reports.table("2025-11-01", "2025-11-30", "month")["rows"][0]["cells"]
    desk.eraser.erase(users[0].user_id)
    after = desk.reports.table("2025-11-01", "2025-11-30", "month")["rows"][0]["cells"]
    assert {k: v for k, v in after.items() if k != "erasures"} == {
        k: v for k, v in before.items() if k != "erasures"
    }


@pytest.mark.parametrize(
    ("start", "end", "by"),
    [
        ("2025/11/01", "2025-11-30", "month"),
        ("2025-11-30", "2025-11-01", "month"),
        ("2025-11-01", "2025-11-30", "week"),
        (None, "2025-11-30", "month"),
        ("2020-01-01", "2025-11-30", "month"),
    ],
)
def test_bad_ranges_are_refused(desk, start, end, by) -> None:
    with pytest.raises(ValidationError):
        desk.reports.table(start, end, by)
