"""The closing survey through LINE and the admin API: answers published by rating
(`by=satisfaction`) under the same suppression as every other figure, and the one comment a
user may send after rating, kept as consultation text (exported, erased with the user)."""

from __future__ import annotations

import pytest

from devtools.linesim import SimUser
from shared.texts.catalogue import load_catalogue
from tests.e2e.conftest import RunningDesk
from tests.e2e.test_retention_e2e import call
from tests.e2e.test_sessions_e2e import open_session

pytestmark = pytest.mark.e2e
TEXTS = load_catalogue()
HOST_ENV = {"DESK_STATS_K": "3"}  # small enough to publish a figure from a handful of users


def closed_with_survey(desk: RunningDesk, name: str) -> tuple[SimUser, str, dict[str, str]]:
    """A user whose session an expert closed; their survey's postback data by rating."""
    user, session_id = open_session(desk, name)
    user.say("相談です", age=70)
    status, _ = desk.admin(
        "POST", f"/api/admin/sessions/{session_id}/close", {"outcome": "助言", "operator": "田中"}
    )
    assert status == 200
    survey = desk.sim.inbox(user.user_id)[-1].message
    actions = survey["template"]["actions"]
    data = dict(zip(("good", "fair", "poor"), (a["data"] for a in actions), strict=True))
    desk.sim.clear_inbox(user.user_id)
    return user, session_id, data


def test_satisfaction_is_published_by_rating_with_small_counts_withheld(
    desk: RunningDesk,
) -> None:
    before = desk.admin("GET", "/api/admin/stats?by=satisfaction")[1]["totals"]["survey_answers"]
    for n, rating in enumerate(("good", "good", "good", "poor")):
        user, _, data = closed_with_survey(desk, f"survey-stats-{n}")
        user.postback(data[rating])
    status, body = desk.admin("GET", "/api/admin/stats?by=satisfaction")
    assert status == 200
    assert body["by"] == "satisfaction"
    assert body["columns"] == ["survey_answers"]
    rows = {row["key"]: row for row in body["rows"]}
    assert [(key, row["label"]) for key, row in rows.items()] == [
        ("good", "満足"),
        ("fair", "ふつう"),
        ("poor", "不満"),
    ]
    cells = {key: row["cells"]["survey_answers"] for key, row in rows.items()}
    total = body["totals"]["survey_answers"]
    assert total == (before or 0) + 4
    # One 不満 (below k = 3) is withheld, and so is enough else that the total cannot give it away.
    assert cells["poor"] is None
    assert sum(1 for value in cells.values() if value is None) >= 2
    assert "poor/survey_answers" in body["suppressed"]
    status, refused = desk.admin("GET", "/api/admin/stats?by=mood")
    assert status == 400
    assert "by" in refused["error"]["message"]


def test_one_comment_after_the_survey_is_kept_exported_and_erased(desk: RunningDesk) -> None:
    user, session_id, data = closed_with_survey(desk, "survey-comment")
    user.postback(data["fair"])
    first = user.say("丁寧に対応していただき助かりました")
    user.say("もう一言")  # only one comment: this one is not kept
    assert user.redeliver(first).status == 200  # a redelivered comment changes nothing
    texts = [d.message.get("text") for d in desk.sim.inbox(user.user_id)]
    assert texts[:2] == [TEXTS.text("survey_thanks"), TEXTS.text("survey_comment_thanks")]
    assert texts.count(TEXTS.text("survey_comment_thanks")) == 1
    (stored,) = [d for d in desk.documents() if d.get("id") == session_id]
    assert stored["surveyComment"] == "丁寧に対応していただき助かりました"
    # Not a comment: like any text before a topic, it is only kept as a draft for the
    # consultation the user may open next (line-ux's drafts), and says so.
    assert texts[-1] == TEXTS.text("draft_kept")
    holders = [d for d in desk.documents() if "もう一言" in str(d)]
    assert [(d.get("type"), d.get("sessionId")) for d in holders] == [("message", "draft")]
    assert "助かりました" not in desk.log.read_text()  # never logged

    status, export, _ = call(desk, "GET", f"/api/admin/users/{user.user_id}/export")
    assert status == 200
    (session,) = [s for s in export["sessions"] if s["sessionId"] == session_id]
    assert session["surveyComment"] == "丁寧に対応していただき助かりました"
    assert "丁寧に対応していただき助かりました" in export["text"]

    status, _ = desk.admin("POST", f"/api/admin/users/{user.user_id}/erase", {"operator": "窓口"})
    assert status == 200
    assert "助かりました" not in str(desk.documents())


def test_a_message_without_a_survey_answer_is_no_comment(desk: RunningDesk) -> None:
    user, session_id, _ = closed_with_survey(desk, "survey-none")
    user.say("ありがとうございました")
    texts = [d.message.get("text") for d in desk.sim.inbox(user.user_id)]
    assert TEXTS.text("survey_comment_thanks") not in texts
    (stored,) = [d for d in desk.documents() if d.get("id") == session_id]
    assert stored.get("surveyComment") is None
