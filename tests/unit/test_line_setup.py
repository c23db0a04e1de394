"""ops.line_setup against the LINE simulator, with the desk served by the local host's
function (through the simulator's https route, as LINE would call it)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import typing
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from devtools.host import ROOT
from devtools.linesim import LineSimulator, sign, user_id_for
from ops import line_setup

URL = "https://desk.example.net/api/line/webhook"


class _Webhook(BaseHTTPRequestHandler):
    """A stand-in for the desk's webhook: 200 for a correctly signed verify request, else 401."""

    secret = "secret"
    seen: typing.ClassVar[list[bytes]] = []

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append(body)
        ok = self.headers.get("x-line-signature") == sign(self.secret, body)
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def sim() -> Iterator[LineSimulator]:
    simulator = LineSimulator("secret", "token", push_quota=100)
    simulator.start()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    simulator.https_routes["desk.example.net"] = f"http://127.0.0.1:{server.server_address[1]}"
    yield simulator
    server.shutdown()
    server.server_close()
    simulator.stop()


TOKEN = "token"


def _env(sim: LineSimulator, token: str = TOKEN) -> dict[str, str]:
    return {"LINE_CHANNEL_ACCESS_TOKEN": token, "LINE_API_BASE_URL": sim.base_url}


def test_webhook_sets_the_endpoint_and_line_test_reaches_the_desk(sim, capsys) -> None:
    assert line_setup.main(["webhook", "--url", URL], _env(sim)) == 0
    assert sim.channel_webhook == URL
    result = json.loads(capsys.readouterr().out)
    assert result["success"] is True
    assert result["statusCode"] == 200
    assert json.loads(_Webhook.seen[-1]) == {"destination": "U" + "f" * 32, "events": []}


def test_a_desk_that_refuses_the_signature_fails_the_test(sim, capsys) -> None:
    sim.channel_secret = "another-secret"  # the desk holds a different secret than LINE
    assert line_setup.main(["webhook", "--url", URL], _env(sim)) == 1
    assert json.loads(capsys.readouterr().out)["statusCode"] == 401


@pytest.mark.parametrize(
    "url", ["http://desk.example.net/api/line/webhook", "not a url", "https://" + "a" * 500]
)
def test_line_refuses_a_webhook_url_that_is_not_https(sim, capsys, url: str) -> None:
    assert line_setup.main(["webhook", "--url", url], _env(sim)) == 1
    assert "HTTP 400" in capsys.readouterr().err
    assert sim.channel_webhook is None


def test_quota_prints_limit_consumption_and_percent(sim, capsys) -> None:
    sim.pushes_this_month = 81
    assert line_setup.main(["quota"], _env(sim)) == 0
    assert json.loads(capsys.readouterr().out) == {"limit": 100, "used": 81, "percent": 81.0}


def test_a_wrong_token_is_reported_without_echoing_it(sim, capsys) -> None:
    assert line_setup.main(["quota"], _env(sim, token="wrong-token-123")) == 1
    err = capsys.readouterr().err
    assert "HTTP 401" in err
    assert "wrong-token-123" not in err


def test_a_missing_token_is_a_usage_error(sim) -> None:
    assert line_setup.main(["quota"], {"LINE_API_BASE_URL": sim.base_url}) == 2


def test_the_module_runs_from_the_command_line(sim) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "ops.line_setup", "quota"],
        cwd=ROOT,
        env=_env(sim),
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["limit"] == 100
    assert user_id_for("alice") not in completed.stdout
