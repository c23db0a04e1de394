"""Answers that carry personal data are never kept by a cache nor sniffed (issue 22, item 6):
the admin API's JSON, the export and its printable text, errors too; console pages add HSTS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.host import dev_principal
from shared.config import settings_from
from shared.wiring import Desk, build_desk, install_desk, reset_desk
from tests.kit.admin_api import api
from tests.kit.app import desk_host
from tests.kit.fakes import FakeClock, FakeMessenger, MemoryStore
from tests.unit.conftest import SECRET, deliver, open_session

ENV = {
    "DESK_ENVIRONMENT": "Development",
    "LINE_API_BASE_URL": "http://127.0.0.1:9",
    "LINE_CHANNEL_SECRET": SECRET,
    "WEBSITE_AUTH_ENABLED": "true",
}
KEY = {"x-functions-key": "test-function-key", "Host": "desk.example"}
EXPERT = {
    "Host": "desk.example",
    "X-MS-CLIENT-PRINCIPAL": dev_principal("相談員A", ["Desk.Expert"]),
}


@pytest.fixture
def desk(
    store: MemoryStore, line: FakeMessenger, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Desk]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    built = build_desk(settings_from(ENV), store, line, clock, sleep=lambda _: None)
    install_desk(built)
    yield built
    reset_desk()


def test_every_admin_answer_is_private(desk, sim, line) -> None:
    user = open_session(desk, sim, line, "alice")
    deliver(desk, user.text_event("相談です"))
    (session,) = api(desk).experts.queue("waiting", None, 10)["sessions"]
    paths = [
        "/api/admin/sessions?status=waiting",
        f"/api/admin/sessions/{session['sessionId']}",
        f"/api/admin/users/{user.user_id}",
        f"/api/admin/users/{user.user_id}/export",
        f"/api/admin/users/{user.user_id}/export?format=text",
        "/api/admin/flags",
        "/api/admin/sessions?limit=0",  # a 400 names the field, privately too
        "/api/admin/sessions/20990101T000000-000000",  # 404
    ]
    for path in paths:
        status, headers, _ = desk_host().handle("GET", path, KEY, b"")
        assert status in (200, 400, 404), path
        assert headers["Cache-Control"] == "no-store", path
        assert headers["X-Content-Type-Options"] == "nosniff", path


def test_console_pages_ask_for_https_only(desk, sim, line) -> None:
    open_session(desk, sim, line, "alice")
    status, headers, _ = desk_host().handle("GET", "/console/", EXPERT, b"")
    assert status == 200
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers["Cache-Control"] == "no-store"
