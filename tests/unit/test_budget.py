"""The time budget of one call (issue 20, defect 8): what the adapters may still spend."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from shared.adapters.sqlite_store import SqliteStore
from shared.budget import OutOfTime, closing, seconds_left, within
from shared.errors import DependencyError, StoreUnavailable
from shared.ports import USERS


def test_outside_a_budget_a_call_gets_its_own_cap() -> None:
    assert seconds_left(7.0) == 7.0


def test_inside_a_budget_a_call_gets_at_most_what_is_left() -> None:
    with within(2.0):
        assert 0 < seconds_left(30.0) <= 2.0
        assert seconds_left(0.5) == 0.5


def test_a_spent_budget_refuses_the_next_call_as_a_dependency_failure() -> None:
    with within(0.0), pytest.raises(OutOfTime) as spent:
        seconds_left(5.0)
    assert isinstance(spent.value, DependencyError)  # answered 503; LINE redelivers


def test_the_reserve_is_for_putting_back_what_was_claimed() -> None:
    with within(1.0, reserve=1.0):  # a reserve is a quarter of the budget at most
        work = seconds_left(5.0)
        with closing():
            assert seconds_left(5.0) > work


def test_budgets_do_not_leak_between_threads() -> None:
    seen: list[float] = []
    with within(0.0):
        thread = threading.Thread(target=lambda: seen.append(seconds_left(3.0)))
        thread.start()
        thread.join()
    assert seen == [3.0]


def test_sqlite_held_by_another_instance_fails_within_the_budget(tmp_path) -> None:
    """Another process holds the file's write lock (two local hosts on one file): the write
    waits only for what is left of the budget, not SQLite's 5 s busy timeout, then fails."""
    path = str(tmp_path / "desk.sqlite3")
    store = SqliteStore(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the other instance's write, never finished
    try:
        with within(0.4), pytest.raises(StoreUnavailable):
            store.create(USERS, {"id": "a", "userId": "U1", "type": "note"})
        assert store.busy_timeout_ms() <= 400  # what SQLite was told to wait, at most
    finally:
        other.execute("ROLLBACK")
        other.close()
    store.create(USERS, {"id": "a", "userId": "U1", "type": "note"})  # free again: it works
    assert store.read(USERS, "U1", "a") is not None
