"""Screening finds links and listed wording, and never copies the text into a finding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.screening import screen
from shared.repositories.flood_counts import FloodCounts
from shared.services.catalog import load_screening_rules
from shared.services.moderation.flood import FloodGuard
from tests.kit.fakes import MemoryStore

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


def guard_over(store: MemoryStore, per_minute: int, per_day: int) -> FloodGuard:
    """One instance's guard over the shared store."""
    return FloodGuard(FloodCounts(store), per_minute, per_day)


def test_the_minute_limit_admits_then_refuses_and_tells_once() -> None:
    guard = guard_over(MemoryStore(), 3, 100)
    verdicts = [guard.admit("u", T0 + timedelta(seconds=i)) for i in range(6)]
    assert [v.admitted for v in verdicts] == [True, True, True, False, False, False]
    assert [v.notify for v in verdicts] == [False, False, False, True, False, False]
    later = guard.admit("u", T0 + timedelta(seconds=61))
    assert later.admitted


def test_the_day_limit_and_a_sustained_flood_raise_one_flag() -> None:
    guard = guard_over(MemoryStore(), 100, 5)
    verdicts = [guard.admit("u", T0 + timedelta(minutes=i)) for i in range(8)]
    assert [v.admitted for v in verdicts] == [True] * 5 + [False] * 3
    assert [v.sustained for v in verdicts].count(True) == 1
    assert [v.notify for v in verdicts].count(True) == 1
    tomorrow = guard.admit("u", T0 + timedelta(days=1))
    assert tomorrow.admitted


def test_three_minute_overflows_in_a_day_count_as_sustained() -> None:
    guard = guard_over(MemoryStore(), 2, 1000)
    sustained = []
    for burst in range(3):
        start = T0 + timedelta(minutes=5 * burst)
        sustained += [guard.admit("u", start + timedelta(seconds=i)).sustained for i in range(4)]
    assert sustained.count(True) == 1
    assert sustained[-2:].count(True) + sustained[-4:-2].count(True) == 1


def test_a_restricted_user_gets_lower_limits_and_others_are_not_affected() -> None:
    guard = guard_over(MemoryStore(), 10, 100)
    assert [guard.admit("r", T0, (1, 5)).admitted for _ in range(2)] == [True, False]
    assert guard.admit("other", T0).admitted


def test_three_instances_hold_one_limit_and_tell_once(clock) -> None:
    """Issue 20, defect 5: a user's messages spread over three instances count as one flood."""
    store = MemoryStore(clock)
    guards = [guard_over(store, 20, 1000) for _ in range(3)]
    verdicts = [guards[i % 3].admit("u", T0 + timedelta(seconds=i / 3)) for i in range(60)]
    assert sum(v.admitted for v in verdicts) == 20
    assert sum(v.notify for v in verdicts) == 1


def test_a_lower_limit_holds_across_instances(clock) -> None:
    store = MemoryStore(clock)
    a, b = guard_over(store, 20, 1000), guard_over(store, 20, 1000)
    admitted = [(a if i % 2 else b).admit("r", T0, (2, 10)).admitted for i in range(6)]
    assert admitted.count(True) == 2


def test_a_flood_going_on_for_minutes_is_told_once() -> None:
    guard = guard_over(MemoryStore(), 5, 1000)
    verdicts = [guard.admit("u", T0 + timedelta(seconds=2 * i)) for i in range(150)]
    assert sum(v.notify for v in verdicts) == 1
    assert 5 * 5 <= sum(v.admitted for v in verdicts) <= 5 * 6  # five a minute, for 5 minutes
