"""A Cosmos DB that hangs (issue 20, defect 8): with the test server frozen, a store call
inside a budget fails within it (the SDK alone has no read timeout on its retries)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.cosmos_testserver import EMULATOR_KEY, CosmosTestServer, start_cosmos_test_server
from shared.adapters.cosmos_store import CosmosStore
from shared.budget import within
from shared.errors import StoreUnavailable
from shared.ports import USERS


@pytest.fixture
def server() -> Iterator[CosmosTestServer]:
    """A test server of this test's own: freezing it must not stall the session's."""
    started = start_cosmos_test_server()
    yield started
    started.thaw()
    started.stop()


def test_a_frozen_cosmos_fails_the_call_within_its_budget_and_loses_nothing(server) -> None:
    store = CosmosStore(server.endpoint, "budget", key=EMULATOR_KEY, verify_tls=False)
    store.create(USERS, {"id": "a", "userId": "U1", "type": "note", "v": 1})
    server.freeze()
    with within(0.6), pytest.raises(StoreUnavailable):
        store.read(USERS, "U1", "a")
    with within(0.6), pytest.raises(StoreUnavailable):
        store.create(USERS, {"id": "b", "userId": "U1", "type": "note"})
    server.thaw()
    found = store.read(USERS, "U1", "a")
    assert found is not None
    assert found["v"] == 1
