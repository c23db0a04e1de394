"""Service status (§7), clock-driven: states, planned windows, one notice per user and window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.service_status import ServiceState, ServiceStatus, Window, effective
from shared.errors import ValidationError
from shared.ports import USERS
from shared.texts.catalogue import load_catalogue
from tests.kit.admin_api import api
from tests.unit.conftest import deliver, open_session

TEXTS = load_catalogue()
T0 = datetime(2025, 11, 4, 1, 0, tzinfo=UTC)


def test_a_planned_window_begins_and_ends_on_its_own() -> None:
    window = Window(T0 + timedelta(hours=1), T0 + timedelta(hours=3), "点検")
    status = ServiceStatus(windows=(window,))
    assert effective(status, T0).state is ServiceState.OPEN
    during = effective(status, T0 + timedelta(hours=1))
    assert (during.state, during.until, during.message) == (
        ServiceState.MAINTENANCE,
        window.end,
        "点検",
    )
    assert effective(status, T0 + timedelta(hours=3)).state is ServiceState.OPEN


def test_a_setting_with_an_end_time_lapses_by_itself() -> None:
    status = ServiceStatus(ServiceState.SUSPENDED, None, T0 + timedelta(hours=2), T0)
    assert effective(status, T0 + timedelta(hours=1)).state is ServiceState.SUSPENDED
    assert effective(status, T0 + timedelta(hours=2)).is_open


def test_while_closed_users_get_the_notice_once_then_short_reminders_and_nothing_is_stored(
    desk, sim, line, store, clock
) -> None:
    user = open_session(desk, sim, line)
    until = (clock() + timedelta(hours=2)).isoformat()
    api(desk).status.change(
        {"state": "maintenance", "until": until, "message": "夜間点検です。"}, "A"
    )
    deliver(
        desk, user.text_event("相談の続きです"), user.sticker_event(), user.text_event("まだですか")
    )
    reminder = TEXTS.text("status_reminder_until", until="11月3日（月） 12:00")
    assert line.texts() == [
        TEXTS.text("status_maintenance_until", until="11月3日（月） 12:00"),
        "夜間点検です。",
        reminder,  # the sticker: told again, shortly, never silence
        reminder,
    ]
    assert store.query_partition(USERS, user.user_id, doc_type="message") == []
    clock.advance(hours=2)  # the end time passes: open again, without anyone acting
    line.sent.clear()
    deliver(desk, user.text_event("再開しましたか"))
    (ack,) = line.texts()  # back to the session: filed, the first message acknowledged
    assert ack.startswith(TEXTS.text("ack_first"))
    assert len(store.query_partition(USERS, user.user_id, doc_type="message")) == 1


def test_a_new_window_means_a_new_notice(desk, sim, line, clock) -> None:
    user = open_session(desk, sim, line)
    api(desk).status.change({"state": "suspended"}, "A")
    deliver(desk, user.text_event("1"), user.text_event("2"))
    api(desk).status.change({"state": "open"}, "A")
    clock.advance(minutes=1)
    api(desk).status.change({"state": "suspended"}, "A")
    deliver(desk, user.text_event("3"))
    notice, reminder = TEXTS.text("status_suspended"), TEXTS.text("status_reminder")
    assert line.texts() == [notice, reminder, notice]  # a new window: the full notice again


def test_ended_points_users_elsewhere(desk, sim, line) -> None:
    user = open_session(desk, sim, line)
    api(desk).status.change({"state": "ended"}, "A")
    deliver(desk, user.text_event("こんにちは"))
    (notice,) = line.texts()
    assert notice.startswith("本相談窓口は受付を終了しました")
    assert "ハローワーク" in notice


def test_follows_and_consents_are_still_recorded(desk, sim, line, store) -> None:
    api(desk).status.change({"state": "maintenance"}, "A")
    user = sim.user("newcomer")
    deliver(
        desk,
        user.follow_event(),
        user.postback_event("action=consent&version=2025-10-24&answer=yes"),
    )
    record = store.read(USERS, user.user_id, "user")
    assert record["followed"] is True
    assert record["consentMethod"] == "explicit"
    assert line.texts() == [TEXTS.text("status_maintenance")]


def test_a_window_planned_ahead_starts_and_stops_without_anyone(desk, sim, line, clock) -> None:
    user = open_session(desk, sim, line)
    start, end = clock() + timedelta(hours=1), clock() + timedelta(hours=2)
    described = api(desk).status.change(
        {"state": "maintenance", "from": start.isoformat(), "until": end.isoformat()}, "A"
    )
    assert described["state"] == "open"
    assert len(described["windows"]) == 1
    clock.advance(hours=1)
    deliver(desk, user.text_event("点検中?"))
    assert len(line.sent) == 1
    clock.advance(hours=1)
    line.sent.clear()
    deliver(desk, user.text_event("終わった?"))
    (ack,) = line.texts()  # filed: no notice, only the first message's acknowledgement
    assert ack.startswith(TEXTS.text("ack_first"))


@pytest.mark.parametrize(
    "payload",
    [
        {"state": "closed"},
        {"state": "maintenance", "until": "tomorrow"},
        {"state": "maintenance", "until": "2025-11-03T12:00:00"},
        {"state": "maintenance", "until": "2020-01-01T00:00:00+09:00"},
        {"state": "suspended", "from": "2030-01-01T00:00:00+09:00"},
        {"state": "open", "message": 5},
    ],
)
def test_bad_changes_are_refused(desk, payload) -> None:
    with pytest.raises(ValidationError):
        api(desk).status.change(payload, "A")


def test_the_status_costs_one_read_per_worker_per_interval(desk, sim, line, store) -> None:
    user = open_session(desk, sim, line)
    deliver(desk, user.text_event("はじめまして"))  # acknowledged: it reads its place too
    desk.status.current()
    reads_before = store.operations.count("read")
    for n in range(5):
        deliver(desk, user.text_event(f"{n}"))
    per_event = (store.operations.count("read") - reads_before) / 5
    assert per_event == 1  # the user record only: the status came from the worker's cache
