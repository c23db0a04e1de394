"""The session rules the admin API and the console share: the holder rule, follow-ups."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.domain.sessions import (
    ClosedBy,
    HandoverAction,
    Message,
    Role,
    Session,
    SessionStatus,
    awaits_answer,
    holder_rule,
)

NOW = datetime(2025, 11, 3, 1, 0, tzinfo=UTC)


def session(**fields: Any) -> Session:
    base = Session("20251103T010000-abcdef", "U1", "career", SessionStatus.WAITING, NOW)
    return replace(base, **fields)


def message(role: Role, minutes: int, **fields: Any) -> Message:
    return Message(
        f"m{minutes}", "s", "U1", role, "text", "…", NOW + timedelta(minutes=minutes), **fields
    )


@pytest.mark.parametrize(
    ("holder", "operator", "admin", "allowed", "takeover"),
    [
        (None, "佐藤", False, True, False),  # unclaimed: anyone
        ("田中", "田中", False, True, False),  # the holder
        ("田中", "田中", True, True, False),  # the holder who is an admin takes nothing over
        ("田中", "佐藤", False, False, False),  # someone else
        ("田中", "管理者", True, True, True),  # a Desk.Admin takes it over
    ],
)
def test_the_holder_rule(holder, operator, admin, allowed, takeover) -> None:
    decision = holder_rule(holder, operator, admin=admin)
    assert (decision.allowed, decision.takeover, decision.holder) == (allowed, takeover, holder)


def test_release_and_transfer_record_who_and_the_note() -> None:
    held = session(status=SessionStatus.ACTIVE, assigned_to="田中", claimed_at=NOW)
    released = held.release("田中", "履歴書の件は次回", NOW)
    assert (released.status, released.assigned_to, released.claimed_at) == (
        SessionStatus.WAITING,
        None,
        None,
    )
    moved = held.transfer("田中", "佐藤", None, NOW)
    assert (moved.status, moved.assigned_to) == (SessionStatus.ACTIVE, "佐藤")
    taken = held.take_over("管理者", NOW)
    assert [(h.action, h.by, h.from_, h.to, h.note) for h in (*released.handovers,)] == [
        (HandoverAction.RELEASE, "田中", "田中", None, "履歴書の件は次回")
    ]
    assert [(h.action, h.from_, h.to) for h in taken.handovers] == [
        (HandoverAction.TAKEOVER, "田中", "管理者")
    ]


def test_a_session_the_user_ended_stays_closed_when_claimed_or_handed_over() -> None:
    ended = session().close(ClosedBy.USER, None, NOW, follow_up_until=NOW + timedelta(hours=72))
    assert ended.claim("佐藤", NOW).status is SessionStatus.CLOSED
    assert ended.transfer("佐藤", "田中", None, NOW).status is SessionStatus.CLOSED
    assert ended.workable
    assert ended.awaits_outcome


def test_the_follow_up_window() -> None:
    until = NOW + timedelta(hours=72)
    ended = session().close(ClosedBy.USER, None, NOW, follow_up_until=until)
    assert ended.answerable(until)
    assert not ended.answerable(until + timedelta(seconds=1))
    assert not session().close(ClosedBy.USER, None, NOW).answerable(NOW)  # nothing unanswered
    by_expert = session().close(ClosedBy.EXPERT, "助言", NOW, name="田中", follow_up_until=until)
    assert not by_expert.answerable(NOW)
    assert not by_expert.workable
    assert not ended.with_outcome("助言").workable


def test_a_question_is_unanswered_until_line_accepts_an_answer() -> None:
    assert not awaits_answer([])
    asked = [message(Role.USER, 0)]
    assert awaits_answer(asked)
    answered = [*asked, message(Role.EXPERT, 1, delivery="accepted")]
    assert not awaits_answer(answered)
    assert awaits_answer([*asked, message(Role.EXPERT, 1, delivery="failed")])
    assert awaits_answer([*answered, message(Role.USER, 2)])
    assert not awaits_answer([*answered, message(Role.USER, 2, unsent=True)])


@pytest.mark.parametrize(
    ("raw", "read"),
    [
        (None, (None, None)),
        ("user", (ClosedBy.USER, None)),
        ("idle", (ClosedBy.IDLE, None)),
        ("expert", (ClosedBy.EXPERT, None)),
        ("田中", (ClosedBy.EXPERT, "田中")),  # stored before closedBy had a kind
    ],
)
def test_stored_closed_by_values_are_read(raw, read) -> None:
    assert ClosedBy.stored(raw) == read
