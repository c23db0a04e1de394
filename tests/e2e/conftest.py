"""End-to-end: the desk served by the devtools host in its own process, LINE simulated here.

The host is started once per module on a free port (it prints "ready <url>" when it serves:
that line is the synchronisation, no sleeping). Its log goes to a file that tests read to
check that no personal data was written.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools.host import ROOT
from devtools.linesim import LineSimulator, SimUser

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
    """A desk under test: its URL, its LINE, its database file and its log."""

    base_url: str
    sim: LineSimulator
    database: Path
    log: Path

    def http(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """One request to the host; HTTP errors are answers, not exceptions."""
        request = urllib.request.Request(
            self.base_url + path, data=body or None, method=method, headers=headers or {}
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

    def consented_user(self, name: str) -> SimUser:
        """A simulated user who followed and pressed 同意する; their inbox is then cleared."""
        user = self.sim.user(name)
        user.follow()
        user.postback(AGREE)
        self.sim.clear_inbox(user.user_id)
        return user

    def stored_rows(self) -> int:
        """Rows in the desk's SQLite file (expired or not)."""
        with sqlite3.connect(self.database) as db:
            return int(db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])

    def stored_text(self) -> str:
        """Every stored document body, concatenated (to look for what must not be there)."""
        with sqlite3.connect(self.database) as db:
            return "\n".join(row[0] for row in db.execute("SELECT body FROM documents"))


@pytest.fixture(scope="module")
def running_desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDesk]:
    """Start the host against a fresh SQLite file and the simulator (one per test module)."""
    workdir = tmp_path_factory.mktemp("desk")
    sim = LineSimulator(SECRET, TOKEN)
    sim.start()
    env = {
        **os.environ,
        "DESK_ENVIRONMENT": "Development",
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE_URL": sim.base_url,
        "LINE_DATA_API_BASE_URL": sim.base_url,
        "DESK_SQLITE_PATH": str(workdir / "desk.sqlite3"),
        "DESK_FUNCTION_KEY": FUNCTION_KEY,
        "DESK_MASTER_KEY": MASTER_KEY,
        "DESK_HASH_KEY": "e2e-hash-key",
        "HOUSEKEEPING_SCHEDULE": "0 17 * * * *",
        "COSMOS_ENDPOINT": "",
        "DESK_POLICY_URL": POLICY_URL,
    }
    log = workdir / "host.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "devtools.host", "--port", "0", "--no-timers"],
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
        sim.webhook_url = f"{base_url}/api/line/webhook"
        try:
            yield RunningDesk(base_url, sim, workdir / "desk.sqlite3", log)
        finally:
            process.terminate()
            process.wait(timeout=10)
            process.stdout.close()
            sim.stop()


@pytest.fixture
def desk(running_desk: RunningDesk) -> RunningDesk:
    """The running desk with the simulator's record cleared."""
    running_desk.sim.reset()
    return running_desk
