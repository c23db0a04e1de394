"""Service status, statistics and the API document end to end (a desk of their own: the
status changes what every other test would see)."""

from __future__ import annotations

import pytest

from shared.texts.catalogue import load_catalogue
from tests.e2e.conftest import RunningDesk

pytestmark = pytest.mark.e2e
TEXTS = load_catalogue()


def test_every_state_answers_users_with_its_notice_once(desk: RunningDesk) -> None:
    user = desk.consented_user("status-user")
    user.postback("action=topic&topic=career")
    desk.sim.clear_inbox(user.user_id)
    for state, key in (("maintenance", "status_maintenance"), ("suspended", "status_suspended")):
        status, body = desk.admin("PUT", "/api/admin/service", {"state": state, "operator": "A"})
        assert (status, body["state"]) == (200, state)
        user.say("受付していますか")
        user.say("もう一度")
        assert desk.sim.texts(user.user_id) == [TEXTS.text(key)]
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


def test_statistics_are_published_with_small_cells_suppressed(desk: RunningDesk) -> None:
    status, body = desk.admin("GET", "/api/admin/stats?from=2025-11-01&to=2026-12-31&by=month")
    assert status == 200
    assert body["k"] == 10
    assert all(
        v is None or v == 0 or v >= 10 for row in body["rows"] for v in row["cells"].values()
    )
    assert desk.admin("GET", "/api/admin/stats?from=2025-11-01&to=2025-10-01")[0] == 400
    assert desk.admin("GET", "/api/admin/stats?from=x&to=y")[0] == 400


def test_the_api_document_is_served(desk: RunningDesk) -> None:
    status, body = desk.admin("GET", "/api/admin/openapi.json")
    assert status == 200
    assert body["openapi"].startswith("3.1")
    assert "/api/admin/sessions/{sessionId}/claim" in body["paths"]
