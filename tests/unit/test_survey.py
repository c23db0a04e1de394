"""The closing survey in the domain: the comment window, one comment, the retention timer
erasing it, and rating counts suppressed like every other monthly figure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.domain.disclosure import MonthCounts, release
from shared.domain.sessions import (
    MAX_SURVEY_COMMENT,
    SURVEY_COMMENT_WINDOW,
    SURVEY_RATINGS,
    ClosedBy,
    Session,
    SessionStatus,
)

NOW = datetime(2025, 11, 3, 10, 0, tzinfo=UTC)


def closed() -> Session:
    opened = Session("20251103T090000-abcdef", "U1", "career", SessionStatus.WAITING, NOW)
    return opened.close(ClosedBy.EXPERT, "advice", NOW, name="田中")


def test_a_comment_is_awaited_only_after_a_rating_and_within_the_window() -> None:
    session = closed()
    assert not session.awaits_survey_comment(NOW)
    rated = session.rated(NOW)
    assert rated.awaits_survey_comment(NOW + SURVEY_COMMENT_WINDOW)
    assert not rated.awaits_survey_comment(NOW + SURVEY_COMMENT_WINDOW + timedelta(seconds=1))
    assert rated.rated(NOW + timedelta(minutes=5)).survey_rated_at == NOW  # the first counts


def test_one_comment_only_cut_to_its_limit() -> None:
    commented = closed().rated(NOW).with_survey_comment("あ" * (MAX_SURVEY_COMMENT + 10))
    assert commented.survey_comment == "あ" * MAX_SURVEY_COMMENT
    assert not commented.awaits_survey_comment(NOW)


def test_the_retention_timer_erases_the_comment() -> None:
    commented = closed().rated(NOW).with_survey_comment("助かりました")
    erased = commented.without_text(NOW + timedelta(days=400))
    assert erased.survey_comment is None
    assert not erased.awaits_survey_comment(NOW)


def test_survey_counts_are_suppressed_with_a_complement() -> None:
    counts = MonthCounts("2025-11", survey={"good": 12, "fair": 11, "poor": 2})
    figures = release(counts, 10, ["career"], ["advice"], SURVEY_RATINGS).figures
    assert figures[("survey", "poor")] is None
    # The total alone would give 不満 away: another rating is withheld with it.
    withheld = [r for r in SURVEY_RATINGS if figures[("survey", r)] is None]
    assert len(withheld) >= 2 or figures[("survey", "")] is None
    counts = MonthCounts("2025-11", survey={"good": 12, "fair": 11, "poor": 10})
    figures = release(counts, 10, ["career"], ["advice"], SURVEY_RATINGS).figures
    assert [figures[("survey", r)] for r in (*SURVEY_RATINGS, "")] == [12, 11, 10, 33]
