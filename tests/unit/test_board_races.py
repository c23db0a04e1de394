"""Two instances, one staff document (issue 20, defect 6): a presence beat that read the
document before another instance's 受付停止 toggle must not write the old value back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.domain.hours import BusinessHours
from shared.repositories.desk_records import AuditLog
from shared.repositories.user_records import SessionIndex
from shared.services.audit import Auditor
from shared.services.consultations.board import STAFF_PARTITION, SupervisorBoard
from tests.kit.fakes import FakeClock, MemoryStore

HOURS = BusinessHours.parse("09:00-17:00", "mon,tue,wed,thu,fri", "", True)


class InterleavingStore(MemoryStore):
    """A MemoryStore that runs `between` once, right after the next read of a staff
    document: what another instance does while this one holds what it read."""

    between: Callable[[], None] | None = None

    def read(self, container: str, partition: str, doc_id: str) -> Any:
        found = super().read(container, partition, doc_id)
        if partition == STAFF_PARTITION and self.between is not None:
            hook, self.between = self.between, None
            hook()
        return found


def instance(store: MemoryStore, clock: FakeClock) -> SupervisorBoard:
    return SupervisorBoard(
        index=SessionIndex(store),
        store=store,
        auditor=Auditor(AuditLog(store), "k" * 32, clock),
        hours=HOURS,
        clock=clock,
        max_open=5,
        alert_minutes=15,
    )


def test_a_presence_beat_never_reverts_a_toggle_made_meanwhile_on_another_instance() -> None:
    clock = FakeClock()
    store = InterleavingStore(clock)
    a, b = instance(store, clock), instance(store, clock)
    a.set_accepting("相談員A", False, True)
    clock.advance(minutes=2)  # A's next beat is due
    store.between = lambda: b.set_accepting("相談員A", False, False)  # 受付停止 on B
    a.seen("相談員A", False)
    assert a.accepting("相談員A") is False
    assert b.accepting("相談員A") is False


def test_a_toggle_retries_over_a_beat_that_landed_in_between() -> None:
    clock = FakeClock()
    store = InterleavingStore(clock)
    a, b = instance(store, clock), instance(store, clock)
    a.seen("相談員A", False)
    clock.advance(minutes=2)
    store.between = lambda: b.seen("相談員A", False)  # B's beat between A's read and write
    a.set_accepting("相談員A", False, False)
    assert b.accepting("相談員A") is False
