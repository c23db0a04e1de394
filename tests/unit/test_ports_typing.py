"""The in-memory fake is a DocumentStore as far as mypy (strict here) can tell.

This module is checked, not run for its assertions: `make lint` type-checks tests/, and an
assignment of a fake that drifted from the port (a narrower parameter, a missing method) fails
there. The runtime test keeps pytest honest about the module being imported.
"""

from __future__ import annotations

from shared.adapters.sqlite_store import SqliteStore
from shared.services.ports import DocumentStore
from tests.kit.fakes import FakeClock, MemoryStore


def memory_store() -> DocumentStore:
    store: DocumentStore = MemoryStore(FakeClock())
    return store


def sqlite_store(path: str) -> DocumentStore:
    store: DocumentStore = SqliteStore(path)
    return store


def test_the_fake_store_keeps_what_the_port_promises() -> None:
    store = memory_store()
    store.create("users", {"id": "U1", "userId": "U1", "type": "user"})
    assert store.count_partition("users", "U1", doc_type="user", where={"id": "U1"}) == 1
