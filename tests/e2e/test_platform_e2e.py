"""The platform end to end: settings errors on every path, timers that say what they did,
when a suspended user will be purged, and `make chat` / `make run` telling the port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from devtools.host import ROOT
from devtools.linesim import LineSimulator
from tests.e2e.conftest import (
    FUNCTION_KEY,
    MASTER_KEY,
    POLICY_URL,
    SECRET,
    TOKEN,
    RunningDesk,
    free_port,
    host_process,
    sqlite_documents,
    start_like_make_run,
)

pytestmark = pytest.mark.e2e

# Values that must never appear in an answer or a log line, only the settings' names.
BAD_SECRET = "placeholder-never-shown"
BAD_FLOOD = "2.9"


def _env(sim: LineSimulator, workdir: Path, **overrides: str) -> dict[str, str]:
    return {
        **os.environ,
        "DESK_ENVIRONMENT": "Development",
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE_URL": sim.base_url,
        "DESK_FUNCTION_KEY": FUNCTION_KEY,
        "DESK_MASTER_KEY": MASTER_KEY,
        "DESK_HASH_KEY": "j9hca07LChMJQn0ZlhsCKu494phKc6Ekj7rZI4emOIY",
        "DESK_CONTACT": "テスト運営事務局（電話 043-000-0000）",
        "DESK_POLICY_URL": POLICY_URL,
        "COSMOS_ENDPOINT": "",
        "DESK_SQLITE_PATH": str(workdir / "desk.sqlite3"),
        **overrides,
    }


@pytest.fixture(scope="module")
def misconfigured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDesk]:
    """A desk whose settings are wrong twice: a placeholder secret in production and a
    flood limit that is not a whole number."""
    workdir = tmp_path_factory.mktemp("misconfigured")
    sim = LineSimulator(SECRET, TOKEN)
    sim.start()
    env = _env(
        sim,
        workdir,
        DESK_ENVIRONMENT="Production",
        LINE_CHANNEL_SECRET=BAD_SECRET,
        DESK_FLOOD_PER_MINUTE=BAD_FLOOD,
    )
    log = workdir / "host.log"
    try:
        with host_process(env, log) as base_url:
            sim.webhook_url = f"{base_url}/api/line/webhook"
            yield RunningDesk(
                base_url, sim, sqlite_documents(workdir / "desk.sqlite3"), log, "sqlite"
            )
    finally:
        sim.stop()


BAD_NAMES = {"LINE_CHANNEL_SECRET", "DESK_FLOOD_PER_MINUTE"}


def _logged_refusals(desk: RunningDesk, marker: str) -> list[str]:
    lines = [line for line in desk.log.read_text().splitlines() if marker in line]
    for line in lines:
        assert BAD_SECRET not in line
        assert f"={BAD_FLOOD}" not in line
        assert f" {BAD_FLOOD}" not in line
    return [line for line in lines if all(name in line for name in BAD_NAMES)]


def test_health_answers_503_naming_the_bad_settings_and_logs_why(
    misconfigured: RunningDesk,
) -> None:
    status, body = misconfigured.admin("GET", "/api/admin/health")
    assert status == 503
    assert body["status"] == "misconfigured"
    assert set(body["settings"]) == BAD_NAMES
    assert body["error"]["code"] == "configuration"
    assert BAD_SECRET not in json.dumps(body)
    assert BAD_FLOOD not in json.dumps(body)
    assert _logged_refusals(misconfigured, "request refused status=503 ConfigurationError")


def test_every_admin_route_says_which_settings_are_wrong(misconfigured: RunningDesk) -> None:
    status, body = misconfigured.admin("GET", "/api/admin/service")
    assert status == 503
    assert set(body["settings"]) == BAD_NAMES


def test_the_warm_up_logs_the_message_not_a_bare_error(misconfigured: RunningDesk) -> None:
    assert _logged_refusals(misconfigured, "warm-up failed ConfigurationError: settings refused")


def test_the_webhook_logs_the_message_and_tells_line_nothing(misconfigured: RunningDesk) -> None:
    delivery = misconfigured.sim.user("misconfigured-user").follow()
    assert delivery.status == 500
    assert _logged_refusals(misconfigured, "request refused status=500 ConfigurationError")


def test_a_timer_logs_the_message(misconfigured: RunningDesk) -> None:
    status, answer = misconfigured.run_timer("purge_suspended")
    assert status == 500
    assert all(name in answer for name in BAD_NAMES)
    assert _logged_refusals(misconfigured, "timer purge_suspended failed ConfigurationError")


@pytest.fixture(scope="module")
def graced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDesk]:
    """A desk with the production grace period before a suspended user is purged."""
    workdir = tmp_path_factory.mktemp("graced")
    sim = LineSimulator(SECRET, TOKEN)
    sim.start()
    log = workdir / "host.log"
    try:
        with host_process(_env(sim, workdir, PURGE_GRACE_DAYS="30"), log) as base_url:
            sim.webhook_url = f"{base_url}/api/line/webhook"
            yield RunningDesk(
                base_url, sim, sqlite_documents(workdir / "desk.sqlite3"), log, "sqlite"
            )
    finally:
        sim.stop()


def test_a_suspended_user_shows_when_the_purge_erases_them(graced: RunningDesk) -> None:
    user = graced.consented_user("graced-user")
    status, _ = graced.admin(
        "POST",
        f"/api/admin/users/{user.user_id}/suspend",
        {"clause": "8(3)", "reason": "宣伝目的の利用", "operator": "運用者A"},
    )
    assert status == 200
    status, view = graced.admin("GET", f"/api/admin/users/{user.user_id}")
    assert status == 200
    since = datetime.fromisoformat(view["suspension"]["since"])
    assert datetime.fromisoformat(view["suspension"]["purgeAfter"]) == since + timedelta(days=30)

    status, summary = graced.run_timer("purge_suspended")
    assert status == 202
    assert summary == "timer purge_suspended examined=1 purged=0 skipped=1 grace=1\n"
    assert summary.strip() in graced.log.read_text()
    assert graced.admin("GET", f"/api/admin/users/{user.user_id}")[0] == 200  # still there


@pytest.mark.parametrize("timer", ["housekeeping", "close_idle_sessions", "purge_expired"])
def test_each_timer_answers_and_logs_one_summary_line(graced: RunningDesk, timer: str) -> None:
    start = f"timer {timer} "
    status, summary = graced.run_timer(timer)
    assert status == 202
    lines = summary.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(start)
    assert " examined=" in lines[0]
    assert " skipped=" in lines[0]
    assert lines[0] in graced.log.read_text()


def test_chat_without_a_simulator_names_the_port_and_how_to_pass_another() -> None:
    port = free_port()
    done = subprocess.run(  # noqa: S603 -- this interpreter, fixed arguments
        [sys.executable, "-m", "devtools.chat", "--simulator", f"http://127.0.0.1:{port}"],
        cwd=ROOT,
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    assert f"port {port}" in done.stderr
    assert "make chat LINESIM_PORT=" in done.stderr


def test_make_chat_passes_linesim_port_to_the_chat() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "devtools.chat --simulator http://127.0.0.1:$(LINESIM_PORT)" in makefile


def test_the_ready_banner_prints_the_chat_command_for_its_own_port(tmp_path: Path) -> None:
    port = free_port()
    process = start_like_make_run(tmp_path, port)
    assert process.stdout is not None
    try:
        banner = []
        for line in process.stdout:
            banner.append(line)
            if line.startswith("LINE simulator on"):
                break
        assert banner[-1].rstrip().endswith(f"make chat LINESIM_PORT={port}")
        assert any("x-functions-key" in line and "?code=" in line for line in banner)
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


@pytest.mark.parametrize(("flag", "setting"), [("--port", "PORT"), ("--linesim", "LINESIM_PORT")])
def test_make_run_on_a_busy_port_says_so_in_one_line(flag: str, setting: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        ports = {"--port": str(free_port()), "--linesim": str(free_port()), flag: str(busy)}
        done = subprocess.run(  # noqa: S603 -- this interpreter, fixed arguments
            [
                sys.executable,
                "-m",
                "devtools.host",
                "--no-timers",
                "--port",
                ports["--port"],
                "--linesim",
                ports["--linesim"],
            ],
            cwd=ROOT,
            env={**os.environ, "DESK_SQLITE_PATH": os.devnull + "-unused"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    (line,) = [ln for ln in done.stderr.splitlines() if ln.startswith("port ")]
    assert line.startswith(f"port {busy} is already in use")
    assert f"make run {setting}=" in line


def test_make_says_what_it_installs_and_how_to_choose_the_ports() -> None:
    done = subprocess.run(
        ["make", "--no-print-directory", "help"],  # noqa: S607 -- the project's own Makefile
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "PORT=7071" in done.stdout
    assert "LINESIM_PORT=7072" in done.stdout
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", ".venv/bin/.installed"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "Installing the desk's Python packages" in dry.stdout
