"""Two people of one name are two people in the console too (issue 22, item 1): each one's
first sight of a message is audited, each one's presence is their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.host import dev_principal
from shared.wiring import Desk, install_desk, reset_desk
from tests.kit.admin_api import api
from tests.kit.fakes import FakeClock, FakeMessenger, MemoryStore
from tests.unit.test_console import a_session, console_desk, get

FIRST = dev_principal("田中", ["Desk.Expert"], "11111111-1111-4111-8111-111111111111")
SECOND = dev_principal("田中", ["Desk.Expert"], "22222222-2222-4222-8222-222222222222")


@pytest.fixture
def desk(store: MemoryStore, line: FakeMessenger, clock: FakeClock) -> Iterator[Desk]:
    built = console_desk(store, line, clock, "true")
    install_desk(built)
    yield built
    reset_desk()


def test_each_namesakes_first_sight_of_a_message_is_audited(desk, sim, line) -> None:
    a_session(desk, sim, line, "alice", "相談です")
    get("/console/", principal=FIRST)
    get("/console/", principal=SECOND)
    get("/console/", principal=SECOND)  # seen already: not again
    previews = [
        r for r in api(desk).auditor.page(None, 200)["records"] if r["action"] == "session.preview"
    ]
    assert len(previews) == 2


def test_a_namesake_sees_the_other_viewing(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    get(f"/console/sessions/{session_id}", principal=FIRST)
    _, _, page = get(f"/console/sessions/{session_id}", principal=SECOND)
    assert "田中さんが閲覧中" in page
