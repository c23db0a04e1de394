"""`make soak`: the desk as production runs it, for minutes, its figures printed (not asserted).

Three instances (local hosts) on one Cosmos DB test server database, then on one SQLite file;
simulated users write at a steady rate through a dispatcher that spreads the calls over the
instances and redelivers every 503, as LINE does; some end their consultation and open a new
one. At the end it counts, from the store itself: texts sent, stored, duplicated, lost and
misfiled; the answers of the webhook (p50 / p95 / max); and, with the store frozen, how long
the webhook takes to answer 503 (its budget, DESK_WEBHOOK_BUDGET_MS, is 1.5 s).

    python -m tests.e2e.soak --seconds 300 --rate 15 --users 40 [--stores cosmos,sqlite]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from devtools.cosmos_testserver import CosmosTestServer, start_cosmos_test_server
from tests.e2e.conftest import desk_store
from tests.e2e.instances import Cluster, cluster

TOPIC = "action=topic&topic=job-change"
# The soak counts losses, not floods: a user of a random load may well write 20 a minute.
UNLIMITED = {"DESK_FLOOD_PER_MINUTE": "100000", "DESK_FLOOD_PER_DAY": "1000000"}
# The budgets as in production (the kit's hosts otherwise have generous ones).
BUDGETS = {"DESK_WEBHOOK_BUDGET_MS": "1500", "DESK_ADMIN_BUDGET_MS": "5000"}
END = "action=end&confirm=yes"


def _open(many: Cluster, name: str) -> Any:
    user = many.consented(name)
    many.dispatcher.deliver(user.postback_event(TOPIC))
    return user


def soak(
    many: Cluster, *, seconds: float, rate: float, users: int, seed: int = 1
) -> dict[str, Any]:
    """Run the load; return the counts and times."""
    rng = random.Random(seed)
    people = [_open(many, f"soak-{n}") for n in range(users)]
    sent: dict[str, list[str]] = {u.user_id: [] for u in people}
    locks = {u.user_id: threading.Lock() for u in people}  # one user's events in order
    counter = iter(range(10**9))

    def act(user: Any) -> None:
        with locks[user.user_id]:
            if rng.random() < 0.03:  # ends the consultation and opens a new one
                many.dispatcher.deliver(user.postback_event(END))
                many.dispatcher.deliver(user.postback_event(TOPIC))
                return
            text = f"{user.user_id[-6:]}-{next(counter)}"
            sent[user.user_id].append(text)
            many.dispatcher.deliver(user.text_event(text))

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        n = 0
        while (elapsed := time.monotonic() - started) < seconds:
            pool.submit(act, rng.choice(people))
            n += 1
            pause = n / rate - elapsed
            if pause > 0:
                time.sleep(pause)  # pacing the load, not synchronising anything
    return _count(many, people, sent)


def _count(many: Cluster, people: list[Any], sent: dict[str, list[str]]) -> dict[str, Any]:
    messages = [
        m for m in many.documents("message") if m.get("role") == "user" and m.get("kind") == "text"
    ]
    stored = Counter(m["text"] for m in messages)
    sessions = {s["id"]: s for s in many.documents("session")}
    wanted = {t for texts in sent.values() for t in texts}
    times = [s for d in many.dispatcher.deliveries for s in d.seconds]
    pointers = [u.get("openSessionId") for u in many.documents("user") if u.get("openSessionId")]
    return {
        "sent": len(wanted),
        "stored": sum(1 for t in wanted if stored[t]),
        "duplicated": sum(1 for t in wanted if stored[t] > 1),
        "lost": sum(1 for t in wanted if not stored[t]),
        "drafts": sum(1 for m in messages if m["text"] in wanted and m["sessionId"] == "draft"),
        "pointers to a closed session": sum(
            1 for p in pointers if sessions.get(p, {}).get("status") == "closed"
        ),
        "pending receipts": sum(1 for d in many.documents("event") if d.get("status") == "pending"),
        "webhook calls": len(many.dispatcher.deliveries),
        "redeliveries": many.dispatcher.redelivered(),
        "unanswered": len(many.dispatcher.unanswered()),
        "answer p50 ms": round(statistics.median(times) * 1000, 1) if times else None,
        "answer p95 ms": round(_percentile(times, 0.95) * 1000, 1) if times else None,
        "answer max ms": round(max(times) * 1000, 1) if times else None,
    }


def frozen_answer(many: Cluster, freeze: Any, thaw: Any) -> float:
    """Seconds the webhook took to answer (503) while the store does not answer."""
    user = _open(many, "frozen")
    event = user.text_event("止まっている間に送ります")
    freeze()
    try:
        started = time.monotonic()
        status = many.dispatcher.post_once(event, to=1)
        took = time.monotonic() - started
    finally:
        thaw()
    print(f"  frozen store: the webhook answered {status} after {took * 1000:.0f} ms")
    return took


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> None:
    """Run the soak on each store and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--rate", type=float, default=15, help="webhook calls per second")
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--stores", default="cosmos,sqlite")
    options = parser.parse_args(argv)
    # The test server's certificate is self-signed; the kit reads the store behind its back.
    warnings.filterwarnings("ignore", message="Unverified HTTPS request")
    server: CosmosTestServer | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for kind in options.stores.split(","):
            workdir = Path(tmp) / kind
            workdir.mkdir()

            def endpoint() -> str:
                nonlocal server
                server = server or start_cosmos_test_server()
                return server.endpoint

            store = desk_store(kind, workdir, endpoint)
            print(
                f"{kind}: 3 instances, {options.users} users, {options.rate:g} calls/s "
                f"for {options.seconds:g} s"
            )
            with cluster(store, workdir, instances=3, settings=UNLIMITED | BUDGETS) as many:
                figures = soak(
                    many, seconds=options.seconds, rate=options.rate, users=options.users
                )
                for name, value in figures.items():
                    print(f"  {name}: {value}")
                if kind == "cosmos" and server is not None:
                    frozen_answer(many, server.freeze, server.thaw)
                else:
                    frozen_answer(many, *_held(store.env["DESK_SQLITE_PATH"]))
    if server is not None:
        server.stop()


def _held(path: str) -> tuple[Any, Any]:
    """Hold the SQLite file's exclusive lock (another writer that never finishes), and let go."""
    import sqlite3  # noqa: PLC0415

    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def hold() -> None:
        connection.execute("BEGIN EXCLUSIVE")

    def release() -> None:
        connection.execute("ROLLBACK")
        connection.close()

    return hold, release


if __name__ == "__main__":
    main()
