"""Two timer runs at once (issue 20, defect 3): a restart or a deployment overlaps two
`purge_suspended` runs on two instances; each user is still erased, counted and audited once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.config import settings_from
from shared.ports import USERS
from shared.wiring import Desk, build_desk
from tests.kit.admin_api import api
from tests.kit.fakes import FakeClock, FakeMessenger, MemoryStore
from tests.unit.conftest import SECRET, deliver, open_session


class InterleavingStore(MemoryStore):
    """Runs `between` once, when this instance first reads a user record while purging: the
    other instance's whole run, after this one read the suspension list and before it
    erases anyone."""

    between: Callable[[], None] | None = None

    def read(self, container: str, partition: str, doc_id: str) -> Any:
        if container == USERS and doc_id == "user" and self.between is not None:
            hook, self.between = self.between, None
            hook()
        return super().read(container, partition, doc_id)


def instance(store: MemoryStore, line: FakeMessenger, clock: FakeClock) -> Desk:
    settings = settings_from(
        {
            "DESK_ENVIRONMENT": "Development",
            "LINE_API_BASE_URL": "http://127.0.0.1:9",
            "LINE_CHANNEL_SECRET": SECRET,
        }
    )
    return build_desk(settings, store, line, clock, sleep=lambda _: None)


def test_two_purge_runs_at_once_erase_count_and_audit_each_user_once(sim) -> None:
    clock = FakeClock()
    store, line = InterleavingStore(clock), FakeMessenger()
    a, b = instance(store, line, clock), instance(store, line, clock)
    for name in ("u1", "u2", "u3"):
        user = open_session(a, sim, line, name)
        deliver(a, user.text_event("相談です"))
        api(a).moderation.suspend(user.user_id, "運用者A", {"clause": "8(3)", "reason": "宣伝"})
    clock.advance(days=31)
    runs: list[Any] = []
    store.between = lambda: runs.append(b.eraser.purge_suspended(grace_days=30, limit=100))
    runs.append(a.eraser.purge_suspended(grace_days=30, limit=100))
    assert sum(run.acted for run in runs) == 3
    assert runs[0].skipped["taken"] == 1  # B found A had the first one
    records = api(a).auditor.page(None, 500)["records"]
    assert sum(r["action"] == "user.purge" for r in records) == 3
    erasures = [
        i for (_, p, i) in store.docs if p.startswith("stats:") and i.startswith("erasure:")
    ]
    assert len(erasures) == 3
    assert not [i for (_, p, i) in store.docs if i.startswith("purging-")]  # claims released


class UserReadHook(MemoryStore):
    """Runs `between` once, at the first read of a user record after it is armed: the other
    run, after this one found the user inactive in the activity directory."""

    between: Callable[[], None] | None = None

    def read(self, container: str, partition: str, doc_id: str) -> Any:
        found = super().read(container, partition, doc_id)
        if container == USERS and doc_id == "user" and self.between is not None:
            hook, self.between = self.between, None
            hook()
        return found


def test_two_retention_runs_at_once_erase_count_and_audit_each_inactive_user_once(sim) -> None:
    clock = FakeClock()
    store, line = UserReadHook(clock), FakeMessenger()
    a, b = instance(store, line, clock), instance(store, line, clock)
    for name in ("r1", "r2", "r3"):
        user = open_session(a, sim, line, name)
        deliver(a, user.postback_event("action=end&confirm=yes"))
    clock.advance(days=800)
    runs: list[Any] = []
    store.between = lambda: runs.append(b.retention.purge_expired(3650, 730, 100))
    runs.append(a.retention.purge_expired(3650, 730, 100))
    assert sum(run.parts["users"] for run in runs) == 3
    records = api(a).auditor.page(None, 500)["records"]
    assert sum(r["action"] == "user.expire" for r in records) == 3
    erasures = [
        i for (_, p, i) in store.docs if p.startswith("stats:") and i.startswith("erasure:")
    ]
    assert len(erasures) == 3
