"""Staff notes on every store: a session's private notes, the user's carried-over note (with
optimistic concurrency), retention's erasure of a note's text, and erasure with the user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.sessions import Message, Role
from shared.errors import ConflictError
from shared.ports import USERS
from shared.repositories.notes import NoteLog, SessionNote, UserNote, new_note_id
from shared.repositories.user_records import MessageLog
from tests.contract.conftest import Backend

NOW = datetime(2025, 11, 3, 1, 0, tzinfo=UTC)
USER = "U" + "b" * 32
OTHER = "U" + "c" * 32


def note(session: str, minute: int, text: str, user: str = USER) -> SessionNote:
    at = NOW + timedelta(minutes=minute)
    return SessionNote(new_note_id(at), session, user, "相談員A", text, at)


def test_session_notes_read_back_per_session_and_per_user_in_order(backend: Backend) -> None:
    notes = NoteLog(backend.store)
    notes.add(note("s2", 5, "二つ目の相談のメモ"))
    notes.add(note("s1", 2, "あとのメモ"))
    notes.add(note("s1", 1, "さきのメモ"))
    notes.add(note("s1", 3, "他人のメモ", user=OTHER))

    assert [n.text for n in notes.of_session(USER, "s1")] == ["さきのメモ", "あとのメモ"]
    assert [n.text for n in notes.of_user(USER)] == [
        "さきのメモ",
        "あとのメモ",
        "二つ目の相談のメモ",
    ]
    (first, *_) = notes.of_session(USER, "s1")
    assert (first.author, first.at, first.session_id) == (
        "相談員A",
        NOW + timedelta(minutes=1),
        "s1",
    )
    assert notes.of_session(USER, "none") == []


def test_erasing_a_sessions_note_text_keeps_the_note_and_touches_no_other(
    backend: Backend,
) -> None:
    notes = NoteLog(backend.store)
    notes.add(note("s1", 1, "消えるメモ"))
    notes.add(note("s2", 2, "残るメモ"))
    assert notes.erase_text(USER, "s1") == 1
    assert notes.erase_text(USER, "s1") == 0  # idempotent
    assert [n.text for n in notes.of_session(USER, "s1")] == [None]
    assert [n.text for n in notes.of_session(USER, "s2")] == ["残るメモ"]


def test_the_user_note_cannot_be_overwritten_by_a_stale_writer(backend: Backend) -> None:
    notes = NoteLog(backend.store)
    assert notes.user_note(USER) is None
    first = notes.save_user_note(UserNote(USER, "最初", "相談員A", NOW), expected=None)
    assert first.etag
    with pytest.raises(ConflictError):  # someone else created it meanwhile
        notes.save_user_note(UserNote(USER, "競合", "相談員B", NOW), expected=None)
    second = notes.save_user_note(
        UserNote(USER, "更新", "相談員B", NOW + timedelta(minutes=1)), expected=first.etag
    )
    with pytest.raises(ConflictError):  # written against the first version
        notes.save_user_note(UserNote(USER, "古い", "相談員A", NOW), expected=first.etag)
    stored = notes.user_note(USER)
    assert stored is not None
    assert (stored.text, stored.updated_by, stored.etag) == ("更新", "相談員B", second.etag)
    assert stored.updated_at == NOW + timedelta(minutes=1)


def test_notes_live_in_the_users_partition_and_go_with_it(backend: Backend) -> None:
    notes = NoteLog(backend.store)
    notes.add(note("s1", 1, "メモ"))
    notes.save_user_note(UserNote(USER, "利用者メモ", "相談員A", NOW), expected=None)
    notes.add(note("s9", 1, "他人のメモ", user=OTHER))
    types = sorted(d["type"] for d in backend.store.query_partition(USERS, USER))
    assert types == ["note", "usernote"]

    backend.store.delete_partition(USERS, USER)
    assert notes.of_user(USER) == []
    assert notes.user_note(USER) is None
    assert [n.text for n in notes.of_user(OTHER)] == ["他人のメモ"]


def test_who_answered_each_session_is_read_from_the_experts_messages(backend: Backend) -> None:
    log = MessageLog(backend.store)

    def message(mid: str, session: str, role: Role, author: str | None, minute: int) -> None:
        at = NOW + timedelta(minutes=minute)
        log.add(Message(mid, session, USER, role, "text", "本文", at, author=author))

    message("m1", "s1", Role.USER, None, 1)
    message("m2", "s1", Role.EXPERT, "相談員A", 2)
    message("m3", "s1", Role.EXPERT, "相談員B", 3)
    message("m4", "s1", Role.EXPERT, "相談員A", 4)
    message("m5", "s2", Role.EXPERT, "相談員C", 5)
    assert log.answer_authors(USER) == {"s1": ["相談員A", "相談員B"], "s2": ["相談員C"]}
    assert log.answer_authors(OTHER) == {}
