"""The supervisors' alert webhook (DESK_ALERT_WEBHOOK_URL): what it posts, how it fails, which
URLs the settings accept."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from shared.adapters.alert_webhook import WebhookAlerts
from shared.config import settings_from
from shared.errors import AlertUnavailable, ConfigurationError


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, bytes]]] = []
    answer: ClassVar[int] = 200

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.append((self.headers.get("Content-Type", ""), body))
        self.send_response(self.answer)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.received.clear()
    _Receiver.answer = 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_an_alert_posts_the_reference_reason_and_japanese_text(receiver: str) -> None:
    WebhookAlerts(receiver).send("20251104T100000-3fa2c1", "crisis", "危機を示す言葉があります。")
    ((content_type, body),) = _Receiver.received
    assert content_type.startswith("application/json")
    assert json.loads(body) == {
        "text": "危機を示す言葉があります。",
        "reference": "20251104T100000-3fa2c1",
        "reason": "crisis",
        "source": "desk",
    }


def test_a_refused_alert_raises_without_the_url(receiver: str) -> None:
    _Receiver.answer = 500
    with pytest.raises(AlertUnavailable) as raised:
        WebhookAlerts(receiver).send("ref", "crisis", "text")
    assert "500" in str(raised.value)
    assert receiver not in str(raised.value)


def test_an_unreachable_webhook_raises_alert_unavailable() -> None:
    with pytest.raises(AlertUnavailable, match="unreachable"):
        WebhookAlerts("http://127.0.0.1:9/hook", timeout_seconds=0.5).send("r", "crisis", "t")


BASE = {
    "LINE_CHANNEL_SECRET": "a-real-looking-secret-value",
    "LINE_CHANNEL_ACCESS_TOKEN": "a-real-looking-token-value",
    "DESK_HASH_KEY": "Dok1BrFsHKEQOJ-DvuXLtkSbGdx0GkFGejeyp63R_IE",
    "DESK_CONTACT": "テスト運営事務局（電話 043-000-0000）",
}


@pytest.mark.parametrize(
    "url", ["http://hooks.example/x", "ftp://hooks.example/x", "http://127.0.0.1:8/x"]
)
def test_production_refuses_an_alert_url_that_is_not_https(url: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        settings_from({**BASE, "DESK_ALERT_WEBHOOK_URL": url})
    assert "DESK_ALERT_WEBHOOK_URL" in raised.value.settings
    assert url not in str(raised.value)


def test_an_https_alert_url_is_accepted_and_loopback_http_only_in_development() -> None:
    hook = "https://prefchiba.webhook.office.com/webhookb2/abc"
    assert settings_from({**BASE, "DESK_ALERT_WEBHOOK_URL": hook}).alert_webhook_url == hook
    local = settings_from(
        {
            "DESK_ENVIRONMENT": "Development",
            "LINE_API_BASE_URL": "http://127.0.0.1:9",
            "DESK_ALERT_WEBHOOK_URL": "http://127.0.0.1:8/x",
        }
    )
    assert local.alert_webhook_url == "http://127.0.0.1:8/x"
