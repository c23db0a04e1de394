"""Fixtures shared by every suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.cosmos_testserver import CosmosTestServer, start_cosmos_test_server
from shared.config import reset_settings
from shared.wiring import reset_desk
from tests.kit.fakes import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """A clock that moves only when the test says so."""
    return FakeClock()


@pytest.fixture(autouse=True)
def _fresh_process_state():
    """Each test starts with no cached Settings or Desk (they read the environment)."""
    reset_settings()
    reset_desk()
    yield
    reset_settings()
    reset_desk()


@pytest.fixture(scope="session")
def cosmos_server() -> Iterator[CosmosTestServer]:
    """One Cosmos DB test server for the whole session (contract and end-to-end tests)."""
    server = start_cosmos_test_server()
    yield server
    server.thaw()  # a test that froze it and failed must not hang the session's end
    server.stop()


@pytest.fixture(scope="session")
def cosmos_endpoint(cosmos_server: CosmosTestServer) -> str:
    """The session's Cosmos DB test server's endpoint."""
    return cosmos_server.endpoint
