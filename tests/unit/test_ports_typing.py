"""The in-memory fakes are the ports they stand in for, as far as mypy (strict here) can tell.

`make lint` type-checks tests/: an assignment of a fake that drifted from its port (a narrower
parameter, a missing method) fails there. The runtime test keeps pytest honest about the
module being imported and the fake working through the port's surface.
"""

from __future__ import annotations

from shared.adapters.sqlite_store import SqliteStore
from shared.services.ports import DocumentStore, LineMessenger
from tests.kit.fakes import FakeClock, FakeMessenger, MemoryStore


def memory_store() -> DocumentStore:
    store: DocumentStore = MemoryStore(FakeClock())
    return store


def sqlite_store(path: str) -> DocumentStore:
    store: DocumentStore = SqliteStore(path)
    return store


def fake_messenger() -> LineMessenger:
    messenger: LineMessenger = FakeMessenger()
    return messenger


def test_the_fake_store_keeps_what_the_port_promises() -> None:
    store = memory_store()
    store.create("users", {"id": "U1", "userId": "U1", "type": "user"})
    assert store.count_partition("users", "U1", doc_type="user", where={"id": "U1"}) == 1


def test_the_fake_messenger_answers_through_the_port() -> None:
    assert fake_messenger().bot_user_id().startswith("U")
