"""Service status, statistics and the API document end to end (a desk of their own: the
status changes what every other test would see)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from shared.domain.consent import JST
from shared.domain.privacy import user_key
from shared.texts.catalogue import load_catalogue
from tests.e2e.conftest import RunningDesk
from tests.e2e.test_sessions_e2e import sessions_of

pytestmark = pytest.mark.e2e
TEXTS = load_catalogue()


def test_every_state_answers_users_with_its_notice_once_then_a_short_one(
    desk: RunningDesk,
) -> None:
    user = desk.consented_user("status-user")
    user.postback("action=topic&topic=career")
    desk.sim.clear_inbox(user.user_id)
    for state, key in (("maintenance", "status_maintenance"), ("suspended", "status_suspended")):
        status, body = desk.admin("PUT", "/api/admin/service", {"state": state, "operator": "A"})
        assert (status, body["state"]) == (200, state)
        user.say("受付していますか")
        user.say("もう一度")
        assert desk.sim.texts(user.user_id) == [TEXTS.text(key), TEXTS.text("status_reminder")]
        desk.sim.clear_inbox(user.user_id)
    desk.admin("PUT", "/api/admin/service", {"state": "ended", "operator": "A"})
    user.say("終わったのですか")
    (notice,) = desk.sim.texts(user.user_id)
    assert notice.startswith("本相談窓口は受付を終了しました")
    assert "受付していますか" not in desk.stored_text()
    assert desk.admin("PUT", "/api/admin/service", {"state": "open", "operator": "A"})[0] == 200
    desk.sim.clear_inbox(user.user_id)
    user.say("再開後の相談です")
    # Back in the session: filed, and (its first message) acknowledged, not a notice.
    (ack,) = desk.sim.texts(user.user_id)
    assert ack.startswith(TEXTS.text("ack_first"))
    assert "再開後の相談です" in desk.stored_text()
    actions = [r["action"] for r in desk.admin("GET", "/api/admin/audit?limit=200")[1]["records"]]
    assert actions.count("service.change") == 4


def test_bad_status_changes_get_reasons(desk: RunningDesk) -> None:
    status, body = desk.admin("PUT", "/api/admin/service", {"state": "closed"})
    assert status == 400
    assert body["error"]["field"] == "state"
    assert desk.admin("GET", "/api/admin/service")[1]["state"] == "open"


def this_month(shift: int = 0) -> str:
    """The current calendar month in Japan time, or one `shift` months away."""
    today = datetime.now(JST)
    index = today.year * 12 + today.month - 1 + shift
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def test_statistics_are_published_with_small_cells_suppressed(desk: RunningDesk) -> None:
    status, body = desk.admin("GET", "/api/admin/stats?from=2025-11&to=2026-12&by=month")
    assert status == 200
    assert body["k"] == 10
    assert [row["key"] for row in body["rows"]][::13] == ["2025-11", "2026-12"]
    assert all(
        v is None or v == 0 or v >= 10 for row in body["rows"] for v in row["cells"].values()
    )
    assert desk.admin("GET", "/api/admin/stats?from=2025-11&to=2025-10")[0] == 400
    assert desk.admin("GET", "/api/admin/stats?from=x&to=y")[0] == 400


def test_statistics_default_to_this_month_in_japan_time(desk: RunningDesk) -> None:
    status, body = desk.admin("GET", "/api/admin/stats")
    assert status == 200
    assert (body["from"], body["to"], body["by"]) == (this_month(), this_month(), "month")
    assert body["provisional"] == [this_month()]
    status, topics = desk.admin("GET", "/api/admin/stats?by=topic")
    assert (status, topics["from"]) == (200, this_month())
    assert {row["key"]: row["label"] for row in topics["rows"]}["income"] == "収入・お金"
    status, outcomes = desk.admin("GET", "/api/admin/stats?by=outcome")
    labels = {row["key"]: row["label"] for row in outcomes["rows"]}
    assert (labels["advice"], labels["inactive"]) == ("助言", "自動終了(一定期間応答なし)")
    assert outcomes["columnLabels"]["career"] == "キャリア・将来"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2025-11-01&to=2025-11-30", "from"),  # the 1-30 November
        ("from=2025-11-01&to=2025-11-29", "from"),  # and 1-29 November: no day ranges at all
        ("from=2025-11&to=2025-11-29", "to"),
        ("from=0001-01-01&to=2025-11", "from"),
        ("from=0001-01&to=2025-11", "from"),
        ("from=2025-13&to=2025-12", "from"),
        ("from=2025-11&to=2025-11%0A", "to"),
        ("from=" + "9" * 4000 + "&to=2025-11", "from"),
        ("from=%D9%A2%D9%A0%D9%A2%D9%A5-11&to=2025-11", "from"),
        ("from=2020-01&to=2025-01", "to"),
        ("from=2025-11&to=2025-11&by=day", "by"),
    ],
)
def test_bad_periods_get_a_reason_naming_the_field(desk: RunningDesk, query, field) -> None:
    status, body = desk.admin("GET", f"/api/admin/stats?{query}")
    assert status == 400
    assert field in body["error"]["message"]


def test_nested_and_overlapping_month_ranges_cannot_be_differenced(desk: RunningDesk) -> None:
    for n in range(2):
        desk.consented_user(f"stats-newcomer-{n}")
    month, following, before = this_month(), this_month(1), this_month(-1)
    answers = {}
    for first, last in ((month, month), (month, following), (before, month), (before, following)):
        status, body = desk.admin("GET", f"/api/admin/stats?from={first}&to={last}")
        assert status == 200
        answers[(first, last)] = body
    (alone,) = answers[(month, month)]["rows"]
    assert alone["cells"]["new_users"] is None  # a few, below k = 10
    for body in answers.values():
        cells = {row["key"]: row["cells"] for row in body["rows"]}
        for column, value in cells[month].items():
            if value is None:  # withheld this month: withheld in every total that holds it
                assert body["totals"][column] is None, (body["from"], body["to"], column)
    assert answers[(month, following)]["rows"][1]["cells"]["new_users"] == 0


def test_erasure_leaves_no_statistics_entry_that_leads_back(desk: RunningDesk) -> None:
    user = desk.consented_user("stats-eraser")
    user.postback("action=topic&topic=workplace")
    user.say("職場の人間関係の相談です")
    (session_id,) = sessions_of(desk, user.user_id)
    path = f"/api/admin/sessions/{session_id}"
    assert (
        desk.admin("POST", f"{path}/messages", {"text": "伺います", "operator": "田中"})[0] == 201
    )
    assert desk.admin("POST", f"{path}/close", {"outcome": "助言", "operator": "田中"})[0] == 200
    status, _ = desk.admin("POST", f"/api/admin/users/{user.user_id}/erase", {"operator": "窓口"})
    assert status == 200

    entries = [d for d in desk.documents() if d.get("type") == "stat"]
    kinds = {d["kind"] for d in entries}
    assert {"user_new", "consent", "session_open", "first_answer", "session_close"} <= kinds
    assert "erasure" in kinds
    stored = json.dumps(entries, ensure_ascii=False).encode()
    key = user_key("j9hca07LChMJQn0ZlhsCKu494phKc6Ekj7rZI4emOIY", user.user_id)
    day = datetime.now(UTC).date().isoformat()
    old_erasure_id = hashlib.sha256(f"{key}|{day}".encode()).hexdigest()[:20]
    for reference in (user.user_id, session_id, key, old_erasure_id):
        assert reference.encode() not in stored
    assert not [d for d in desk.documents() if d.get("userId") == user.user_id]


def test_the_api_document_is_served(desk: RunningDesk) -> None:
    status, body = desk.admin("GET", "/api/admin/openapi.json")
    assert status == 200
    assert body["openapi"].startswith("3.1")
    assert "/api/admin/sessions/{sessionId}/claim" in body["paths"]
