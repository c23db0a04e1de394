"""One storage contract, every back end: the in-memory fake, SQLite, and Cosmos DB.

Cosmos DB runs as `@vercel/cosmosdb-server` (installed by `make test` with npm), started once
per session on a loopback port and reached through the real `azure-cosmos` SDK. Behaviour
that only a real account or the official emulator has (TTL expiry) runs when
COSMOS_TEST_ENDPOINT and COSMOS_TEST_KEY are set, and is skipped with that reason otherwise.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from azure.cosmos import CosmosClient

from devtools.cosmos_testserver import EMULATOR_KEY
from shared.adapters.cosmos_store import CosmosStore
from shared.adapters.sqlite_store import SqliteStore
from shared.services.ports import DocumentStore
from tests.kit.fakes import FakeClock, MemoryStore

REAL_ENDPOINT = os.environ.get("COSMOS_TEST_ENDPOINT")
REAL_KEY = os.environ.get("COSMOS_TEST_KEY")
# The official emulator's certificate is self-signed: COSMOS_TEST_VERIFY_TLS=false for it.
REAL_VERIFY_TLS = os.environ.get("COSMOS_TEST_VERIFY_TLS", "true").lower() != "false"
BACKENDS = [
    "memory",
    "sqlite",
    "cosmos-testserver",
    pytest.param("cosmos-real", marks=pytest.mark.cosmos_real),
]


@dataclass
class Backend:
    """A store under test, and whether the test controls its clock."""

    name: str
    store: DocumentStore
    clock: FakeClock | None

    @property
    def is_cosmos(self) -> bool:
        """True for both Cosmos DB back ends."""
        return self.name.startswith("cosmos")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Any, clock: FakeClock) -> Iterator[Backend]:
    """Each contract test runs once per back end, on fresh storage."""
    name = request.param
    if name == "memory":
        yield Backend(name, MemoryStore(clock), clock)
    elif name == "sqlite":
        store = SqliteStore(str(tmp_path / "desk.sqlite3"), clock=clock)
        yield Backend(name, store, clock)
        store.close()
    elif name == "cosmos-testserver":
        endpoint = request.getfixturevalue("cosmos_endpoint")
        database = f"test-{uuid.uuid4().hex[:12]}"
        yield Backend(
            name, CosmosStore(endpoint, database, key=EMULATOR_KEY, verify_tls=False), None
        )
    else:
        if not (REAL_ENDPOINT and REAL_KEY):
            pytest.skip("needs a real Cosmos DB account or emulator: set COSMOS_TEST_ENDPOINT/KEY")
        database = f"test-{uuid.uuid4().hex[:12]}"
        real = CosmosStore(REAL_ENDPOINT, database, key=REAL_KEY, verify_tls=REAL_VERIFY_TLS)
        yield Backend(name, real, None)
        # Containers on a real account are billed: leave nothing behind.
        client = CosmosClient(REAL_ENDPOINT, REAL_KEY, connection_verify=REAL_VERIFY_TLS)
        client.delete_database(database)
