"""The short 受付番号 on every store: each JST day counts from 1, two counters racing on one
store never hand out the same number, and a session is found by its number."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest

from shared.domain.sessions import Session, SessionStatus, parse_reference, short_reference
from shared.repositories.references import ReferenceCounter
from shared.repositories.user_records import SessionIndex
from tests.contract.conftest import Backend

DAY = date(2025, 11, 4)


def test_each_day_counts_from_one(backend: Backend) -> None:
    counter = ReferenceCounter(backend.store)
    assert [counter.next(DAY) for _ in range(3)] == [1, 2, 3]
    assert counter.next(date(2025, 11, 5)) == 1
    assert short_reference(DAY, 12) == "251104-012"
    assert short_reference(DAY, 1234) == "251104-1234"


def test_counters_racing_never_share_a_number(backend: Backend) -> None:
    taken: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        counter = ReferenceCounter(backend.store)  # one per "instance", one store
        for _ in range(5):
            number = counter.next(DAY)
            with lock:
                taken.append(number)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == list(range(1, 21))


def test_a_session_is_found_by_its_short_number(backend: Backend) -> None:
    index = SessionIndex(backend.store)
    opened = datetime(2025, 11, 4, 1, 0, tzinfo=UTC)
    for n, ref in enumerate(("251104-001", "251104-002"), start=1):
        index.create(
            Session(
                f"20251104T10000{n}-00000{n}",
                "U" + "a" * 32,
                "career",
                SessionStatus.WAITING,
                opened,
                reference=ref,
            )
        )
    found = index.by_reference("251104-002")
    assert found is not None
    assert found.session_id == "20251104T100002-000002"
    assert index.by_reference("251104-003") is None


def test_a_number_is_read_as_a_person_gives_it() -> None:
    assert parse_reference(" ２５１１０４－０１２ ") == (True, "251104-012")
    assert parse_reference("251104012") == (True, "251104-012")
    assert parse_reference("251104ー012") == (True, "251104-012")
    assert parse_reference("20251104t100000-ABCDEF") == (False, "20251104T100000-abcdef")
    for bad in ("hello", "2511-04", "251104-12", "1" * 101, ""):
        with pytest.raises(ValueError, match="reference"):
            parse_reference(bad)
