"""End-to-end: the desk served by the devtools host in its own process, LINE simulated here.

The host is started once per module and store (SQLite, then Cosmos DB through the test
server) on a free port; it prints "ready <url>" when it serves, and that line is the
synchronisation (no sleeping). Its log goes to a file that tests read to check that no
personal data was written.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from azure.cosmos import CosmosClient

from devtools.cosmos_testserver import EMULATOR_KEY
from devtools.host import ROOT
from devtools.linesim import LineSimulator, SimUser
from shared.ports import PARTITION_KEYS

SECRET = "e2e-channel-secret"
TOKEN = "e2e-access-token"
FUNCTION_KEY = "e2e-function-key"
MASTER_KEY = "e2e-master-key"
POLICY_URL = "https://policy.example/mirai"
CURRENT = "2025-10-24"
AGREE = f"action=consent&version={CURRENT}&answer=yes"
DECLINE = f"action=consent&version={CURRENT}&answer=no"


@dataclass
class RunningDesk:
    """A desk under test: its URL, its LINE, its stored documents and its log."""

    base_url: str
    sim: LineSimulator
    documents: Callable[[], list[dict[str, Any]]]
    log: Path
    store: str
    files: tuple[Path, ...] = ()

    def stored_bytes(self) -> bytes:
        """Everything the store holds, as bytes: the SQLite files themselves (database,
        write-ahead log), or every Cosmos DB document as the service returns it."""
        if self.files:
            return b"".join(p.read_bytes() for p in self.files if p.exists())
        return json.dumps(self.documents(), ensure_ascii=False).encode("utf-8")

    def http(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """One request to the host; HTTP errors are answers, not exceptions. A body goes
        as JSON unless `headers` say otherwise (as `curl --json` sends it)."""
        sent = {**({"Content-Type": "application/json"} if body else {}), **(headers or {})}
        request = urllib.request.Request(
            self.base_url + path, data=body or None, method=method, headers=sent
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def admin(self, method: str, path: str, payload: object = None) -> tuple[int, Any]:
        """An admin API call with the function key; the JSON answer decoded."""
        body = json.dumps(payload).encode() if payload is not None else b""
        status, answer = self.http(method, path, body, {"x-functions-key": FUNCTION_KEY})
        return status, json.loads(answer) if answer else None

    def run_timer(self, name: str) -> tuple[int, str]:
        """Run a timer now through the host's admin API (master key, JSON body, as the real
        host needs); the answer is the run's summary line."""
        headers = {"x-functions-key": MASTER_KEY, "Content-Type": "application/json"}
        status, answer = self.http("POST", f"/admin/functions/{name}", b"{}", headers)
        return status, answer.decode("utf-8")

    def consented_user(self, name: str) -> SimUser:
        """A simulated user who followed and pressed 同意する; their inbox is then cleared."""
        user = self.sim.user(name)
        user.follow()
        user.postback(AGREE)
        self.sim.clear_inbox(user.user_id)
        return user

    def stored_rows(self) -> int:
        """Documents in the desk's store (expired or not)."""
        return len(self.documents())

    def stored_text(self) -> str:
        """Every stored document as JSON (to look for what must not be there)."""
        return json.dumps(self.documents(), ensure_ascii=False)


def sqlite_documents(path: Path) -> Callable[[], list[dict[str, Any]]]:
    """Every document in a SQLite store file, read behind the host's back."""

    def read() -> list[dict[str, Any]]:
        with sqlite3.connect(path) as db:
            return [json.loads(row[0]) for row in db.execute("SELECT body FROM documents")]

    return read


def cosmos_documents(endpoint: str, database: str) -> Callable[[], list[dict[str, Any]]]:
    """Every document in every container of a Cosmos database (cross-partition queries)."""
    client = CosmosClient(endpoint, EMULATOR_KEY, connection_verify=False)

    def read() -> list[dict[str, Any]]:
        db = client.get_database_client(database)
        return [
            dict(item)
            for name in PARTITION_KEYS
            for item in db.get_container_client(name).query_items(
                "SELECT * FROM c", enable_cross_partition_query=True
            )
        ]

    return read


@dataclass(frozen=True)
class DeskStore:
    """A fresh store for hosts to share: their settings, and how tests read it directly."""

    env: dict[str, str]
    documents: Callable[[], list[dict[str, Any]]]
    files: tuple[Path, ...] = ()


def desk_store(kind: str, workdir: Path, cosmos_endpoint: Callable[[], str]) -> DeskStore:
    """A new Cosmos database on the test server `cosmos_endpoint()` names (`kind` "cosmos"),
    or a new SQLite file in `workdir` ("sqlite")."""
    if kind == "cosmos":
        endpoint = cosmos_endpoint()
        database = f"e2e-{uuid.uuid4().hex[:12]}"
        env = {
            "COSMOS_ENDPOINT": endpoint,
            "COSMOS_KEY": EMULATOR_KEY,
            "COSMOS_DATABASE": database,
            "COSMOS_VERIFY_TLS": "false",
        }
        return DeskStore(env, cosmos_documents(endpoint, database))
    path = workdir / "desk.sqlite3"
    files = tuple(workdir / f"desk.sqlite3{suffix}" for suffix in ("", "-wal", "-shm"))
    return DeskStore(
        {"COSMOS_ENDPOINT": "", "DESK_SQLITE_PATH": str(path)}, sqlite_documents(path), files
    )


def host_env(sim: LineSimulator, *extra: dict[str, str]) -> dict[str, str]:
    """The environment of a test host talking to `sim`, with `extra` settings on top."""
    env = {
        **os.environ,
        "DESK_ENVIRONMENT": "Development",
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE_URL": sim.base_url,
        "DESK_FUNCTION_KEY": FUNCTION_KEY,
        "DESK_MASTER_KEY": MASTER_KEY,
        "DESK_HASH_KEY": "j9hca07LChMJQn0ZlhsCKu494phKc6Ekj7rZI4emOIY",
        "HOUSEKEEPING_SCHEDULE": "0 17 * * * *",
        "SESSION_SWEEP_SCHEDULE": "0 5 * * * *",
        "PURGE_SCHEDULE": "0 0 18 * * *",
        "RETENTION_SCHEDULE": "0 0 19 * * *",
        "PURGE_GRACE_DAYS": "0",
        "LINE_PUSH_BACKOFF_SECONDS": "0.01",
        "DESK_POLICY_URL": POLICY_URL,
        # Generous budgets: a test host on a loaded machine must not answer 503 for want of
        # time (the multi-instance kit runs the webhook's real one, and tests it).
        "DESK_WEBHOOK_BUDGET_MS": "10000",
        "DESK_ADMIN_BUDGET_MS": "30000",
    }
    for settings in extra:
        env.update(settings)
    return env


@pytest.fixture(scope="module", params=["sqlite", "cosmos"])
def running_desk(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningDesk]:
    """Start the host against a fresh store and the simulator (per test module and store).

    A test module may set `HOST_ENV` (settings added to the host's environment) and
    `DESK_APP` (the module holding `app`, e.g. one that wires a fault into the desk)."""
    workdir = tmp_path_factory.mktemp("desk")
    sim = LineSimulator(SECRET, TOKEN)
    sim.start()
    store = desk_store(
        request.param, workdir, lambda: str(request.getfixturevalue("cosmos_endpoint"))
    )
    env = host_env(
        sim,
        store.env,
        # One host: nothing to wait for after an operator's change (the multi-instance kit
        # runs with the cache and the wait).
        {"DESK_STATUS_CACHE_SECONDS": "0"},
        # A module may run its host with other settings (e.g. DESK_REQUIRE_APP_ROLES=true).
        getattr(request.module, "HOST_ENV", {}),
    )
    documents, files = store.documents, store.files
    app = str(getattr(request.module, "DESK_APP", "function_app"))
    log = workdir / "host.log"
    with host_process(env, log, app) as base_url:
        sim.webhook_url = f"{base_url}/api/line/webhook"
        try:
            yield RunningDesk(base_url, sim, documents, log, request.param, files)
        finally:
            sim.stop()


@contextmanager
def host_process(env: dict[str, str], log: Path, app: str = "function_app") -> Iterator[str]:
    """`python -m devtools.host` serving `app` on a free port with `env`, its log in `log`;
    yields its URL once it prints "ready" (the synchronisation: no sleeping), and stops it
    afterwards."""
    with log.open("w") as log_file:
        process = subprocess.Popen(  # noqa: S603 -- our host; the app module is a test constant
            [sys.executable, "-m", "devtools.host", "--port", "0", "--no-timers", "--app", app],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        )
        assert process.stdout is not None
        base_url = ""
        for line in process.stdout:
            if line.startswith("ready "):
                base_url = line.split()[1]
                break
        if not base_url:
            process.wait()
            pytest.fail(f"host did not start:\n{log.read_text()}")
        try:
            yield base_url
        finally:
            process.terminate()
            process.wait(timeout=10)
            process.stdout.close()


@pytest.fixture
def desk(running_desk: RunningDesk) -> RunningDesk:
    """The running desk with the simulator's record cleared."""
    running_desk.sim.reset()
    return running_desk


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (one per module; Playwright imported here only)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: `DESK_SCREENSHOTS` (`make screenshots`: docs/console/) or a temp."""
    folder = Path(os.environ.get("DESK_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def free_port() -> int:
    """A TCP port nothing listens on now (for a simulator the test starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_like_make_run(tmp_path: Path, linesim_port: int) -> subprocess.Popen[str]:
    """The desk as `make run` starts it (SQLite, its own simulator on `linesim_port`, no
    timers); read its stdout for the banner, terminate it when done."""
    env = {**os.environ, "DESK_SQLITE_PATH": str(tmp_path / "desk.sqlite3"), "COSMOS_ENDPOINT": ""}
    return subprocess.Popen(  # noqa: S603 -- this interpreter, fixed arguments
        [
            sys.executable,
            "-m",
            "devtools.host",
            "--port",
            "0",
            "--no-timers",
            "--linesim",
            str(linesim_port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
