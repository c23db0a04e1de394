"""Telemetry sends nothing personal. A fake Application Insights ingestion endpoint records
everything the exporter sends while the desk handles a LINE conversation and an admin call
in a separate process; the test scans it for the values it planted."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from devtools.host import ROOT
from shared.adapters.telemetry import scrub

USER_ID = "U" + "5eca7e" * 5 + "ab"
TEXT = "PLANTEDTEXT-相談内容-7f3a"
SECRET = "planted-channel-secret-91"
TOKEN = "planted-access-token-82"
HASH_KEY = "planted-hash-key-73"
FUNCTION_KEY = "planted-function-key-64"
HOST_KEY = "planted-host-key-55"  # a key the host holds, in no setting (issue 22, item 8)
EMAIL = "planted.person@example.jp"
PHONE = "090-7654-3210"
SESSION_ID = "20251104T100000-abcdef"
REFERENCE = "251104-012"

_SCENARIO = """
import json, logging, sys, uuid
logging.basicConfig(level=logging.INFO)
from devtools.linesim import LineSimulator, sign
import os
sim = LineSimulator(os.environ["LINE_CHANNEL_SECRET"], os.environ["LINE_CHANNEL_ACCESS_TOKEN"])
os.environ["LINE_API_BASE_URL"] = sim.start()
import azure.functions as func
import function_app
from shared.adapters import telemetry
from shared.entrypoints.webhook import line_webhook
from shared.entrypoints.admin import admin_get_user, admin_health

class Context:
    def __init__(self, name):
        self.function_name = name
        self.invocation_id = str(uuid.uuid4())

def invoke(fn, name, req):
    ctx = Context(name)
    telemetry.RequestSpans.pre_invocation_app_level(None, ctx, {"req": req})
    resp = fn(req)
    telemetry.RequestSpans.post_invocation_app_level(None, ctx, {"req": req}, resp)
    return resp.status_code

user = sim.user(sys.argv[1])
tokens = []
for event in (
    user.follow_event(),
    user.postback_event("action=consent&version=2025-10-24&answer=yes"),
    user.text_event(sys.argv[2]),
):
    tokens.append(event.get("replyToken", ""))
    body = json.dumps({"destination": sim.bot_user_id, "events": [event]}).encode()
    req = func.HttpRequest(
        "POST", "https://desk.example/api/line/webhook", body=body,
        headers={"content-type": "application/json",
                 "x-line-signature": sign(sim.channel_secret, body)},
    )
    print("webhook", invoke(line_webhook, "line_webhook", req))
key = os.environ["DESK_FUNCTION_KEY"]
req = func.HttpRequest(
    "GET", f"https://desk.example/api/admin/users/{user.user_id}?code={key}", body=b"",
    route_params={"userId": user.user_id},
)
print("admin", invoke(admin_get_user, "admin_get_user", req))
host_key, email, phone, session, reference = sys.argv[3:8]
req = func.HttpRequest(
    "GET", f"https://desk.example/api/admin/health?code={host_key}", body=b"",
    headers={"x-functions-key": host_key},
)
print("health", invoke(admin_health, "admin_health", req))
# What instrumentations and exceptions put on spans: a key in a span name's query string,
# personal data in an attribute, a console URL with a session id, a status quoting a message.
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
tracer = trace.get_tracer("planted")
with tracer.start_as_current_span(f"GET /api/admin/health?code={host_key}") as span:
    span.set_attribute("marker", "the-planted-span")
    span.set_attribute("note", f"mail {email} tel {phone} ref {reference} key {host_key}")
    span.set_attribute("url.full", f"https://desk.example/console/sessions/{session}")
    span.set_status(Status(StatusCode.ERROR, f"ValueError: {sys.argv[2]} {email}"))
telemetry.flush()
print("tokens", json.dumps(tokens))
print("delivered", len(sim.delivered))
"""


class _Ingestion(BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append(body)
        answer = json.dumps({"itemsReceived": 1, "itemsAccepted": 1, "errors": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture
def ingestion() -> Iterator[str]:
    _Ingestion.received.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ingestion)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _items() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for body in _Ingestion.received:
        text = body.decode("utf-8")
        parsed = json.loads(text)
        items.extend(parsed if isinstance(parsed, list) else [parsed])
    return items


@pytest.mark.timeout(180)
def test_nothing_personal_or_secret_reaches_application_insights(
    ingestion: str, tmp_path: Path
) -> None:
    env = {
        "PATH": "",
        "APPLICATIONINSIGHTS_CONNECTION_STRING": (
            "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
            f"IngestionEndpoint={ingestion};LiveEndpoint={ingestion}"
        ),
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
        "DESK_ENVIRONMENT": "Development",
        "DESK_SQLITE_PATH": str(tmp_path / "desk.sqlite3"),
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "DESK_HASH_KEY": HASH_KEY,
        "DESK_FUNCTION_KEY": FUNCTION_KEY,
        "TMPDIR": str(tmp_path),
    }
    completed = subprocess.run(  # noqa: S603 -- fixed interpreter and code
        [
            sys.executable,
            "-c",
            _SCENARIO,
            USER_ID,
            TEXT,
            HOST_KEY,
            EMAIL,
            PHONE,
            SESSION_ID,
            REFERENCE,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=150,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    out = completed.stdout
    assert out.count("webhook 200") == 3
    assert "admin 200" in out
    reply_tokens = [t for t in json.loads(out.split("tokens ", 1)[1].splitlines()[0]) if t]
    assert reply_tokens

    items = _items()
    kinds = {item.get("data", {}).get("baseType") for item in items}
    assert {"RequestData", "RemoteDependencyData", "MessageData"} <= kinds, kinds
    requests = sorted(
        item["data"]["baseData"]["name"]
        for item in items
        if item["data"]["baseType"] == "RequestData"
    )
    # Every invocation is exported: no sampler drops a request (three webhooks, one admin call).
    assert requests == [
        "GET /api/admin/health",
        "GET /api/admin/users/{userId}",
        *["POST /api/line/webhook"] * 3,
    ]

    sent = "\n".join(b.decode("utf-8") for b in _Ingestion.received)
    sent_unescaped = json.dumps(items, ensure_ascii=False)
    planted = [USER_ID, TEXT, "PLANTEDTEXT", SECRET, TOKEN, HASH_KEY, FUNCTION_KEY, *reply_tokens]
    planted += [HOST_KEY, EMAIL, PHONE, SESSION_ID, REFERENCE]
    assert "the-planted-span" in sent_unescaped  # the planted span itself was exported
    for value in planted:
        assert value not in sent, f"{value!r} was sent to Application Insights"
        assert value not in sent_unescaped, f"{value!r} was sent to Application Insights"


def test_without_a_connection_string_nothing_is_loaded() -> None:
    code = (
        "import sys, function_app\n"
        "from shared.adapters import telemetry\n"
        "print(telemetry.configure(), "
        "[m for m in sys.modules if m.startswith(('opentelemetry', 'azure.monitor'))])"
    )
    out = subprocess.run(  # noqa: S603 -- fixed interpreter and code
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == "False []"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (
            f"https://x/api/admin/users/{USER_ID}/erase?code=k",
            "https://x/api/admin/users/{userId}/erase",
        ),
        ("https://x/api/admin/users/alice-by-phone", "https://x/api/admin/users/{userId}"),
        (
            f"https://api.line.me/v2/bot/profile/{USER_ID}",
            "https://api.line.me/v2/bot/profile/{userId}",
        ),
        (
            "https://c/dbs/desk/colls/users/docs/msg%3A01AB",
            "https://c/dbs/desk/colls/users/docs/{id}",
        ),
        (f"push to {USER_ID} failed", "push to {lineId} failed"),
        ("token planted-access-token-82 here", "token [secret] here"),
        ("GET /api/admin/health?code=abc123", "GET /api/admin/health"),
        (
            "https://d/console/sessions/20251104T100000-abcdef/transcript",
            "https://d/console/sessions/{sessionId}/transcript",
        ),
        ("mail a.b+c@example.co.jp now", "mail {email} now"),
        ("tel 090-1234-5678 / 03 1234 5678 / +81-90-1234-5678", "tel {phone} / {phone} / {phone}"),
        ("受付番号 251104-012 です", "受付番号 {reference} です"),
        ("took 1234.5 ms at 2025-11-04T10:00:00", "took 1234.5 ms at 2025-11-04T10:00:00"),
    ],
)
def test_scrub(raw: str, clean: str) -> None:
    assert scrub(raw, (TOKEN,)) == clean
