"""The azd hooks' testable parts: Key Vault secrets created only when missing, the webhook URL,
and the smoke test against the local host (which refuses what Azure must refuse)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from infra.hooks import postdeploy, postprovision
from tests.infra.bicep import ROOT, resource


class _Vault(BaseHTTPRequestHandler):
    stored: ClassVar[dict[str, str]] = {}

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def _answer(self, status: int, body: dict[str, str]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        name = self.path.split("/")[2].split("?")[0]
        if name in self.stored:
            self._answer(200, {"value": self.stored[name]})
        else:
            self._answer(404, {})

    def do_PUT(self) -> None:
        assert self.headers["Authorization"] == "Bearer vault-token"
        name = self.path.split("/")[2].split("?")[0]
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.stored[name] = body["value"]
        self._answer(200, {})


@pytest.fixture
def vault() -> Iterator[str]:
    _Vault.stored.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Vault)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_missing_secrets_are_created_and_existing_ones_kept(vault: str) -> None:
    _Vault.stored["LINE-CHANNEL-SECRET"] = "already-there"
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return ""

    outcome = postprovision.ensure_secrets(
        vault, "vault-token", {"LINE_CHANNEL_ACCESS_TOKEN": "from-env"}, ask
    )
    assert outcome == {
        "LINE-CHANNEL-SECRET": "kept",
        "LINE-CHANNEL-ACCESS-TOKEN": "created",
        "DESK-HASH-KEY": "created",
    }
    assert _Vault.stored["LINE-CHANNEL-SECRET"] == "already-there"
    assert _Vault.stored["LINE-CHANNEL-ACCESS-TOKEN"] == "from-env"
    assert len(_Vault.stored["DESK-HASH-KEY"]) >= 48
    assert asked == []


def test_hook_secret_names_are_the_ones_the_bicep_references() -> None:
    settings = resource("app/function.bicep", "appSettings")["properties"]
    for setting, name in postprovision.SECRETS.items():
        assert re.search(rf"secrets/{name}/\)$", settings[setting])


def test_the_webhook_url_is_the_app_route() -> None:
    source = (ROOT / "shared/entrypoints/webhook.py").read_text("utf-8")
    assert 'route="api/line/webhook"' in source
    assert postdeploy.webhook_url("func-desk-x") == (
        "https://func-desk-x.azurewebsites.net/api/line/webhook"
    )


def test_smoke_test_passes_against_a_desk_that_refuses_and_fails_against_one_that_does_not(
    desk_like: str,
) -> None:
    assert postdeploy.smoke_test(desk_like + "/refusing") == []
    problems = postdeploy.smoke_test(desk_like + "/open")
    assert len(problems) == 3
    assert "forged principal" in problems[2]


class _Desk(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        refusing = self.path.startswith("/refusing")
        if self.path.endswith("/console/"):  # the platform strips the principal: sign in
            self.send_response(302 if refusing else 200)
            self.send_header("Location", "/.auth/login/aad?post_login_redirect_uri=%2Fconsole%2F")
        else:
            self.send_response(401 if refusing else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()


@pytest.fixture
def desk_like() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Desk)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
