"""Screening finds links and listed wording, and never copies the text into a finding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.screening import screen
from shared.services.catalog import load_screening_rules
from shared.services.moderation.flood import FloodGuard

RULES = load_screening_rules(extra_domains=("spam.example",), extra_words=("ねずみ講",))


def reasons(text: str) -> set[tuple[str, str]]:
    return {(f.clause, f.reason) for f in screen(text, RULES)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("詳しくは https://example.com/job を見てください", {("8(3)", "link")}),
        ("詳しくはexample.comへ", {("8(3)", "link")}),
        ("bit.ly/abc で稼げます", {("8(3)", "link"), ("8(3)", "link shortener")}),
        (
            "https://shop.example.jp/?utm_source=line&aff=1",
            {("8(3)", "link"), ("8(3)", "affiliate or tracking parameter")},
        ),
        ("副業なら spam.example で", {("8(3)", "listed domain")}),
        ("上司に死ねと言われて辛いです", {("8(1)", "listed wording (defamation)")}),
        ("同僚になりすまして連絡します", {("8(6)", "listed wording (impersonation)")}),
        ("ねずみ講に誘われました", {("8(1)", "listed wording (listed by the desk)")}),
        ("メールは taro@example.co.jp です", set()),
        ("年収は3.5万円アップしました", set()),
        ("転職したいです", set()),
    ],
)
def test_findings(text: str, expected: set[tuple[str, str]]) -> None:
    assert reasons(text) == expected


def test_a_finding_never_carries_the_text_or_the_match() -> None:
    for finding in screen("https://bit.ly/secret-path?aff=me 死ね spam.example", RULES):
        assert "secret" not in finding.reason
        assert "bit.ly" not in finding.reason
        assert "死ね" not in finding.reason


T0 = datetime(2025, 11, 4, 1, 0, tzinfo=UTC)


def test_the_minute_limit_admits_then_refuses_and_tells_once() -> None:
    guard = FloodGuard(per_minute=3, per_day=100)
    verdicts = [guard.admit("u", T0 + timedelta(seconds=i)) for i in range(6)]
    assert [v.admitted for v in verdicts] == [True, True, True, False, False, False]
    assert [v.notify for v in verdicts] == [False, False, False, True, False, False]
    later = guard.admit("u", T0 + timedelta(seconds=61))
    assert later.admitted


def test_the_day_limit_and_a_sustained_flood_raise_one_flag() -> None:
    guard = FloodGuard(per_minute=100, per_day=5)
    verdicts = [guard.admit("u", T0 + timedelta(minutes=i)) for i in range(8)]
    assert [v.admitted for v in verdicts] == [True] * 5 + [False] * 3
    assert [v.sustained for v in verdicts].count(True) == 1
    assert [v.notify for v in verdicts].count(True) == 1
    tomorrow = guard.admit("u", T0 + timedelta(days=1))
    assert tomorrow.admitted


def test_three_minute_overflows_in_a_day_count_as_sustained() -> None:
    guard = FloodGuard(per_minute=2, per_day=1000)
    sustained = []
    for burst in range(3):
        start = T0 + timedelta(minutes=5 * burst)
        sustained += [guard.admit("u", start + timedelta(seconds=i)).sustained for i in range(4)]
    assert sustained.count(True) == 1
    assert sustained[-2:].count(True) + sustained[-4:-2].count(True) == 1


def test_a_restricted_user_gets_lower_limits_and_others_are_not_affected() -> None:
    guard = FloodGuard(per_minute=10, per_day=100)
    assert [guard.admit("r", T0, (1, 5)).admitted for _ in range(2)] == [True, False]
    assert guard.admit("other", T0).admitted
