"""The consent rules, clock-driven: effective dates in Japan time, the gate, deemed consent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from shared.domain.consent import (
    ConsentMethod,
    ConsentRecord,
    Gate,
    PolicyVersion,
    current_version,
    decide,
    japan_time,
    may_prompt,
)
from shared.domain.users import UserRecord
from shared.services.consent.policies import load_shipped_policies

SHIPPED = load_shipped_policies("https://policy.example/")


def version(version_id: str, *, explicit: bool = False) -> PolicyVersion:
    return PolicyVersion(
        version_id, date.fromisoformat(version_id), "https://p/", "0" * 64, "p1", explicit
    )


def test_the_two_published_versions_ship_with_pinned_texts() -> None:
    assert [v.version_id for v in SHIPPED] == ["2025-09-26", "2025-10-24"]
    assert [v.effective_date for v in SHIPPED] == [date(2025, 9, 26), date(2025, 10, 24)]
    assert SHIPPED[0].requires_explicit  # nobody had agreed to anything before it
    assert all(len(v.text_sha256) == 64 for v in SHIPPED)
    assert all(v.url == "https://policy.example/" for v in SHIPPED)


def test_a_version_takes_effect_at_midnight_japan_time() -> None:
    assert SHIPPED[1].effective_at == datetime(2025, 10, 23, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2025, 9, 25, 14, 59, 59, tzinfo=UTC), None),
        (datetime(2025, 9, 25, 15, 0, tzinfo=UTC), "2025-09-26"),
        (datetime(2025, 10, 23, 14, 59, 59, tzinfo=UTC), "2025-09-26"),
        (datetime(2025, 10, 23, 15, 0, tzinfo=UTC), "2025-10-24"),
        (datetime(2026, 11, 28, tzinfo=UTC), "2025-10-24"),
    ],
    ids=["before-first", "on-first", "day-before-second", "on-second", "long-after"],
)
def test_the_current_version_is_the_latest_in_effect(now: datetime, expected: str | None) -> None:
    current = current_version(SHIPPED, now)
    assert (current.version_id if current else None) == expected


NOW = datetime(2025, 11, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("agreed", "method", "expected"),
    [
        (None, None, Gate.PROMPT),
        ("2025-10-24", ConsentMethod.EXPLICIT, Gate.ALLOW),
        ("2025-10-24", ConsentMethod.DEEMED, Gate.ALLOW),
        ("2025-09-26", ConsentMethod.EXPLICIT, Gate.DEEM),
        ("2025-09-26", ConsentMethod.DEEMED, Gate.DEEM),
        ("2025-10-24", ConsentMethod.DECLINED, Gate.PROMPT),
        ("2025-10-24", ConsentMethod.WITHDRAWN, Gate.PROMPT),
        ("1999-01-01", ConsentMethod.EXPLICIT, Gate.PROMPT),
    ],
)
def test_the_gate(agreed: str | None, method: ConsentMethod | None, expected: Gate) -> None:
    assert decide(SHIPPED, agreed, method, NOW) is expected


def test_a_material_change_since_the_users_consent_asks_again() -> None:
    versions = [*SHIPPED, version("2025-12-01", explicit=True), version("2026-01-01")]
    jan = datetime(2026, 1, 2, tzinfo=UTC)
    assert decide(versions, "2025-10-24", ConsentMethod.EXPLICIT, jan) is Gate.PROMPT
    assert decide(versions, "2025-12-01", ConsentMethod.EXPLICIT, jan) is Gate.DEEM
    before = datetime(2025, 11, 30, tzinfo=UTC)  # the material change is not in effect yet
    assert decide(versions, "2025-10-24", ConsentMethod.EXPLICIT, before) is Gate.ALLOW


def test_before_any_version_is_in_effect_everyone_is_prompted() -> None:
    early = datetime(2025, 1, 1, tzinfo=UTC)
    assert decide(SHIPPED, None, None, early) is Gate.PROMPT


def test_the_prompt_is_repeated_at_most_once_per_interval() -> None:
    interval = timedelta(minutes=5)
    assert may_prompt(None, NOW, interval)
    assert not may_prompt(NOW, NOW + timedelta(minutes=4, seconds=59), interval)
    assert may_prompt(NOW, NOW + timedelta(minutes=5), interval)


def test_times_are_shown_to_users_in_japan_time() -> None:
    assert japan_time(datetime(2025, 10, 23, 15, 30, tzinfo=UTC)) == "2025年10月24日 00:30"


def test_a_decline_or_withdrawal_allows_an_immediate_prompt() -> None:
    user = UserRecord.new("U1", NOW).prompted(NOW)
    record = ConsentRecord("U1", "2025-10-24", "0" * 64, "p", ConsentMethod.DECLINED, NOW, "e1")
    declined = user.decided(record)
    assert declined.last_prompt_at is None
    assert declined.consent_status == "declined"
    agreed = user.decided(
        ConsentRecord("U1", "2025-10-24", "0" * 64, "p", ConsentMethod.EXPLICIT, NOW, "e2")
    )
    assert agreed.consent_version == "2025-10-24"
    assert agreed.consent_status == "consented"
