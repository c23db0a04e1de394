"""A policy change end to end, on a desk of its own (the change alters the current version).

The host runs on today's clock, so a change "takes effect" by registering a version whose
effective date has already passed but is later than the current one.
"""

from __future__ import annotations

import pytest

from shared.texts.catalogue import load_catalogue
from tests.e2e.conftest import POLICY_URL, RunningDesk

pytestmark = pytest.mark.e2e
TEXTS = load_catalogue()


def history(desk: RunningDesk, user_id: str) -> list[tuple[str, str]]:
    body = desk.admin("GET", f"/api/admin/users/{user_id}")[1]
    return [(c["policyVersion"], c["method"]) for c in body["consents"]]


def test_continued_use_is_deemed_consent_then_a_material_change_asks_again(
    desk: RunningDesk,
) -> None:
    user = desk.consented_user("policy-change")
    new_url = POLICY_URL + "/2026-01-05"
    status, _ = desk.admin(
        "POST",
        "/api/admin/policies",
        {
            "versionId": "2026-01-05",
            "effectiveDate": "2026-01-05",
            "url": new_url,
            "text": "改定版(軽微)",
            "requiresExplicit": False,
        },
    )
    assert status == 201

    user.say("こんにちは")
    notice, *answer = desk.sim.texts(user.user_id)
    assert new_url in notice
    assert answer == [TEXTS.text("draft_kept")]
    desk.sim.clear_inbox(user.user_id)
    user.say("もう一度")
    assert desk.sim.texts(user.user_id) == [TEXTS.text("draft_kept")]
    assert history(desk, user.user_id) == [("2025-10-24", "explicit"), ("2026-01-05", "deemed")]

    status, _ = desk.admin(
        "POST",
        "/api/admin/policies",
        {
            "versionId": "2026-02-01",
            "effectiveDate": "2026-02-01",
            "url": POLICY_URL,
            "text": "改定版(重要)",
            "requiresExplicit": True,
        },
    )
    assert status == 201
    desk.sim.clear_inbox(user.user_id)
    user.say("使えますか")
    question = desk.sim.inbox(user.user_id)[-1].message
    assert question["type"] == "template"
    assert "2026-02-01" in question["template"]["actions"][0]["data"]
    user.postback(question["template"]["actions"][0]["data"])
    assert history(desk, user.user_id)[-1] == ("2026-02-01", "explicit")
