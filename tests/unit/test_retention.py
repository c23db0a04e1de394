"""Retention (issue 16): expired session text, inactive users, the periods told to users and
the disclosure command, over the fakes."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from devtools.linesim import LineSimulator
from shared.config import settings_from
from shared.errors import PreconditionFailed
from shared.ports import DESK, USERS
from shared.repositories.layout import Layout
from shared.repositories.user_records import activity_partition
from shared.texts.catalogue import load_catalogue
from shared.wiring import Desk, build_desk
from tests.kit.admin_api import api
from tests.kit.fakes import FakeClock, FakeMessenger, MemoryStore
from tests.unit.conftest import SECRET, consented, deliver, open_session

TEXTS = load_catalogue()


def stored(store: MemoryStore) -> str:
    return json.dumps([doc for doc, _ in store.docs.values()], ensure_ascii=False)


def the_session(desk: Desk) -> str:
    (session,) = api(desk).experts.queue("waiting", None, 50)["sessions"]
    return str(session["sessionId"])


def closed_consultation(
    desk: Desk, sim: LineSimulator, line: FakeMessenger, name: str, words: str
) -> tuple[str, str]:
    """A user's session with their text, an expert's answer and a hand-over note, closed."""
    user = open_session(desk, sim, line, name)
    deliver(desk, user.text_event(words))
    session_id = next(
        s["sessionId"]
        for s in api(desk).experts.queue("waiting", None, 50)["sessions"]
        if s["sessionId"] not in _done
    )
    api(desk).experts.claim(session_id, "田中")
    api(desk).experts.send(session_id, "田中", {"text": f"{name}への回答です"})
    api(desk).experts.transfer(session_id, "田中", "佐藤", f"{name}の引継ぎメモ")
    api(desk).experts.close(session_id, "佐藤", {"outcome": "助言"})
    _done.add(session_id)
    return user.user_id, session_id


_done: set[str] = set()


@pytest.fixture(autouse=True)
def _forget() -> None:
    _done.clear()


def purge(desk: Desk, retention: int = 365, inactive: int = 730, limit: int = 500) -> str:
    return desk.retention.purge_expired(retention, inactive, limit).line()


def test_text_of_sessions_closed_past_the_period_is_erased(
    desk: Desk, sim: LineSimulator, line: FakeMessenger, store: MemoryStore, clock: FakeClock
) -> None:
    _, old = closed_consultation(desk, sim, line, "alice", "昔の相談です")
    clock.advance(days=200)
    _, recent = closed_consultation(desk, sim, line, "bob", "最近の相談です")
    stats_before = [doc for doc, _ in store.docs.values() if doc["type"] == "stat"]
    clock.advance(days=166)  # alice's session closed 366 days ago, bob's 166

    line_ = purge(desk)

    # bob's session opened after the cutoff: the scan (by opening) stops before it.
    assert line_ == "purge_expired examined=1 erased=1 sessions=1 users=0 skipped=0"
    text = stored(store)
    for gone in ("昔の相談です", "aliceへの回答です", "aliceの引継ぎメモ"):
        assert gone not in text
    for kept in ("最近の相談です", "bobへの回答です", "bobの引継ぎメモ"):
        assert kept in text
    detail = api(desk).experts.detail(old, "監督者")
    assert all(m["text"] is None for m in detail["messages"])
    assert [doc for doc, _ in store.docs.values() if doc["type"] == "stat"] == stats_before
    assert api(desk).experts.detail(recent, "監督者")["messages"][0]["text"] == "最近の相談です"


def test_a_second_run_finds_nothing_more_and_an_overlap_changes_nothing(
    desk: Desk, sim: LineSimulator, line: FakeMessenger, store: MemoryStore, clock: FakeClock
) -> None:
    closed_consultation(desk, sim, line, "alice", "一度だけ消える相談")
    first, second = purge(desk, retention=0), purge(desk, retention=0)
    assert "sessions=1" in first
    assert second.startswith("purge_expired examined=0 erased=0")
    assert "一度だけ消える相談" not in stored(store)


def test_runs_are_bounded_and_resume_where_they_stopped(
    desk: Desk, sim: LineSimulator, line: FakeMessenger, store: MemoryStore, clock: FakeClock
) -> None:
    for n in range(5):
        closed_consultation(desk, sim, line, f"user{n}", f"相談その{n}")
        clock.advance(minutes=1)
    assert "sessions=2" in purge(desk, retention=0, limit=2)
    assert "sessions=2" in purge(desk, retention=0, limit=2)
    assert "sessions=1" in purge(desk, retention=0, limit=2)
    assert not any(f"相談その{n}" in stored(store) for n in range(5))


def test_a_session_in_its_follow_up_window_keeps_its_text_until_the_window_ends(
    desk: Desk, sim: LineSimulator, line: FakeMessenger, store: MemoryStore, clock: FakeClock
) -> None:
    user = open_session(desk, sim, line, "alice")
    deliver(desk, user.text_event("まだ答えを待っています"))
    deliver(desk, user.text_event("相談を終了"), user.postback_event("action=end&confirm=yes"))
    assert "followup=1" in purge(desk, retention=0)
    assert "まだ答えを待っています" in stored(store)
    clock.advance(hours=73)
    assert "sessions=1" in purge(desk, retention=0)
    assert "まだ答えを待っています" not in stored(store)


def test_a_note_written_after_the_erasure_is_not_kept(
    desk: Desk, sim: LineSimulator, line: FakeMessenger, store: MemoryStore, clock: FakeClock
) -> None:
    user = open_session(desk, sim, line, "alice")
    deliver(
        desk, user.text_event("相談を終了"), user.postback_event("action=end&confirm=yes")
    )  # ended by the user: staff may still hand over
    clock.advance(hours=73)
    purge(desk, retention=0)
    session_id = next(
        iter(
            store.docs[k][0]["id"] for k in store.docs if store.docs[k][0].get("type") == "session"
        )
    )
    api(desk).experts.transfer(session_id, "田中", "佐藤", "消えるべきメモ")
    assert "消えるべきメモ" not in stored(store)


def test_a_session_changed_during_the_run_is_skipped_as_busy(
    desk: Desk, sim: LineSimulator, line: FakeMessenger, clock: FakeClock
) -> None:
    _, session_id = closed_consultation(desk, sim, line, "alice", "競合する相談")
    stale = desk.retention._index.get(session_id)
    assert stale is not None
    desk.retention._index.save(replace(stale, outcome="other"))  # someone writes meanwhile
    with pytest.raises(PreconditionFailed):
        desk.retention.erase_session_text(stale)
    assert "sessions=1" in purge(desk, retention=0)  # the run reads afresh and finishes


def test_inactive_users_are_erased_entirely_and_active_ones_kept(
    desk: Desk, sim: LineSimulator, line: FakeMessenger, store: MemoryStore, clock: FakeClock
) -> None:
    gone, _ = closed_consultation(desk, sim, line, "alice", "二年前の相談")
    clock.advance(days=400)
    kept = consented(desk, sim, line, "bob").user_id
    clock.advance(days=331)  # alice: 731 days without activity; bob: 331

    summary = purge(desk)

    assert "users=1" in summary
    assert desk.retention._users.get(gone) is None
    assert gone not in stored(store)
    assert "二年前の相談" not in stored(store)
    assert desk.retention._users.get(kept) is not None
    audit = api(desk).auditor.page(None, 200)["records"]
    assert any(r["action"] == "user.expire" for r in audit)
    assert any(doc["type"] == "stat" and doc["kind"] == "erasure" for doc, _ in store.docs.values())


def test_activity_moves_a_user_in_the_directory(
    desk: Desk, sim: LineSimulator, line: FakeMessenger, store: MemoryStore, clock: FakeClock
) -> None:
    user = consented(desk, sim, line, "alice")
    clock.advance(days=3)
    deliver(desk, user.text_event("メニュー"))  # does not write the user record
    deliver(desk, user.postback_event("action=topic&topic=career"))  # writes it
    entries = [
        doc for (c, p, _), (doc, _) in store.docs.items() if c == DESK and p.startswith("activity:")
    ]
    assert [e["day"] for e in entries if e["userId"] == user.user_id] == ["2025-11-06"]


def test_a_user_with_an_open_session_is_not_erased_as_inactive(
    desk: Desk, sim: LineSimulator, line: FakeMessenger, store: MemoryStore, clock: FakeClock
) -> None:
    user = open_session(desk, sim, line, "alice")
    clock.advance(days=731)
    assert "open=1" in purge(desk)
    assert desk.retention._users.get(user.user_id) is not None
    assert "examined=0" in purge(desk)  # listed again under today


def test_a_stale_directory_entry_is_dropped(
    desk: Desk, sim: LineSimulator, line: FakeMessenger, store: MemoryStore, clock: FakeClock
) -> None:
    user = consented(desk, sim, line, "alice")
    Layout(store).note("202001")  # as the save that wrote it would have
    store.upsert(
        DESK,
        {"id": f"2020-01-01:{user.user_id}", "pk": activity_partition("202001"), "type": "activity",
         "userId": user.user_id, "day": "2020-01-01"},
    )  # fmt: skip
    assert "stale=1" in purge(desk)
    assert desk.retention._users.get(user.user_id) is not None
    assert store.read(DESK, activity_partition("202001"), f"2020-01-01:{user.user_id}") is None


def test_the_consent_summary_states_the_periods_from_the_settings(
    store: MemoryStore, clock: FakeClock
) -> None:
    line = FakeMessenger()
    env = {
        "DESK_ENVIRONMENT": "Development",
        "LINE_API_BASE_URL": "http://127.0.0.1:9",
        "LINE_CHANNEL_SECRET": SECRET,
        "DESK_RETENTION_DAYS": "180",
        "DESK_INACTIVE_USER_DAYS": "1000",
    }
    desk = build_desk(settings_from(env), store, line, clock, sleep=lambda _: None)
    sim = LineSimulator(SECRET, "token", event_clock=lambda: clock().timestamp())
    deliver(desk, sim.user("alice").follow_event())
    summary = next(t for t in line.texts() if "運用ポリシー" in t)
    assert TEXTS.text("retention_summary", retention_days="180", inactive_days="1,000") in summary
    assert "{" not in summary


def test_asking_for_ones_data_tells_how_and_sends_none_of_it(
    store: MemoryStore, clock: FakeClock
) -> None:
    line = FakeMessenger()
    env = {
        "DESK_ENVIRONMENT": "Development",
        "LINE_API_BASE_URL": "http://127.0.0.1:9",
        "LINE_CHANNEL_SECRET": SECRET,
        "DESK_CONTACT": "〒260-0000 千葉市中央区 運営事務局 043-000-0000",
    }
    desk = build_desk(settings_from(env), store, line, clock, sleep=lambda _: None)
    sim = LineSimulator(SECRET, "token", event_clock=lambda: clock().timestamp())
    user = open_session(desk, sim, line, "alice")
    deliver(desk, user.text_event("秘密の相談内容"))
    for typed in ("データの開示", "データ 開示"):
        line.sent.clear()
        deliver(desk, user.text_event(typed))
        (text,) = line.texts()
        assert text == TEXTS.text("disclosure", contact=env["DESK_CONTACT"])
        assert "秘密の相談内容" not in text
    messages = [d for d, _ in store.docs.values() if d["type"] == "message"]
    assert [m["text"] for m in messages] == ["秘密の相談内容"]  # the command is not filed
    assert store.read(USERS, user.user_id, "user") is not None


def test_a_session_opened_before_the_cutoff_but_closed_after_it_is_kept(
    desk: Desk, sim: LineSimulator, line: FakeMessenger, store: MemoryStore, clock: FakeClock
) -> None:
    user = open_session(desk, sim, line, "alice")
    deliver(desk, user.text_event("長く続いた相談"))
    clock.advance(days=10)
    session_id = the_session(desk)
    api(desk).experts.close(session_id, "田中", {"outcome": "助言"})
    assert purge(desk, retention=5).endswith("skipped=1 recent=1")
    assert "長く続いた相談" in stored(store)
