"""The partition layout on every store (issue 21): open sessions apart, the rest by month, and
a closing that moves its session in steps that may be cut short anywhere."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.sessions import ClosedBy, Session, SessionStatus
from shared.errors import ConfigurationError
from shared.ports import DESK
from shared.repositories.desk_records import AuditLog, AuditRecord
from shared.repositories.layout import LAYOUT_PARTITION, Layout, months_from
from shared.repositories.user_records import (
    OPEN_SESSIONS,
    SessionIndex,
    closed_sessions,
)
from tests.contract.conftest import Backend

USER = "U" + "b" * 32
OCT, NOV = datetime(2025, 10, 31, 23, 0, tzinfo=UTC), datetime(2025, 11, 4, 1, 0, tzinfo=UTC)


def opened(index: SessionIndex, at: datetime, n: int, reference: str | None = None) -> Session:
    session_id = f"{at:%Y%m%dT%H%M}{n:02d}-{n:06d}"
    return index.create(
        Session(session_id, USER, "career", SessionStatus.WAITING, at, reference=reference)
    )


def closing(session: Session) -> Session:
    return replace(
        session, status=SessionStatus.CLOSED, closed_at=session.opened_at, closed_by=ClosedBy.USER
    )


def where(backend: Backend, session_id: str) -> list[str]:
    """The partitions that hold a session right now."""
    month = closed_sessions(session_id[:6])
    return [p for p in (OPEN_SESSIONS, month) if backend.store.read(DESK, p, session_id)]


def test_an_open_session_lives_apart_and_moves_to_its_month_when_it_closes(
    backend: Backend,
) -> None:
    index = SessionIndex(backend.store)
    session = opened(index, NOV, 1)
    assert where(backend, session.session_id) == [OPEN_SESSIONS]
    closed = index.save(closing(session))
    assert where(backend, session.session_id) == ["sessions:202511"]
    assert closed.stored_in == "sessions:202511"
    assert index.get(session.session_id) == closed
    rated = index.save(replace(closed, survey_rated_at=NOV))  # a closed session still changes
    assert present(index.get(session.session_id)).survey_rated_at == NOV
    assert rated.stored_in == "sessions:202511"
    assert index.count(SessionStatus.WAITING) == 0


def present(session: Session | None) -> Session:
    assert session is not None
    return session


@pytest.mark.parametrize("cut", ["after the commit", "after the copy"])
def test_a_closing_cut_short_leaves_the_session_in_one_place_and_is_finished_later(
    backend: Backend, cut: str
) -> None:
    index = SessionIndex(backend.store)
    session = opened(index, NOV, 2, reference="251104-002")
    doc = backend.store.read(DESK, OPEN_SESSIONS, session.session_id)
    assert doc is not None
    closed_doc = {**doc, "status": "closed"}
    backend.store.replace(DESK, closed_doc, etag=doc["_etag"])  # step 1, then the crash
    if cut == "after the copy":
        Layout(backend.store).note("202511")
        copy = {k: v for k, v in closed_doc.items() if not k.startswith("_")}
        backend.store.create(DESK, {**copy, "pk": closed_sessions("202511")})  # step 2 too
    # Every reader sees the session once, closed, wherever it is at this moment.
    assert [s.session_id for s in index.of_user(USER)] == [session.session_id]
    assert index.count(SessionStatus.WAITING) == 0
    assert [s.session_id for s in index.page(SessionStatus.CLOSED, None, 10)] == [
        session.session_id
    ]
    assert where(backend, session.session_id) == ["sessions:202511"]  # the listing finished it
    assert index.finish_moves() == 0
    found = index.by_reference("251104-002")
    assert found is not None
    assert found.status is SessionStatus.CLOSED


def test_the_sweep_finishes_a_move_nobody_read(backend: Backend) -> None:
    index = SessionIndex(backend.store)
    session = opened(index, NOV, 3)
    doc = backend.store.read(DESK, OPEN_SESSIONS, session.session_id)
    assert doc is not None
    backend.store.replace(DESK, {**doc, "status": "closed"}, etag=doc["_etag"])
    assert index.finish_moves() == 1
    assert where(backend, session.session_id) == ["sessions:202511"]
    assert index.finish_moves() == 0  # repeatable


def test_the_closed_tab_pages_across_months_in_order(backend: Backend) -> None:
    index = SessionIndex(backend.store)
    ids = []
    for n, at in enumerate((OCT, OCT + timedelta(minutes=1), NOV, NOV + timedelta(days=40))):
        ids.append(index.save(closing(opened(index, at, n))).session_id)
    assert {closed_sessions(i[:6]) for i in ids} == {
        "sessions:202510",
        "sessions:202511",
        "sessions:202512",
    }
    first = index.page(SessionStatus.CLOSED, None, 3)
    rest = index.page(SessionStatus.CLOSED, first[-1].session_id, 3)
    assert [s.session_id for s in (*first, *rest)] == ids
    between = index.opened_between(NOV - timedelta(days=1), NOV + timedelta(days=1))
    assert [s.session_id for s in between] == [ids[2]]
    assert Layout(backend.store).months() == ["202510", "202511", "202512"]


def test_a_reference_is_found_in_the_months_of_its_day(backend: Backend) -> None:
    """251101 in Japan began on 31 October in UTC: both months are read."""
    index = SessionIndex(backend.store)
    index.save(closing(opened(index, OCT, 4, reference="251101-001")))
    found = index.by_reference("251101-001")
    assert found is not None
    assert found.session_id.startswith("20251031")
    assert index.by_reference("251101-009") is None
    assert index.by_reference("not-a-number") is None


def test_audit_records_roll_over_by_month_and_page_as_one_trail(backend: Backend) -> None:
    log = AuditLog(backend.store, timedelta(days=1825), lambda: NOV + timedelta(days=60))
    made = [
        log.record(AuditRecord(at, "田中", "session.read", "k" * 64, {"n": n}))
        for n, at in enumerate((OCT, NOV, NOV + timedelta(days=40)))
    ]
    assert [r.record_id for r in log.page(None, 10)] == [r.record_id for r in made]
    assert [r.record_id for r in log.page(made[0].record_id, 10)] == [r.record_id for r in made[1:]]
    for record_made, part in zip(
        made, ("audit:202510", "audit:202511", "audit:202512"), strict=True
    ):
        assert backend.store.read(DESK, part, str(record_made.record_id)) is not None
    assert log.scrub("k" * 64, None) == 3


def test_a_layout_of_another_version_refuses_to_serve(backend: Backend) -> None:
    Layout(backend.store).note("202511")
    doc = backend.store.read(DESK, LAYOUT_PARTITION, "layout")
    assert doc is not None
    backend.store.replace(DESK, {**doc, "version": 1}, etag=doc["_etag"])
    with pytest.raises(ConfigurationError, match="layout version 1"):
        SessionIndex(backend.store).page(SessionStatus.CLOSED, None, 10)


def test_the_span_of_months_only_widens() -> None:
    assert months_from("202511", "202602") == ["202511", "202512", "202601", "202602"]
    assert months_from("202511", "202511") == ["202511"]
