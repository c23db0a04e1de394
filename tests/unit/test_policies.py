"""Registering policy versions: what admins may add, and what they get told when they may not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.domain.consent import text_sha256
from shared.entrypoints.views.admin import policy_command
from shared.errors import AlreadyExists, ConflictError, ValidationError
from shared.services.consent.policies import PolicyRegistry, load_shipped_policies
from tests.kit.fakes import FakeClock, MemoryStore

VALID = {
    "versionId": "2026-04-01",
    "effectiveDate": "2026-04-01",
    "url": "https://policy.example/2026",
    "text": "改定後の運用ポリシー",
    "requiresExplicit": False,
}


@pytest.fixture
def registry(clock: FakeClock) -> PolicyRegistry:
    return PolicyRegistry(MemoryStore(clock), load_shipped_policies("https://p/"), clock)


def test_a_valid_version_is_registered_and_listed(registry: PolicyRegistry) -> None:
    added = registry.register(policy_command(VALID))
    assert added.text_sha256 == text_sha256("改定後の運用ポリシー")
    assert added.privacy_policy_version == "2025-09-26"  # bundles the current one by default
    assert [v.version_id for v in registry.versions()][-1] == "2026-04-01"
    current = registry.current()
    assert current is not None
    assert current.version_id == "2025-10-24"


def test_a_registered_version_becomes_current_on_its_date(registry, clock: FakeClock) -> None:
    registry.register(policy_command(VALID))
    clock.now = datetime(2026, 3, 31, 15, 0, tzinfo=UTC)
    assert registry.current().version_id == "2026-04-01"


def test_a_hash_may_stand_in_for_the_text(registry: PolicyRegistry) -> None:
    payload = {k: v for k, v in VALID.items() if k != "text"} | {"textSha256": "a" * 64}
    assert registry.register(policy_command(payload)).text_sha256 == "a" * 64


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"effectiveDate": "2026/04/01"}, "effectiveDate"),
        ({"effectiveDate": "2026-02-30"}, "effectiveDate"),
        ({"effectiveDate": 20260401}, "effectiveDate"),
        ({"versionId": ""}, "versionId"),
        ({"versionId": "bad id with spaces"}, "versionId"),
        ({"url": "ftp://x"}, "url"),
        ({"url": None}, "url"),
        ({"text": "   "}, "text"),
        ({"text": None, "textSha256": "xyz"}, "textSha256"),
        ({"textSha256": "b" * 64}, "textSha256"),
        ({"requiresExplicit": "yes"}, "requiresExplicit"),
    ],
)
def test_invalid_input_is_refused_with_a_reason(registry, change, field) -> None:
    payload = {k: v for k, v in {**VALID, **change}.items() if v is not None}
    with pytest.raises(ValidationError) as refused:
        registry.register(policy_command(payload))
    assert refused.value.field == field
    assert refused.value.message.startswith(f"{field}：")


def test_text_or_hash_is_required(registry: PolicyRegistry) -> None:
    payload = {k: v for k, v in VALID.items() if k != "text"}
    with pytest.raises(ValidationError, match="text"):
        registry.register(policy_command(payload))


def test_a_duplicate_id_is_a_conflict(registry: PolicyRegistry) -> None:
    registry.register(policy_command(VALID))
    with pytest.raises(AlreadyExists):
        registry.register(policy_command({**VALID, "effectiveDate": "2026-05-01"}))
    with pytest.raises(AlreadyExists):
        registry.register(
            policy_command({**VALID, "versionId": "2025-10-24", "effectiveDate": "2026-05-01"})
        )


def test_a_past_date_behind_a_version_users_have_agreed_to_is_refused(registry) -> None:
    with pytest.raises(ConflictError, match="より新しい版がすでに発効"):
        registry.register(
            policy_command({**VALID, "versionId": "2025-10-01", "effectiveDate": "2025-10-01"})
        )


def test_two_versions_on_one_date_are_refused(registry) -> None:
    with pytest.raises(ConflictError, match="発効する版がすでにあります"):
        registry.register(
            policy_command({**VALID, "versionId": "again", "effectiveDate": "2025-10-24"})
        )


def test_a_past_date_after_the_current_version_takes_effect_at_once(registry) -> None:
    registry.register(
        policy_command({**VALID, "versionId": "2025-11-01", "effectiveDate": "2025-11-01"})
    )
    assert registry.current().version_id == "2025-11-01"


def test_other_workers_see_a_new_version_after_their_cache_expires(clock: FakeClock) -> None:
    store = MemoryStore(clock)
    ticks = [0.0]
    shipped = load_shipped_policies("https://p/")
    mine = PolicyRegistry(store, shipped, clock)
    theirs = PolicyRegistry(store, shipped, clock, cache_seconds=60, monotonic=lambda: ticks[0])
    assert len(theirs.versions()) == 2
    mine.register(policy_command(VALID))
    ticks[0] = 59.0
    assert len(theirs.versions()) == 2
    ticks[0] = 60.0
    assert len(theirs.versions()) == 3
