"""LINE's monthly push quota: the simulator enforces it, the adapter reads it, and the
housekeeping timer logs it as one line of counts (what the quota alert reads)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest

from devtools.linesim import LineSimulator, user_id_for
from shared.adapters.line_messaging import LineApiClient
from shared.domain.messages import TextMessage
from shared.errors import LineApiError
from shared.services.housekeeping import log_push_quota, run_housekeeping
from shared.services.ports import PushQuota
from tests.kit.fakes import MemoryStore

ALICE = user_id_for("alice")
BOB = user_id_for("bob")
HELLO = (TextMessage("こんにちは"),)


@pytest.fixture
def sim() -> Iterator[LineSimulator]:
    simulator = LineSimulator("secret", "token", push_quota=3)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def client(sim: LineSimulator) -> LineApiClient:
    return LineApiClient("token", sim.base_url, timeout_seconds=5)


def test_the_adapter_reads_limit_and_consumption(sim, client) -> None:
    assert client.push_quota() == PushQuota(limit=3, used=0)
    client.push(ALICE, HELLO, str(uuid.uuid4()))
    client.push(BOB, HELLO * 3, str(uuid.uuid4()))  # one count per recipient and request
    assert client.push_quota() == PushQuota(limit=3, used=2)


def test_the_simulator_refuses_pushes_over_the_quota_and_retries_do_not_count(sim, client) -> None:
    key = str(uuid.uuid4())
    client.push(ALICE, HELLO, key)
    client.push(ALICE, HELLO, key)  # a repeat (409) costs nothing
    client.push(ALICE, HELLO, str(uuid.uuid4()))
    client.push(ALICE, HELLO, str(uuid.uuid4()))
    with pytest.raises(LineApiError) as refused:
        client.push(ALICE, HELLO, str(uuid.uuid4()))
    assert refused.value.http_status == 429
    assert client.push_quota().used == 3


def test_a_channel_without_a_limit_reports_none() -> None:
    sim = LineSimulator("secret", "token")
    sim.start()
    try:
        client = LineApiClient("token", sim.base_url, timeout_seconds=5)
        client.push(ALICE, HELLO, str(uuid.uuid4()))
        assert client.push_quota() == PushQuota(limit=None, used=1)
    finally:
        sim.stop()


def test_a_wrong_token_is_a_line_error(sim) -> None:
    with pytest.raises(LineApiError) as refused:
        LineApiClient("wrong", sim.base_url, timeout_seconds=5).push_quota()
    assert refused.value.http_status == 401


def test_housekeeping_logs_the_quota_as_counts_only(sim, client, caplog) -> None:
    for _ in range(3):
        client.push(ALICE, HELLO, str(uuid.uuid4()))
    with caplog.at_level(logging.INFO, logger="desk.housekeeping"):
        run_housekeeping(MemoryStore(), client)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("line quota")]
    assert lines == ["line quota type=limited limit=3 used=3 percent=100.0"]
    assert ALICE not in caplog.text


def test_a_quota_lookup_failure_is_a_warning_not_a_failed_run(sim, client, caplog) -> None:
    sim.fail_next("quota", 500)
    with caplog.at_level(logging.INFO, logger="desk.housekeeping"):
        log_push_quota(client)
        summary = run_housekeeping(MemoryStore())
    assert summary.acted == 0
    assert any(
        r.levelno == logging.WARNING and "line quota unavailable" in r.getMessage()
        for r in caplog.records
    )
