"""`make load USERS=20 SECONDS=10`: simulated users through the local host, on loopback.

Each user follows, agrees and opens a session (not timed), then sends text messages (the
desk's common path) one after another over a keep-alive connection, for SECONDS or 2,000
messages, whichever comes first. The same run then drives a minimal handler (it verifies the
signature and answers 200) through the same host, and prints both and their ratio: what the
desk costs over the floor. Everything runs in this process: the host, the LINE simulator, the
users (so peak memory is the whole run's).
"""

from __future__ import annotations

import argparse
import http.client
import json
import resource
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import azure.functions as func

from devtools.bench import CountingStore
from devtools.host import HostServer, LocalHost, _Handler
from devtools.linesim import BOT_USER_ID, LineSimulator, SimUser, sign
from shared.adapters.line_messaging import LineApiClient
from shared.adapters.line_webhook import verify_signature
from shared.adapters.sqlite_store import SqliteStore
from shared.config import settings_from
from shared.wiring import build_desk, install_desk, reset_desk, warm_up

SECRET = "load-secret"  # noqa: S105 -- a fake channel for the simulator
TOKEN = "load-token"  # noqa: S105
MAX_PER_USER = 2000
AGREE = "action=consent&version=2025-10-24&answer=yes"


@dataclass
class Run:
    """What one load run measured."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Events answered per second."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        """Milliseconds at a percentile of the answers."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000


def minimal_app() -> func.FunctionApp:
    """The floor: verify the signature, answer 200, nothing else."""
    app = func.FunctionApp()

    @app.route(route="api/line/webhook", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
    def line_webhook(req: func.HttpRequest) -> func.HttpResponse:
        verify_signature(SECRET, req.get_body(), req.headers.get("x-line-signature"))
        return func.HttpResponse("{}", mimetype="application/json")

    return app


def serve(app: Any) -> tuple[HostServer, str]:
    """The local host over `app` on a free loopback port, serving in a thread."""
    server = HostServer(("127.0.0.1", 0), _Handler)
    host = LocalHost(app, "", "load-function-key", "load-master-key")
    host.warm_up()
    server.host = host
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def drive(base_url: str, users: list[SimUser], seconds: float) -> Run:
    """Each user sends texts back to back until the time or the count runs out."""
    run = Run()
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    target = urlsplit(base_url)
    if target.hostname is None:
        raise ValueError(f"no host name in {base_url!r}")
    hostname = target.hostname

    def user_loop(user: SimUser) -> None:
        connection = http.client.HTTPConnection(hostname, target.port, timeout=30)
        for n in range(MAX_PER_USER):
            if time.perf_counter() >= deadline:
                break
            event = user.text_event(f"負荷試験のメッセージ{n}")
            body = json.dumps(
                {"destination": BOT_USER_ID, "events": [event]}, ensure_ascii=False
            ).encode()
            headers = {"Content-Type": "application/json", "x-line-signature": sign(SECRET, body)}
            started = time.perf_counter()
            connection.request("POST", "/api/line/webhook", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                if response.status == 200:
                    run.latencies.append(elapsed)
                else:
                    run.errors += 1
        connection.close()

    threads = [threading.Thread(target=user_loop, args=(u,)) for u in users]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - started
    return run


def report(name: str, run: Run) -> None:
    """One line of figures."""
    print(
        f"  {name:<16} {run.rate:8.0f} events/s   p50 {run.percentile(0.50):6.2f} ms   "
        f"p95 {run.percentile(0.95):6.2f} ms   p99 {run.percentile(0.99):6.2f} ms   "
        f"errors {run.errors}"
    )


def main() -> None:
    """Run the desk, then the floor, and compare."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    options = parser.parse_args()
    users_count = max(1, min(options.users, 200))
    seconds = max(1.0, min(options.seconds, 120.0))

    sim = LineSimulator(SECRET, TOKEN)
    sim.start()
    workdir = Path(tempfile.mkdtemp(prefix="desk-load-"))
    store = CountingStore(SqliteStore(str(workdir / "load.sqlite3")))
    settings = settings_from(
        {
            "DESK_ENVIRONMENT": "Development",
            "LINE_CHANNEL_SECRET": SECRET,
            "LINE_API_BASE_URL": sim.base_url,
            "DESK_FLOOD_PER_MINUTE": "100000",
            "DESK_FLOOD_PER_DAY": "1000000",
        }
    )
    install_desk(build_desk(settings, store, LineApiClient(TOKEN, sim.base_url, 5)))
    warm_up()

    import function_app  # noqa: PLC0415 -- after the desk is installed

    server, base_url = serve(function_app.app)
    sim.webhook_url = f"{base_url}/api/line/webhook"
    users = [sim.user(f"load-{n}") for n in range(users_count)]
    for user in users:
        user.follow()
        user.postback(AGREE)
        user.postback("action=topic&topic=career")
    store.counts.clear()
    print(f"{users_count} users for {seconds:g} s each run, loopback only:")
    desk_run = drive(base_url, users, seconds)
    operations = store.total() / max(1, len(desk_run.latencies))
    server.shutdown()

    floor_server, floor_url = serve(minimal_app())
    floor_run = drive(floor_url, users, seconds)
    floor_server.shutdown()
    sim.stop()
    reset_desk()

    report("desk", desk_run)
    report("minimal handler", floor_run)
    print(f"  desk / minimal handler throughput: {desk_run.rate / floor_run.rate:.2f}")
    print(f"  store operations per event: {operations:.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory (this process: host, simulator and users): {peak:.0f} MiB")


if __name__ == "__main__":
    main()
