"""The desk's records on every store: users, consent log, policy versions, event receipts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest

from shared.domain.consent import ConsentMethod, ConsentRecord
from shared.domain.events import EventMeta, Source, SourceKind
from shared.domain.moderation import Flag, FlagAction, FlagStatus
from shared.domain.screening import Finding
from shared.domain.sessions import ClosedBy, HandoverAction, Message, Role, Session, SessionStatus
from shared.domain.users import UserRecord
from shared.entrypoints.views.admin import policy_command
from shared.errors import AlreadyExists, PreconditionFailed
from shared.ports import DESK
from shared.repositories.desk_records import AuditLog, AuditRecord, FlagLog, audit_partition
from shared.repositories.user_records import (
    Claim,
    ConsentLog,
    EventReceipts,
    MessageLog,
    SessionIndex,
    Users,
)
from shared.services.consent.policies import PolicyRegistry, load_shipped_policies
from tests.contract.conftest import Backend
from tests.kit.fakes import FakeClock

NOW = datetime(2025, 11, 3, 1, 0, tzinfo=UTC)
USER = "U" + "a" * 32
T = TypeVar("T")


def present(value: T | None) -> T:
    """A record the test stored: reading it back must find it."""
    assert value is not None
    return value


def record(method: ConsentMethod, event_id: str, minute: int) -> ConsentRecord:
    at = NOW.replace(minute=minute)
    return ConsentRecord(USER, "2025-10-24", "f" * 64, "2025-09-26", method, at, event_id)


def test_a_user_record_round_trips_with_its_consent_summary(backend: Backend) -> None:
    users = Users(backend.store)
    assert users.get(USER) is None
    saved = users.save(
        UserRecord.new(USER, NOW).follow(NOW).decided(record(ConsentMethod.EXPLICIT, "e1", 5))
    )
    loaded = users.get(USER)
    assert loaded == saved
    assert loaded.followed
    assert loaded.first_followed_at == NOW
    assert (loaded.consent_version, loaded.consent_method) == ("2025-10-24", ConsentMethod.EXPLICIT)


def test_concurrent_writers_of_a_user_record_cannot_both_win(backend: Backend) -> None:
    users = Users(backend.store)
    users.save(UserRecord.new(USER, NOW))
    first, second = present(users.get(USER)), present(users.get(USER))
    users.save(first.follow(NOW))
    with pytest.raises(PreconditionFailed):
        users.save(second.unfollow(NOW))
    assert present(users.get(USER)).followed
    with pytest.raises(PreconditionFailed):
        users.save(UserRecord.new(USER, NOW))  # a second "new" record


def test_the_consent_log_is_append_only_ordered_and_idempotent(backend: Backend) -> None:
    log = ConsentLog(backend.store)
    log.append(record(ConsentMethod.WITHDRAWN, "e3", 30))
    log.append(record(ConsentMethod.EXPLICIT, "e1", 10))
    log.append(record(ConsentMethod.EXPLICIT, "e1", 10))  # redelivered
    history = log.history(USER)
    assert [(r.method, r.event_id) for r in history] == [
        (ConsentMethod.EXPLICIT, "e1"),
        (ConsentMethod.WITHDRAWN, "e3"),
    ]
    assert history[0] == record(ConsentMethod.EXPLICIT, "e1", 10)
    assert log.history("U" + "b" * 32) == []


def test_registered_policy_versions_are_stored_and_read_back(backend: Backend) -> None:
    clock = backend.clock or FakeClock(NOW)
    shipped = load_shipped_policies("https://p/")
    PolicyRegistry(backend.store, shipped, clock).register(
        policy_command(
            {
                "versionId": "2026-04-01",
                "effectiveDate": "2026-04-01",
                "url": "https://p/2026",
                "text": "改定",
                "requiresExplicit": True,
            }
        )
    )
    fresh = PolicyRegistry(backend.store, shipped, clock)
    added = fresh.get("2026-04-01")
    assert added is not None
    assert added.requires_explicit
    assert not added.shipped
    assert [v.version_id for v in fresh.versions()] == ["2025-09-26", "2025-10-24", "2026-04-01"]


def receipts_for(backend: Backend) -> tuple[EventReceipts, FakeClock]:
    clock = backend.clock or FakeClock(NOW)
    return EventReceipts(backend.store, ttl_seconds=3600, clock=clock, lease_seconds=60), clock


META = EventMeta("01EVENT", "message", 0, Source(SourceKind.USER, USER))


def test_a_claimed_event_is_in_progress_until_completed_then_a_duplicate(backend) -> None:
    receipts, _ = receipts_for(backend)
    assert receipts.claim(META) is Claim.CLAIMED
    assert receipts.claim(META) is Claim.IN_PROGRESS
    receipts.complete(META)
    assert receipts.claim(META) is Claim.DUPLICATE


def test_a_released_claim_can_be_claimed_again(backend: Backend) -> None:
    receipts, _ = receipts_for(backend)
    receipts.claim(META)
    receipts.release(META)
    assert receipts.claim(META) is Claim.CLAIMED


def test_an_abandoned_claim_is_taken_over_once_its_lease_expires(backend: Backend) -> None:
    receipts, clock = receipts_for(backend)
    receipts.claim(META)  # the attempt that holds it dies without releasing
    clock.advance(seconds=59)
    assert receipts.claim(META) is Claim.IN_PROGRESS
    clock.advance(seconds=2)
    assert receipts.claim(META) is Claim.CLAIMED
    assert receipts.claim(META) is Claim.IN_PROGRESS  # the new lease holds
    receipts.complete(META)
    clock.advance(seconds=3600 - 62)
    assert receipts.claim(META) is Claim.DUPLICATE


def session(n: int, status: SessionStatus = SessionStatus.WAITING) -> Session:
    return Session(f"20251103T10{n:04d}-abcdef", USER, "career", status, NOW)


def test_sessions_are_stored_paged_by_status_and_guarded_by_etags(backend: Backend) -> None:
    index = SessionIndex(backend.store)
    for n in range(5):
        index.create(session(n, SessionStatus.CLOSED if n == 2 else SessionStatus.WAITING))
    with pytest.raises(AlreadyExists):
        index.create(session(0))
    first = index.page(SessionStatus.WAITING, None, 2)
    rest = index.page(SessionStatus.WAITING, first[-1].session_id, 10)
    assert [s.session_id[-11:-7] for s in first + rest] == ["0000", "0001", "0003", "0004"]
    loaded = present(index.get(session(1).session_id))
    claimed = index.save(loaded.claim("田中", NOW))
    assert present(index.get(claimed.session_id)).assigned_to == "田中"
    with pytest.raises(PreconditionFailed):
        index.save(loaded.claim("佐藤", NOW))
    assert index.get("missing") is None


def test_a_session_s_hand_overs_and_follow_up_round_trip(backend: Backend) -> None:
    index = SessionIndex(backend.store)
    index.create(session(7))
    later = NOW.replace(hour=2)
    held = index.save(present(index.get(session(7).session_id)).claim("田中", NOW))
    moved = index.save(held.transfer("田中", "佐藤", "続きをお願いします", NOW))
    ended = index.save(moved.close(ClosedBy.USER, None, NOW, follow_up_until=later))
    loaded = present(index.get(session(7).session_id))
    assert replace(loaded, etag=None) == replace(ended, etag=None)
    assert (loaded.closed_by, loaded.follow_up_until) == (ClosedBy.USER, later)
    assert [(h.action, h.from_, h.to, h.note) for h in loaded.handovers] == [
        (HandoverAction.TRANSFER, "田中", "佐藤", "続きをお願いします")
    ]
    by_expert = index.save(loaded.with_outcome("助言"))
    assert present(index.get(by_expert.session_id)).outcome == "助言"
    commented = index.save(by_expert.rated(NOW).with_survey_comment("助かりました"))
    reread = present(index.get(commented.session_id))
    assert (reread.survey_rated_at, reread.survey_comment) == (NOW, "助かりました")


def test_messages_are_filed_once_ordered_counted_and_found_by_line_id(backend: Backend) -> None:
    log = MessageLog(backend.store)
    sid = session(1).session_id

    def message(n: int, role: Role = Role.USER, minute: int = 0, position: int = 0) -> Message:
        return Message(
            f"msg:e{n}",
            sid,
            USER,
            role,
            "text",
            f"本文{n}",
            NOW.replace(minute=minute),
            line_message_id=f"L{n}",
            position=position,
        )

    assert log.add(message(3, minute=2))
    assert log.add(message(1, minute=1, position=1))
    assert log.add(message(2, minute=1, position=0))
    assert log.add(message(4, Role.EXPERT, minute=3))
    assert not log.add(message(1, minute=1, position=1))  # a redelivery
    assert [m.message_id for m in log.of_session(USER, sid)] == [
        "msg:e2",
        "msg:e1",
        "msg:e3",
        "msg:e4",
    ]
    assert log.count_from_user(USER, sid) == 3
    found = log.by_line_id(USER, "L3")
    assert found is not None
    assert found.text == "本文3"
    log.save(replace(found, text=None, unsent=True))
    assert present(log.by_line_id(USER, "L3")).unsent
    assert log.of_session(USER, "other-session") == []


def test_flags_list_every_reason_and_are_found_open_by_user(backend: Backend) -> None:
    flags = FlagLog(backend.store)
    reasons = (Finding("8(3)", "link"), Finding("8(6)", "listed wording (impersonation)"))
    flags.add(Flag("20251103T010000-aaaaaaaaaa", USER, reasons, NOW, "msg:e1", "s1"))
    flags.add(Flag("20251103T010001-bbbbbbbbbb", "U" + "b" * 32, reasons[:1], NOW))
    (mine,) = flags.open_of_user(USER)
    assert (mine.reasons, mine.clauses) == (reasons, ("8(3)", "8(6)"))
    flags.save(mine.actioned(FlagAction.SUSPEND, "運用者A", NOW))
    assert flags.open_of_user(USER) == []
    (actioned,) = flags.page(FlagStatus.ACTIONED, None, 10)
    assert (actioned.action, actioned.actioned_by, actioned.actioned_at) == (
        FlagAction.SUSPEND,
        "運用者A",
        NOW,
    )


def test_the_audit_of_one_user_is_scrubbed_to_action_time_and_actor(backend: Backend) -> None:
    log = AuditLog(backend.store)
    log.record(AuditRecord(NOW, "田中", "session.read", "k" * 64, {"session": "s1"}))
    log.record(AuditRecord(NOW, "運用者A", "user.suspend", "k" * 64, {"reason": "自由記述"}))
    log.record(AuditRecord(NOW, "田中", "session.read", "j" * 64, {"session": "s2"}))
    assert log.scrub("k" * 64, "erased-token") == 2
    assert log.scrub("k" * 64, "erased-other") == 0  # nothing left to find
    records = log.page(None, 10)
    scrubbed = sorted((r.who, r.action, r.details) for r in records if r.user_key == "erased-token")
    assert scrubbed == [("田中", "session.read", {}), ("運用者A", "user.suspend", {})]
    (other,) = [r for r in records if r.user_key == "j" * 64]
    assert other.details == {"session": "s2"}  # someone else's record is untouched


def test_audit_records_expire_after_the_retention_and_a_scrub_keeps_the_end(
    backend: Backend,
) -> None:
    """DESK_AUDIT_RETENTION_DAYS: the trail does not grow for ever (issue 21)."""
    now = [NOW]
    log = AuditLog(backend.store, timedelta(days=30), lambda: now[0])
    kept = log.record(AuditRecord(NOW, "田中", "session.read", "k" * 64, {"session": "s1"}))
    (doc,) = backend.store.query_partition(DESK, audit_partition(f"{NOW:%Y%m}"), doc_type="audit")
    assert doc["id"] == kept.record_id
    assert doc["ttl"] == 30 * 86_400
    now[0] = NOW + timedelta(days=10)
    log.scrub("k" * 64, "erased-token")
    (doc,) = backend.store.query_partition(DESK, audit_partition(f"{NOW:%Y%m}"), doc_type="audit")
    assert doc["ttl"] == 20 * 86_400  # the record still ends 30 days after it was made
