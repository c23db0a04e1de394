"""The open sessions' tally on every store (issue 21): what the consoles' polls read."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime

from shared.domain.sessions import ClosedBy, Session, SessionStatus
from shared.repositories.tally import SessionTally
from shared.repositories.user_records import SessionIndex
from tests.contract.conftest import Backend

AT = datetime(2025, 11, 4, 1, 0, tzinfo=UTC)


def test_touches_count_and_seen_marks_clear_the_unread(backend: Backend) -> None:
    tally = SessionTally(backend.store)
    assert tally.read().version == 0
    tally.touch("s1", user_messages=1)
    tally.touch("s1", user_messages=1)
    tally.touch()
    now = tally.read()
    assert (now.version, now.counted("s1"), now.unread("s1")) == (3, 2, True)
    tally.seen("s1", 2, now)
    after = tally.read()
    assert (after.version, after.unread("s1"), after.counted("s2")) == (4, False, None)
    tally.seen("s1", 2, after)  # nothing new: nothing written
    assert tally.read().version == 4


def test_a_count_short_of_the_transcript_is_made_up_when_it_is_read(backend: Backend) -> None:
    tally = SessionTally(backend.store)
    tally.touch("s1", user_messages=1)  # the transcript holds 3: two counts were lost
    tally.seen("s1", 3, tally.read())
    assert tally.read().counted("s1") == 3
    assert not tally.read().unread("s1")


def test_touches_from_many_threads_are_all_counted(backend: Backend) -> None:
    tally = SessionTally(backend.store)

    def write() -> None:
        for _ in range(10):
            tally.touch("s1", user_messages=1)

    threads = [threading.Thread(target=write) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (tally.read().version, tally.read().counted("s1")) == (30, 30)


def test_a_closed_session_leaves_the_tally_and_the_timer_prunes_what_is_left(
    backend: Backend,
) -> None:
    index = SessionIndex(backend.store)
    kept = index.create(
        Session("20251104T100000-000001", "U1", "career", SessionStatus.WAITING, AT)
    )
    gone = index.create(
        Session("20251104T100001-000002", "U2", "career", SessionStatus.WAITING, AT)
    )
    assert gone.session_id in index.tally().changes
    index.save(replace(gone, status=SessionStatus.CLOSED, closed_at=AT, closed_by=ClosedBy.USER))
    assert set(index.tally().changes) == {kept.session_id}
    SessionTally(backend.store).touch(gone.session_id)  # a change that came after the drop
    assert index.prune_tally() == 1
    assert set(index.tally().changes) == {kept.session_id}
    assert index.prune_tally() == 0
