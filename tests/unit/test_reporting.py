"""Publishable statistics from real conversations, suppressed, and stable under erasure."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from shared.config import settings_from
from shared.domain.privacy import user_key
from shared.domain.sessions import ClosedBy, SessionStatus
from shared.errors import ValidationError
from shared.services.desk_records import StatEntries, StatMarks
from shared.services.ports import Document
from shared.services.records import SessionIndex
from shared.services.reporting import Reports
from shared.services.statistics import Statistics
from shared.wiring import build_desk
from tests.kit.fakes import FakeMessenger, MemoryStore
from tests.unit.conftest import SECRET, consented, deliver, open_session


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
    report = desk.reports.table("2025-11", "2025-11", "month")
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
    report = desk.reports.table("2025-11", "2025-11", "topic")
    labels = {row["key"]: row["label"] for row in report["rows"]}
    assert labels["career"] == "キャリア・将来"  # id and Japanese label, as for outcomes
    cells = {row["key"]: row["cells"]["sessions_opened"] for row in report["rows"]}
    assert cells["career"] in (4, None)  # published right, or withheld as the partner
    assert cells["income"] is None  # 2 < k = 3
    assert report["totals"]["sessions_opened"] == 6
    hidden = [key for key, value in cells.items() if value is None]
    assert len(hidden) >= 2  # a partner, so 6 - 4 does not give 2 away


def test_by_outcome_is_a_two_way_table(desk, sim, line) -> None:
    busy_month(desk, sim, line)
    report = desk.reports.table("2025-11", "2025-11", "outcome")
    advice = next(row for row in report["rows"] if row["key"] == "advice")
    assert advice["label"] == "助言"
    assert report["columnLabels"]["income"] == "収入・お金"
    assert advice["cells"]["career"] in (4, None)
    assert advice["cells"]["income"] is None  # 2 < k
    assert advice["total"] == 6
    assert report["grandTotal"] == 6


def test_published_figures_do_not_change_when_a_user_is_erased(desk, sim, line) -> None:
    users = busy_month(desk, sim, line)
    before = desk.reports.table("2025-11", "2025-11", "month")["rows"][0]["cells"]
    desk.eraser.erase(users[0].user_id)
    after = desk.reports.table("2025-11", "2025-11", "month")["rows"][0]["cells"]
    assert {k: v for k, v in after.items() if k != "erasures"} == {
        k: v for k, v in before.items() if k != "erasures"
    }


@pytest.mark.parametrize(
    ("start", "end", "by", "field"),
    [
        ("2025-11-01", "2025-11-30", "month", "from"),  # days: no longer accepted
        ("2025-11", "2025-11-30", "month", "to"),
        ("0001-01-01", "2025-11", "month", "from"),
        ("0001-01", "2025-11", "month", "from"),
        ("2025-13", "2025-12", "month", "from"),
        ("2025-11", "2025-00", "month", "to"),
        ("2025-11\n", "2025-11", "month", "from"),  # a full match: no trailing newline
        ("\u0662\u0660\u0662\u0665-11", "2025-11", "month", "from"),  # Arabic-Indic digits
        ("9" * 5000, "2025-11", "month", "from"),
        ("2025-11", "2025-10", "month", "to"),
        ("2020-01", "2025-01", "month", "to"),  # 61 months: over the bound
        ("2025-11", "2025-11", "week", "by"),
    ],
)
def test_bad_ranges_are_refused_naming_the_field(desk, start, end, by, field) -> None:
    with pytest.raises(ValidationError) as refused:
        desk.reports.table(start, end, by)
    assert refused.value.field == field
    assert refused.value.message.startswith(f"{field}：")


def test_sixty_months_are_the_most_one_request_reads(desk) -> None:
    report = desk.reports.table("2021-01", "2025-12", "month")
    assert [row["key"] for row in report["rows"]][::59] == ["2021-01", "2025-12"]


def test_the_default_period_is_the_current_month_in_japan_time(desk, clock) -> None:
    clock.now = datetime(2025, 11, 30, 16, 0, tzinfo=UTC)  # 1 December, 01:00 in Japan
    report = desk.reports.table(None, None, None)
    assert (report["from"], report["to"], report["by"]) == ("2025-12", "2025-12", "month")
    assert report["provisional"] == ["2025-12"]
    assert desk.reports.table("2025-10", None, "topic")["to"] == "2025-12"


def test_a_month_is_counted_in_japan_time(desk, sim, line, clock, store) -> None:
    clock.now = datetime(2025, 11, 30, 15, 30, tzinfo=UTC)  # 1 December, 00:30 in Japan
    consented(desk, sim, line, "late-night")
    (entry,) = [d for d in stat_entries(store) if d["kind"] == "user_new"]
    assert (entry["month"], entry["pk"]) == ("2025-12", "stats:2025-12")
    assert desk.reports.table("2025-11", "2025-11", "month")["rows"][0]["cells"]["new_users"] == 0


def test_a_range_withholds_a_figure_if_any_of_its_months_does(desk, sim, line, clock) -> None:
    busy_month(desk, sim, line)  # November: 6 users (k = 3)
    clock.now = datetime(2025, 12, 10, 1, 0, tzinfo=UTC)
    consented(desk, sim, line, "december")  # December: 1 user, withheld
    november = desk.reports.table("2025-11", "2025-11", "month")
    both = desk.reports.table("2025-11", "2025-12", "month")
    assert november["totals"]["new_users"] == 6
    assert both["rows"][1]["cells"]["new_users"] is None
    assert both["totals"]["new_users"] is None  # 7 - 6 would give December away
    assert "*/new_users" in both["suppressed"]
    with_january = desk.reports.table("2025-12", "2026-01", "month")
    assert with_january["totals"]["new_users"] is None  # nor 1 + 0


def test_a_month_that_can_no_longer_change_is_counted_once(desk, sim, line, clock, store) -> None:
    busy_month(desk, sim, line)
    clock.now = datetime(2026, 1, 5, tzinfo=UTC)  # November settled; December still may change
    first = desk.reports.table("2025-11", "2026-01", "topic")
    assert first["totals"]["sessions_closed"] == 6
    (summary,) = [d for d in all_documents(store) if d.get("type") == "statsummary"]
    assert summary["id"] == "2025-11"
    reads: list[str] = []

    class CountedEntries(StatEntries):
        def month(self, month: str) -> list[Document]:
            reads.append(month)
            return super().month(month)

    later = Reports(CountedEntries(store), 3, clock)  # another worker: November from its summary
    again = later.table("2025-11", "2026-01", "topic")
    assert again == first
    assert reads == ["2025-12", "2026-01"]
    reads.clear()
    later.table("2025-11", "2026-01", "outcome")
    assert reads == ["2025-12", "2026-01"]  # November is kept, suppressed, in memory


def test_redeliveries_and_retries_count_once(desk, sim, line, store, clock) -> None:
    user = open_session(desk, sim, line, "twice")
    (session,) = SessionIndex(store).of_user(user.user_id)
    closed = replace(
        session, status=SessionStatus.CLOSED, closed_at=clock(), closed_by=ClosedBy.USER
    )
    statistics = Statistics(StatEntries(store), StatMarks(store))
    statistics.session_closed(closed, 2)
    statistics.session_closed(closed, 2)  # a retried close counts again: stored once
    statistics.session_opened(session)  # so does a redelivered topic choice
    follow = user.follow_event()
    deliver(desk, follow, {**follow, "deliveryContext": {"isRedelivery": True}})
    kinds = [d["kind"] for d in stat_entries(store)]
    assert (kinds.count("session_open"), kinds.count("session_close")) == (1, 1)
    assert kinds.count("user_new") == 1
    assert kinds.count("consent") == 1


def test_entries_name_no_session_or_user_and_erasure_leaves_no_link(desk, sim, line, store) -> None:
    users = busy_month(desk, sim, line)
    user_id = users[0].user_id
    sessions = [s.session_id for s in SessionIndex(store).of_user(user_id)]
    assert sessions
    key = user_key(desk.settings.hash_key, user_id)
    desk.eraser.erase(user_id)
    entries = stat_entries(store)
    assert {d["kind"] for d in entries} >= {"session_open", "session_close", "erasure"}
    raw = json.dumps(entries, ensure_ascii=False)
    for secret in (user_id, key, *sessions):
        assert secret not in raw
    marks = [d for d in all_documents(store) if d.get("type") == "statmark"]
    assert marks  # the other users' marks stay
    assert not [d for d in marks if d["userId"] == user_id]


def stat_entries(store: MemoryStore) -> list[dict]:
    return [d for d in all_documents(store) if d.get("type") == "stat"]


def all_documents(store: MemoryStore) -> list[dict]:
    return [doc for doc, _ in store.docs.values()]
