"""`make bench`: the desk's performance figures. Prints numbers; asserts nothing.

1. Webhook throughput in-process for a text event from a consented user, on SQLite and on
   the Cosmos test server, with the LINE simulator answering over loopback HTTP (one reply
   each, as in production).
2. Store operations per event type (what each kind of event costs in Cosmos DB requests).
   Then the experts' queue: time to list a page with 10 and with 10,000 sessions waiting,
   and the purge of 100 and 1,000 suspended users with 50 messages each; the retention
   timer for 1,000 and 10,000 closed sessions, and the export of a user with 50 sessions.
   The experts' console: the queue page's server time with 10 and 10,000 sessions, the
   supervisor's board with as many, and a conversation page of 200 messages (p50 and p95 on
   SQLite).
3. A fresh worker process: the first webhook call with and without the Flex preload against
   the steady median, and what Application Insights telemetry adds to start-up and p99.
4. Statistics: one request (`GET /api/admin/stats`) over 36 and 37 months of realistic
   entries for each grouping, the first ever (every month read and tallied), on another
   worker and on the same one, next to the figures measured before.
5. Import time of `function_app` in a fresh interpreter, next to `azure.functions` alone,
   and of the SDK modules the webhook loads on first use.
"""

from __future__ import annotations

import functools
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from devtools.cosmos_testserver import EMULATOR_KEY, start_cosmos_test_server
from devtools.linesim import BOT_USER_ID, LineSimulator, SimUser, sign
from shared.adapters.cosmos_store import CosmosStore
from shared.adapters.line_messaging import LineApiClient
from shared.adapters.sqlite_store import SqliteStore
from shared.config import settings_from
from shared.domain.privacy import user_key
from shared.domain.sessions import (
    Handover,
    HandoverAction,
    Message,
    Role,
    Session,
    SessionStatus,
)
from shared.ports import DESK, USERS, Document, DocumentStore
from shared.repositories.desk_records import StatEntries, Suspension, Suspensions
from shared.repositories.tally import SessionTally
from shared.repositories.user_records import MessageLog, SessionIndex
from shared.services.consultations.experts import CloseSession, ExpertAnswer
from shared.wiring import Desk, build_desk

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"  # noqa: S105 -- a fake channel for the simulator
TOKEN = "bench-token"  # noqa: S105
EVENTS = 300
AGREE = "action=consent&version=2025-10-24&answer=yes"


class CountingStore:
    """Wraps a DocumentStore and counts each operation (what Cosmos DB would bill)."""

    def __init__(self, inner: DocumentStore) -> None:
        self.inner = inner
        self.counts: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Callable[..., Any]:
        operation = getattr(self.inner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.counts[name] += 1
            return operation(*args, **kwargs)

        return counted

    def total(self) -> int:
        """Operations since the last reset."""
        return sum(self.counts.values())


def _desk(store: DocumentStore, sim: LineSimulator) -> Desk:
    settings = settings_from(
        {
            "DESK_ENVIRONMENT": "Development",
            "LINE_CHANNEL_SECRET": SECRET,
            "LINE_API_BASE_URL": sim.base_url,
        }
    )
    messenger = LineApiClient(TOKEN, sim.base_url, timeout_seconds=5)
    messenger.warm_up()
    return build_desk(settings, store, messenger)


def _deliver(desk: Desk, *events: dict[str, Any], secret: str = SECRET) -> None:
    body = json.dumps({"destination": BOT_USER_ID, "events": list(events)}).encode()
    result = desk.webhook.receive(body, sign(secret, body))
    if result.failed:
        raise RuntimeError(f"bench event failed: {dict(result.counts)}")


def _time_gets(
    host: Any,
    path: str,
    headers: dict[str, str],
    runs: int,
    before: Callable[[], None] = lambda: None,
) -> list[float]:
    """Server time of `runs` GETs of `path` through the local host, in order (`before` runs
    ahead of each); RuntimeError unless each answers 200."""
    timings = []
    for _ in range(runs):
        before()
        started = time.perf_counter()
        status, _, _ = host.handle("GET", path, headers, b"")
        timings.append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"bench page {path} answered {status}")
    return timings


def _p50_p95(timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def _consultation(desk: Desk, sim: LineSimulator, name: str, age: float) -> Counter[str]:
    """One consultation: follow, 同意する, a topic, three messages each answered by an expert
    (the message `age` seconds old when answered), then the expert's closing. The messages the
    user got, by how they went (reply or push), and the number of push calls."""
    user = sim.user(name)
    _deliver(desk, user.follow_event(), user.postback_event(AGREE))
    _deliver(desk, user.postback_event("action=topic&topic=career"))
    record = desk.store.read(USERS, user.user_id, "user")
    session_id = str((record or {}).get("openSessionId"))
    sim.clear_inbox(user.user_id)
    pushed_before = len([c for c in sim.calls_to("push") if c.status == 200])
    for n, text in enumerate(("転職を考えています", "今の職場は3年目です", "資格も気になります")):
        _deliver(desk, user.text_event(text, age=age))
        desk.experts.send(session_id, "bench", ExpertAnswer(f"お答えします（{n + 1}）。"))
    desk.experts.close(session_id, "bench", CloseSession("助言"))
    counts = Counter(d.via for d in sim.inbox(user.user_id))
    counts["push calls"] = len([c for c in sim.calls_to("push") if c.status == 200]) - pushed_before
    return counts


def pushes_per_consultation(store: DocumentStore, sim: LineSimulator) -> None:
    """LINE pushes (counted against the monthly quota) one consultation costs. Before issue 14
    every answer and the closing were pushed (4); now the first message is acknowledged by a
    free reply and an answer within 50 s of the user's message goes as a free reply."""
    print("LINE pushes per consultation (3 messages, 3 answers, the closing):")
    desk = _desk(store, sim)
    for label, age in (
        ("answers within 50 s (the user is in the chat)", 5.0),
        (
            "answers after 50 s",
            55.0,
        ),
    ):
        counts = _consultation(desk, sim, f"bench-pushes-{age:.0f}", age)
        print(
            f"  {label:<46} {counts['push calls']} pushes (before issue 14: 4); "
            f"messages by reply {counts['reply']}, by push {counts['push']}"
        )


def throughput(name: str, store: DocumentStore, sim: LineSimulator) -> None:
    """Text events per second through the whole webhook service, one event per call."""
    desk = _desk(store, sim)
    users = [sim.user(f"bench-{name}-{i}") for i in range(20)]
    for user in users:
        _deliver(desk, user.follow_event(), user.postback_event(AGREE))
    events = [users[i % len(users)].text_event("転職について相談したいです") for i in range(EVENTS)]
    timings = []
    started = time.perf_counter()
    for event in events:
        t0 = time.perf_counter()
        _deliver(desk, event)
        timings.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    timings.sort()
    print(
        f"  {name:<18} {EVENTS / elapsed:8.0f} events/s   "
        f"p50 {timings[len(timings) // 2] * 1000:6.2f} ms   "
        f"p99 {timings[int(len(timings) * 0.99)] * 1000:6.2f} ms"
    )


def operations_per_event(store: DocumentStore, sim: LineSimulator) -> None:
    """Store operations spent on each kind of event (and on a redelivered duplicate)."""
    counting = CountingStore(store)
    desk = _desk(counting, sim)
    user: SimUser = sim.user("bench-ops")
    cases: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("follow (new user)", user.follow_event),
        ("text before consent", lambda: user.text_event("こんにちは")),
        ("agree (postback)", lambda: user.postback_event(AGREE)),
        ("text, consented", lambda: user.text_event("こんにちは")),
        ("sticker, consented", user.sticker_event),
        ("image, consented", user.media_event),
        ("receipt phrase", lambda: user.text_event("同意内容の確認")),
        ("unsend", lambda: user.unsend_event("1")),
        ("unfollow", user.unfollow_event),
        ("follow (unblock)", lambda: user.follow_event(unblocked=True)),
        ("open a session (topic)", lambda: user.postback_event("action=topic&topic=career")),
        ("text in a session", lambda: user.text_event("転職を考えています")),
        ("sticker in a session", user.sticker_event),
        ("end the session", lambda: user.text_event("相談を終了")),
    ]
    last: Document = {}
    for label, build in cases:
        last = build()
        counting.counts.clear()
        _deliver(desk, last)
        detail = ", ".join(f"{k} {v}" for k, v in sorted(counting.counts.items()))
        print(f"  {label:<22} {counting.total():2d}   ({detail})")
    counting.counts.clear()
    _deliver(desk, {**last, "deliveryContext": {"isRedelivery": True}})
    detail = ", ".join(f"{k} {v}" for k, v in sorted(counting.counts.items()))
    print(f"  {'redelivered duplicate':<22} {counting.total():2d}   ({detail})")


def queue_listing(name: str, store: DocumentStore, sim: LineSimulator) -> None:
    """Time to list the first page (50) of waiting sessions, with 10 and 10,000 in the queue."""
    desk = _desk(store, sim)
    index = SessionIndex(store)
    opened = datetime(2025, 11, 4, 1, 0, tzinfo=UTC)
    made = 0
    for total in (10, 10_000):
        for n in range(made, total):
            user_id = "U" + f"{n:032x}"
            session_id = f"{opened:%Y%m%dT%H%M%S}-{n:06x}"
            index.create(Session(session_id, user_id, "career", SessionStatus.WAITING, opened))
        made = total
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            page = desk.experts.queue(SessionStatus.WAITING, None, 50)
            timings.append(time.perf_counter() - started)
        shown = len(page.items)
        print(
            f"  {name:<18} {total:>6} sessions: first page ({shown}) "
            f"median {statistics.median(timings) * 1000:7.1f} ms"
        )


@functools.cache
def _local_host() -> Any:
    """The local host over `function_app` (azure-functions indexes an app's functions only
    once a process: every figure shares it)."""
    import function_app  # noqa: PLC0415 -- only the console's figures need the app's routes
    from devtools.host import LocalHost  # noqa: PLC0415

    return LocalHost(function_app.app, "", "bench-key", "bench-master")


def console_pages(store: DocumentStore, sim: LineSimulator, runs: int = 40) -> None:
    """Server time of the console's pages through the local host's routing (sign-in check,
    service, Jinja2 rendering): the queue with 10 and 10,000 sessions waiting, and a
    conversation of 200 messages (each view of it is an audited read)."""
    from devtools.host import dev_principal  # noqa: PLC0415
    from shared.wiring import install_desk, reset_desk  # noqa: PLC0415

    settings = settings_from(
        {
            "DESK_ENVIRONMENT": "Development",
            "LINE_CHANNEL_SECRET": SECRET,
            "LINE_API_BASE_URL": sim.base_url,
            "WEBSITE_AUTH_ENABLED": "true",
        }
    )
    messenger = LineApiClient(TOKEN, sim.base_url, timeout_seconds=5)
    host = _local_host()
    headers = {"Host": "bench", "X-MS-CLIENT-PRINCIPAL": dev_principal("bench", ["Desk.Expert"])}
    supervisor = {**headers, "X-MS-CLIENT-PRINCIPAL": dev_principal("sv", ["Desk.Admin"])}

    def timed(path: str, sent: dict[str, str] = headers) -> tuple[float, float, float]:
        timings = _time_gets(host, path, sent, runs)
        return (timings[0], *_p50_p95(timings))

    index, messages = SessionIndex(store), MessageLog(store)
    opened = datetime(2025, 11, 4, 1, 0, tzinfo=UTC)
    made = 0
    try:
        for total in (10, 10_000):
            for n in range(made, total):
                user_id = "U" + f"{n:032x}"
                session_id = f"{opened:%Y%m%dT%H%M%S}-{n:06x}"
                index.create(Session(session_id, user_id, "career", SessionStatus.WAITING, opened))
            made = total
            install_desk(build_desk(settings, store, messenger))  # tab counts not cached yet
            first, p50, p95 = timed("/console/")
            print(
                f"  queue page, {total:>6} waiting   "
                f"p50 {p50 * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms   "
                f"first (counting the tabs) {first * 1000:6.1f} ms"
            )
            _, p50, p95 = timed("/console/board/panel", supervisor)
            print(
                f"  supervisor's board, {total:>6} waiting   "
                f"p50 {p50 * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms"
            )
        user_id = "U" + "f" * 32
        session_id = f"{opened:%Y%m%dT%H%M%S}-ffffff"
        index.create(Session(session_id, user_id, "career", SessionStatus.WAITING, opened))
        for n in range(200):
            role = Role.USER if n % 2 == 0 else Role.EXPERT
            messages.add(
                Message(
                    message_id=f"msg:bench-{n:04d}",
                    session_id=session_id,
                    user_id=user_id,
                    role=role,
                    kind="text",
                    text="転職について相談したいです。" * 5,
                    at=opened + timedelta(minutes=n),
                    author="bench" if role is Role.EXPERT else None,
                    delivery="accepted" if role is Role.EXPERT else None,
                )
            )
        _, p50, p95 = timed(f"/console/sessions/{session_id}")
        print(
            f"  conversation, 200 messages    p50 {p50 * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms"
        )
    finally:
        reset_desk()


def seeded_pages(tmp: Path, sizes: tuple[int, ...], runs: int = 30) -> None:
    """The console and the webhook over a year of realistic history (devtools.seed: mostly
    closed sessions, 50 waiting, 20 held): the queue page, the tab counts, the board, the
    conversation page, and a new session's first text (its place in the queue), at each
    size. What should cost the same at 100,000 sessions as at 1,000 (issue 21)."""
    from devtools.host import dev_principal  # noqa: PLC0415
    from devtools.seed import SECRET as SEED_SECRET  # noqa: PLC0415
    from devtools.seed import START, Clock, seed, seeded_desk  # noqa: PLC0415
    from shared.wiring import install_desk, reset_desk  # noqa: PLC0415

    host = _local_host()
    expert = {"Host": "bench", "X-MS-CLIENT-PRINCIPAL": dev_principal("相談員A", ["Desk.Expert"])}
    supervisor = {**expert, "X-MS-CLIENT-PRINCIPAL": dev_principal("sv", ["Desk.Admin"])}

    def timed(
        path: str, sent: dict[str, str], store: DocumentStore | None = None
    ) -> tuple[float, float]:
        def later() -> None:
            if store is not None:  # a change between requests: each one counts afresh
                SessionTally(store).touch()

        return _p50_p95(_time_gets(host, path, sent, runs, later))

    try:
        for size in sizes:
            clock = Clock()
            path = tmp / f"seeded-{size}.sqlite3"
            reused = path.exists()  # BENCH_SEEDED_DIR keeps them between runs
            store = SqliteStore(str(path), clock=clock)
            desk = seeded_desk(store, clock)
            made = seed(desk, clock, 0 if reused else size)
            clock.now = START + timedelta(days=365)
            install_desk(desk)
            sessions = SessionIndex(store).page(SessionStatus.ACTIVE, None, 1)
            figures = {
                "queue page": timed("/console/", expert),
                "tab counts": timed("/console/counts", expert, store),
                "board": timed("/console/board/panel", supervisor),
                "conversation": timed(f"/console/sessions/{sessions[0].session_id}", expert),
            }
            first_texts = []
            sim = LineSimulator(SEED_SECRET, TOKEN, event_clock=clock.timestamp)
            for n in range(runs):
                user = sim.user(f"bench-first-{size}-{n}")
                _deliver(desk, user.follow_event(), secret=SEED_SECRET)
                _deliver(desk, user.postback_event(AGREE), secret=SEED_SECRET)
                _deliver(desk, user.postback_event("action=topic&topic=career"), secret=SEED_SECRET)
                started = time.perf_counter()
                _deliver(desk, user.text_event("はじめまして"), secret=SEED_SECRET)
                first_texts.append(time.perf_counter() - started)
            figures["first text"] = _p50_p95(first_texts)
            seeded = "reused" if reused else f"seeded in {made.seconds:.0f} s"
            print(f"  {size:>7,} sessions ({seeded}):")
            for name, (p50, p95) in figures.items():
                print(f"    {name:<14} p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms")
    finally:
        reset_desk()


def console_section(tmp: Path, sim: LineSimulator) -> None:
    """`console_pages` on a fresh SQLite store, with its heading."""
    print(f"Experts' console, server time on SQLite (local host routing, {40} runs):")
    console_pages(SqliteStore(str(tmp / "console.sqlite3")), sim)


def seeded_history(tmp: Path) -> None:
    """`seeded_pages` at the sizes BENCH_SEEDED names (1,000 and 10,000 by default)."""
    sizes = tuple(int(n) for n in os.environ.get("BENCH_SEEDED", "1000,10000").split(","))
    print("A year of seeded history on SQLite (BENCH_SEEDED=1000,10000,100000 for more):")
    kept = os.environ.get("BENCH_SEEDED_DIR")
    if kept:
        Path(kept).mkdir(parents=True, exist_ok=True)
    seeded_pages(Path(kept) if kept else tmp, sizes)
    ru_section(tmp)


# Request units per store operation of a document of about 1 KB, as Cosmos DB bills them
# (Microsoft's figures: a 1 KB point read is 1 RU; a 1 KB write with the default indexing
# about 5.5, more with composite indexes: 6 here; a query in one partition at least 2.3,
# and a little per document returned: 3 here). An estimate, not a bill.
RU_PER_OPERATION = {
    "read": 1.0,
    "create": 6.0,
    "upsert": 6.0,
    "replace": 6.0,
    "increment": 6.0,
    "delete": 6.0,
    "query_partition": 3.0,
    "count_partition": 3.0,
    "delete_partition": 30.0,
}
# The desk of issue 21: 2,000 users, 500 consultations a month, 3 consoles open in business
# hours (21 days of 8 hours), one of them a supervisor's board; a conversation open half the
# time (its presence beat and transcript poll), for about 30 minutes a consultation.
CONSOLE_SECONDS = 21 * 8 * 3600
DESK_LOAD = {"consultations": 500, "consoles": 3, "boards": 1}
CONVERSATION_SECONDS = 1800


def ru_section(tmp: Path) -> None:
    """`ru_estimate`, with its heading."""
    print("Request units a month, estimated (RU_PER_OPERATION x operations measured):")
    ru_estimate(tmp)


@dataclass(frozen=True)
class Poll:
    """A console poll as the estimate models it."""

    path: str
    headers: dict[str, str]
    method: str
    every: int  # seconds between polls
    share: float  # of the console's open time
    changes_with: str  # what makes it answer in full: "desk" (the tally's version), "session"


def _token(body: str) -> str | None:
    """The `since=` token a polled panel carries (None: the poll has none)."""
    found = re.search(r"since=([0-9.]+)", body)
    return found.group(1) if found else None


def _transcript_state(body: str) -> str:
    """The query the transcript's poll sends (its state inputs)."""
    found = re.search(r'<span id="transcript-state"[^>]*>(.*?)</span>', body)
    fields = re.findall(r'name="(\w+)" value="([^"]*)"', found.group(1)) if found else []
    return urlencode(fields)


def ru_estimate(tmp: Path) -> None:
    """Store operations per console poll, unchanged (204) and changed, and per consultation,
    measured on a seeded desk; the monthly request units they add up to for the desk above
    and for 10x and 100x it. How often a poll finds a change is modelled from the tally's
    version changes per consultation (measured) and the minute that ages waits."""
    from devtools.host import dev_principal  # noqa: PLC0415
    from devtools.seed import START, Clock, seed, seeded_desk  # noqa: PLC0415
    from shared.wiring import install_desk, reset_desk  # noqa: PLC0415

    clock = Clock()
    counting = CountingStore(SqliteStore(str(tmp / f"ru-{uuid.uuid4().hex}.sqlite3"), clock=clock))
    desk = seeded_desk(counting, clock)  # counts what it wraps
    made = seed(desk, clock, 300)
    sessions = made.counts["sessions"]
    per_consultation = {k: v / sessions for k, v in counting.counts.items()}
    tally = SessionTally(counting.inner)
    bumps = tally.read().version / sessions  # desk-wide changes a consultation makes
    clock.now = START + timedelta(days=365)
    install_desk(desk)
    host = _local_host()
    expert = {"Host": "bench", "X-MS-CLIENT-PRINCIPAL": dev_principal("相談員A", ["Desk.Expert"])}
    admin = {**expert, "X-MS-CLIENT-PRINCIPAL": dev_principal("sv", ["Desk.Admin"])}
    htmx = {"HX-Request": "true", "Sec-Fetch-Site": "same-origin", "Origin": "http://bench"}
    index = SessionIndex(counting.inner)
    waiting = index.page(SessionStatus.WAITING, None, 1)[0].session_id
    session_id = index.page(SessionStatus.ACTIVE, None, 1)[0].session_id
    view = f"/console/sessions/{session_id}"
    polls = {
        "queue panel": Poll("/console/queue?tab=waiting", {**expert, **htmx}, "GET", 5, 1, "desk"),
        "tab counts": Poll("/console/counts", {**expert, **htmx}, "GET", 10, 1, "desk"),
        "presence beat": Poll(f"{view}/presence", {**expert, **htmx}, "POST", 10, 0.5, "none"),
        "transcript": Poll(f"{view}/transcript", {**expert, **htmx}, "GET", 4, 0.5, "session"),
        "board": Poll("/console/board/panel", {**admin, **htmx}, "GET", 5, 1, "desk"),
    }
    _, _, page = host.handle("GET", view, expert, b"")
    try:
        touch = {"session": session_id, "desk": waiting, "none": waiting}
        measured = {
            name: _measure_poll(
                host,
                poll,
                counting,
                clock,
                functools.partial(tally.touch, touch[poll.changes_with]),
                _transcript_state(page.decode()) if poll.changes_with == "session" else "",
            )
            for name, poll in polls.items()
        }
    finally:
        reset_desk()
    _print_estimate(per_consultation, sessions, bumps, polls, measured)


def _measure_poll(
    host: Any,
    poll: Poll,
    counting: CountingStore,
    clock: Any,
    change: Callable[[], None],
    query: str,
) -> tuple[dict[str, float], dict[str, float]]:
    """Operations of one poll, unchanged and changed (`change` before every other poll),
    sending back what each answer says to send (`since=`, the transcript's state). The
    first poll, which has nothing to send back, is not counted."""
    unchanged, changed = Counter[str](), Counter[str]()
    for n in range(-1, 20):
        touched = n % 2 == 1
        if touched:
            change()
        clock.now += timedelta(seconds=poll.every)
        clock.now = clock.now.replace(second=min(clock.now.second, 50))  # inside one minute
        joiner = "&" if "?" in poll.path else "?"
        path = f"{poll.path}{joiner}{query}" if query else poll.path
        counting.counts.clear()
        status, _, body = host.handle(poll.method, path, poll.headers, b"")
        if status not in (200, 204):
            raise RuntimeError(f"bench poll {path} answered {status}")
        if n >= 0:
            (changed if touched else unchanged).update(counting.counts)
        text = body.decode()
        if (token := _token(text)) is not None:
            query = f"since={token}"
        elif "transcript-state" in text:
            query = _transcript_state(text)
    return {k: v / 10 for k, v in unchanged.items()}, {k: v / 10 for k, v in changed.items()}


def _ru(ops: dict[str, float]) -> float:
    return sum(RU_PER_OPERATION.get(k, 6.0) * v for k, v in ops.items())


def _print_estimate(
    per_consultation: dict[str, float],
    sessions: int,
    bumps: float,
    polls: dict[str, Poll],
    measured: dict[str, tuple[dict[str, float], dict[str, float]]],
) -> None:
    """The measured operations and the months they add up to at 1x, 10x and 100x."""
    print(f"  per consultation (webhook, experts, audit; {sessions} seeded):")
    print(f"    {sum(per_consultation.values()):6.1f} operations, {_ru(per_consultation):6.1f} RU")
    print(f"    {bumps:6.1f} changes of the tally's version a consultation")
    for name, (quiet, busy) in measured.items():
        print(
            f"  per {name:<14} unchanged {sum(quiet.values()):4.1f} operations"
            f" ({_ru(quiet):5.1f} RU), changed {sum(busy.values()):5.1f} ({_ru(busy):6.1f} RU):"
            f" {', '.join(f'{k} {v:g}' for k, v in sorted(busy.items()))}"
        )
    for scale in (1, 10, 100):
        consultations = DESK_LOAD["consultations"] * scale
        month = {"webhook and experts": _ru(per_consultation) * consultations}
        desk_changes = bumps * consultations / CONSOLE_SECONDS + 1 / 60  # a second; the minute
        shares = []
        for name, poll in polls.items():
            quiet, busy = measured[name]
            found = {
                "desk": min(1.0, poll.every * desk_changes),
                "session": min(1.0, poll.every * bumps / CONVERSATION_SECONDS),
                "none": 1.0,
            }[poll.changes_with]
            shares.append(f"{name} {found:.0%}")
            viewers = DESK_LOAD["boards" if name == "board" else "consoles"] * scale
            cost = found * _ru(busy) + (1 - found) * _ru(quiet)
            month[name] = cost * CONSOLE_SECONDS / poll.every * poll.share * viewers
        total = sum(month.values())
        biggest = ", ".join(
            f"{k} {v / 1e6:.2f} M" for k, v in sorted(month.items(), key=lambda kv: -kv[1])
        )
        print(f"  {scale:>3}x the desk: {total / 1e6:7.2f} M RU a month ({biggest})")
        print(f"        polls that find a change: {', '.join(shares)}")


def purge_cost(
    name: str,
    make_store: Callable[[], DocumentStore],
    sim: LineSimulator,
    sizes: tuple[int, ...] = (100, 1000),
) -> None:
    """Purge time and store operations for suspended users with 50 messages each."""
    for users in sizes:
        counting = CountingStore(make_store())
        desk = _desk(counting, sim)
        suspended = datetime(2025, 10, 1, tzinfo=UTC)
        for n in range(users):
            user_id = "U" + f"{n + 1:032x}"
            session_id = f"20251001T000000-{n:06x}"
            counting.inner.create(
                USERS,
                {
                    "id": "user",
                    "userId": user_id,
                    "type": "user",
                    "followed": True,
                    "updatedAt": suspended.isoformat(),
                    "suspendedAt": suspended.isoformat(),
                    "suspensionClause": "8(5)",
                },
            )
            Suspensions(counting.inner).put(
                Suspension(user_key(desk.settings.hash_key, user_id), "8(5)", suspended, user_id)
            )
            SessionIndex(counting.inner).create(
                Session(session_id, user_id, "career", SessionStatus.CLOSED, suspended)
            )
            for m in range(50):
                counting.inner.create(
                    USERS,
                    {
                        "id": f"msg:{n}-{m}",
                        "userId": user_id,
                        "type": "message",
                        "sessionId": session_id,
                        "role": "user",
                        "kind": "text",
                        "text": "相談内容" * 10,
                        "at": suspended.isoformat(),
                    },
                )
        counting.counts.clear()
        started = time.perf_counter()
        purged = desk.eraser.purge_suspended(grace_days=30, limit=users).acted
        elapsed = time.perf_counter() - started
        print(
            f"  {name:<18} {users:>5} users: purged {purged} in {elapsed:6.2f} s, "
            f"{counting.total():6d} store operations ({counting.total() / users:.1f} a user)"
        )


def _closed_session(store: DocumentStore, user_id: str, session_id: str, messages: int) -> None:
    """A closed session from a year and a half ago, with `messages` texts and a note."""
    opened = datetime(2024, 5, 1, tzinfo=UTC)
    note = Handover(HandoverAction.TRANSFER, "田中", opened, to="佐藤", note="引継ぎ" * 10)
    SessionIndex(store).create(
        Session(
            session_id,
            user_id,
            "career",
            SessionStatus.CLOSED,
            opened,
            closed_at=opened,
            handovers=(note,),
        )
    )
    for m in range(messages):
        store.create(
            USERS,
            {
                "id": f"msg:{session_id}-{m}",
                "userId": user_id,
                "type": "message",
                "sessionId": session_id,
                "role": "user" if m % 2 == 0 else "expert",
                "kind": "text",
                "text": "相談内容" * 10,
                "at": opened.isoformat(),
            },
        )


def retention_cost(
    name: str, make_store: Callable[[], DocumentStore], sim: LineSimulator, sizes: tuple[int, ...]
) -> None:
    """`purge_expired` time and store operations for closed sessions past the retention
    period (4 messages and a hand-over note each), all erased in one run."""
    for sessions in sizes:
        counting = CountingStore(make_store())
        desk = _desk(counting, sim)
        for n in range(sessions):
            user_id = "U" + f"{n % 997 + 1:032x}"
            _closed_session(counting.inner, user_id, f"20240501T000000-{n:06x}", 4)
        counting.counts.clear()
        started = time.perf_counter()
        summary = desk.retention.purge_expired(365, 730, sessions)
        elapsed = time.perf_counter() - started
        print(
            f"  {name:<18} {sessions:>6} sessions: erased {summary.parts['sessions']} in "
            f"{elapsed:6.2f} s ({elapsed / sessions * 1000:.2f} ms a session), "
            f"{counting.total():6d} store operations ({counting.total() / sessions:.1f} a session)"
        )


def export_time(name: str, store: DocumentStore, sim: LineSimulator) -> None:
    """Time to export a user with 50 sessions of 10 messages each (median of 5)."""
    desk = _desk(store, sim)
    user_id = "U" + "e" * 32
    store.create(
        USERS,
        {
            "id": "user",
            "userId": user_id,
            "type": "user",
            "followed": True,
            "updatedAt": datetime(2025, 11, 1, tzinfo=UTC).isoformat(),
        },
    )
    for n in range(50):
        _closed_session(store, user_id, f"20250101T{n:06d}-{n:06x}", 10)
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        export = desk.exports.export(user_id, "bench")
        timings.append(time.perf_counter() - started)
    print(
        f"  {name:<18} 50 sessions, {sum(len(s['messages']) for s in export['sessions'])} "
        f"messages: median {statistics.median(timings) * 1000:7.1f} ms"
    )


STAT_TOPICS = (
    ("career", 35),
    ("job-change", 25),
    ("income", 15),
    ("skills", 12),
    ("workplace", 10),
)
STAT_OUTCOMES = (
    ("助言", 40),
    ("情報提供", 25),
    ("継続相談", 12),
    ("他機関紹介", 6),
    ("その他", 3),
    ("自動終了(一定期間応答なし)", 8),
    ("", 6),
)


def statistics_dataset(store: DocumentStore, first: datetime, months: int, seed: int = 11) -> int:
    """Write `months` months of realistic statistics entries (a desk that grows from about 80
    to 300 sessions a month, six topics, every outcome, a few suspensions and erasures), the
    way the webhook and the experts write them. Returns how many entries it wrote."""
    chance = random.Random(seed)  # noqa: S311 -- reproducible test data, not secrets
    entries = StatEntries(store)
    written = 0
    for n in range(months):
        year, month = first.year + (first.month - 1 + n) // 12, (first.month - 1 + n) % 12 + 1
        sessions = 80 + n * 6 + chance.randint(-10, 10)

        def at(day_hint: int, year: int = year, month: int = month) -> datetime:
            return datetime(year, month, 1 + day_hint % 28, chance.randint(0, 23), tzinfo=UTC)

        def add(kind: str, when: datetime, **dims: str | int) -> None:
            nonlocal written
            entries.add(kind, uuid.UUID(int=chance.getrandbits(128)).hex, when, **dims)
            written += 1

        for i in range(sessions // 2 + chance.randint(0, 9)):
            add("user_new", at(i))
            add("consent", at(i), method="explicit")
        for i in range(chance.choice((0, 0, 0, 4, 40))):
            add("consent", at(i), method="deemed")
        for i in range(sessions):
            topic = chance.choices(
                [t for t, _ in STAT_TOPICS] + ["other"], [w for _, w in STAT_TOPICS] + [3]
            )[0]
            outcome = chance.choices([o for o, _ in STAT_OUTCOMES], [w for _, w in STAT_OUTCOMES])[
                0
            ]
            add("session_open", at(i), topic=topic)
            if chance.random() < 0.9:
                add("first_answer", at(i), topic=topic, minutes=chance.randint(2, 600))
            add(
                "session_close",
                at(i + 1),
                topic=topic,
                outcome=outcome,
                closedBy="expert" if outcome else "user",
                messages=chance.randint(1, 15),
            )
        for i in range(chance.choice((0, 0, 1, 2, 3))):
            add("suspension", at(i))
        for i in range(chance.randint(0, 5)):
            add("erasure", at(i))
    return written


# Measured with the code before whole-month publication (commit 03eef56: complementary
# suppression re-solving the table by rational elimination for every candidate cell) on the
# same generated 36 months (27,851 entries), on this machine: seconds for one request.
STATS_BEFORE = {"month": 4.68, "topic": 4.79, "outcome": 5.83}


def statistics_figures() -> None:
    """The statistics section of `make bench`, on a SQLite store of its own."""
    print("Statistics, one request (SQLite, k = 10):", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        stats_store = SqliteStore(str(Path(tmp) / "stats.sqlite3"))
        statistics_requests(stats_store)
        stats_store.close()


def statistics_requests(store: DocumentStore) -> None:
    """One statistics request per grouping over 36 and 37 months: the first ever (every
    entry read and counted), on another worker (settled months' tallies read from the store)
    and again on the same worker (settled months kept, suppressed, in memory)."""
    from shared.repositories.desk_records import StatSummaries  # noqa: PLC0415 -- only here
    from shared.services.statistics.reporting import Reports  # noqa: PLC0415

    written = statistics_dataset(store, datetime(2023, 1, 1, tzinfo=UTC), 37)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    print(f"  {written} entries over 37 months (2023-01 to 2026-01)")
    print("  months    by        first ever   other worker   same worker   before")
    for label, last in (("36", "2025-12"), ("37", "2026-01")):
        totals = [0.0, 0.0, 0.0]
        for by in ("month", "topic", "outcome"):
            store.delete_partition(DESK, StatSummaries.PARTITION)
            timings = []
            workers = [Reports(StatEntries(store), 10, lambda: now) for _ in range(2)]
            for reports in (workers[0], workers[1], workers[1]):
                started = time.perf_counter()
                reports.table("2023-01", last, by)
                timings.append(time.perf_counter() - started)
            totals = [a + b for a, b in zip(totals, timings, strict=True)]
            before = f"{STATS_BEFORE[by]:5.2f} s" if label == "36" else "refused"
            print(
                f"  {label:<9} {by:<9} {timings[0] * 1000:8.1f} ms  {timings[1] * 1000:8.1f} ms"
                f"    {timings[2] * 1000:7.1f} ms    {before}"
            )
        before = f"{sum(STATS_BEFORE.values()):5.2f} s" if label == "36" else "refused"
        print(
            f"  {label:<9} {'all three':<9} {totals[0] * 1000:8.1f} ms  {totals[1] * 1000:8.1f} ms"
            f"    {totals[2] * 1000:7.1f} ms    {before}"
        )


def host_start() -> None:
    """Seconds from starting the local host to "ready" and to its first answer, and the first
    answer's time against the steady state (warm-up should leave nothing for the first user)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.host", "--port", "0", "--linesim", "0", "--no-timers"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "DESK_SQLITE_PATH": str(Path(tempfile.mkdtemp()) / "start.sqlite3")},
    )
    try:
        assert process.stdout is not None
        simulator = ""
        ready_at = 0.0
        for line in process.stdout:
            if line.startswith("ready "):
                ready_at = time.perf_counter() - started
            if line.startswith("LINE simulator on "):
                simulator = line.split()[3].rstrip(".")
                break
        timings = []
        for n in range(31):
            request = urllib.request.Request(
                f"{simulator}/_sim/users/start-{n}/follow", data=b"{}", method="POST"
            )
            t0 = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
            timings.append(time.perf_counter() - t0)
        first_answer_at = ready_at + timings[0]
        steady = statistics.median(timings[1:])
        print(f"  ready after           {ready_at * 1000:7.0f} ms (the warm-up included)")
        print(f"  first answer after    {first_answer_at * 1000:7.0f} ms")
        print(
            f"  first answer {timings[0] * 1000:6.1f} ms vs steady median {steady * 1000:5.1f} ms "
            f"(ratio {timings[0] / steady:.1f})"
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


_FRESH_WORKER = """
import json, os, statistics, sys, threading, time, types, uuid
started = time.perf_counter()
if os.environ.get("BENCH_PRELOAD") == "1":
    sys.modules["azure_functions_worker"] = types.ModuleType("azure_functions_worker")
from devtools.linesim import LineSimulator, sign
sim = LineSimulator("bench-secret", "bench-token")
os.environ["LINE_API_BASE_URL"] = sim.start()
import azure.functions as func
import function_app
from shared.adapters import telemetry
from shared.entrypoints.webhook import line_webhook
loaded = time.perf_counter() - started
for t in threading.enumerate():
    if t.name == "desk-preload":
        t.join()
ready = time.perf_counter() - started

class Context:
    def __init__(self):
        self.function_name = "line_webhook"
        self.invocation_id = str(uuid.uuid4())

timings = []
for n in range(201):
    user = sim.user(f"bench-{n % 20}")
    event = user.text_event("hello")
    body = json.dumps({"destination": sim.bot_user_id, "events": [event]}).encode()
    req = func.HttpRequest("POST", "https://desk/api/line/webhook", body=body, headers={
        "content-type": "application/json", "x-line-signature": sign("bench-secret", body)})
    ctx = Context()
    t0 = time.perf_counter()
    telemetry.RequestSpans.pre_invocation_app_level(None, ctx, {"req": req})
    resp = line_webhook(req)
    telemetry.RequestSpans.post_invocation_app_level(None, ctx, {"req": req}, resp)
    timings.append(time.perf_counter() - t0)
telemetry.flush()
steady = sorted(timings[1:])
print(json.dumps({"loaded": loaded, "ready": ready, "first": timings[0],
                  "median": statistics.median(steady), "p99": steady[int(len(steady) * 0.99) - 1]}))
"""


def fresh_worker(preload: bool, telemetry_to: str | None = None) -> dict[str, float]:
    """A fresh process as the Functions worker would run it: load `function_app`, then 200
    webhook calls (text events) through the request-span extension; seconds."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DESK_ENVIRONMENT": "Development",
        "DESK_SQLITE_PATH": str(Path(tempfile.mkdtemp()) / "cold.sqlite3"),
        "BENCH_PRELOAD": "1" if preload else "0",
    }
    if telemetry_to:
        env["APPLICATIONINSIGHTS_CONNECTION_STRING"] = (
            "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
            f"IngestionEndpoint={telemetry_to}"
        )
        env["APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL"] = "true"
    output = subprocess.run(  # noqa: S603 -- fixed interpreter and code
        [sys.executable, "-c", _FRESH_WORKER],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def _sink() -> tuple[Any, str]:
    """A local stand-in for Application Insights' ingestion endpoint (accepts everything)."""
    import threading  # noqa: PLC0415
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: PLC0415

    class Sink(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = b'{"itemsReceived": 1, "itemsAccepted": 1, "errors": []}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def cold_start_and_telemetry() -> None:
    """Flex has no warm-up trigger: the first webhook call of a fresh process with and without
    the preload, against the steady median; then what telemetry adds to start and p99."""
    plain = fresh_worker(preload=False)
    preloaded = fresh_worker(preload=True)
    for label, r in (("no preload", plain), ("preload (Flex)", preloaded)):
        print(
            f"  {label:<15} loaded {r['loaded'] * 1000:6.0f} ms, ready {r['ready'] * 1000:6.0f} ms;"
            f" first call {r['first'] * 1000:6.1f} ms vs steady median {r['median'] * 1000:5.1f} ms"
            f" (ratio {r['first'] / r['median']:.1f})"
        )
    server, url = _sink()
    try:
        traced = fresh_worker(preload=True, telemetry_to=url)
    finally:
        server.shutdown()
        server.server_close()
    print(
        f"  telemetry: ready {preloaded['ready'] * 1000:.0f} -> {traced['ready'] * 1000:.0f} ms,"
        f" first call {preloaded['first'] * 1000:.1f} -> {traced['first'] * 1000:.1f} ms,"
        f" median {preloaded['median'] * 1000:.2f} -> {traced['median'] * 1000:.2f} ms,"
        f" p99 {preloaded['p99'] * 1000:.2f} -> {traced['p99'] * 1000:.2f} ms"
    )


def import_time(statement: str, runs: int = 5) -> float:
    """Median seconds for `statement` in a fresh interpreter (warm file cache)."""
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    samples = []
    for _ in range(runs + 1):
        output = subprocess.run(  # noqa: S603 -- fixed interpreter and code
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
        samples.append(float(output))
    return statistics.median(samples[1:])


def main() -> None:
    """Run every figure and print it."""
    warnings.simplefilter("ignore")  # the Cosmos test server's self-signed certificate
    sim = LineSimulator(SECRET, TOKEN)
    sim.start()
    cosmos = start_cosmos_test_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sqlite = SqliteStore(str(Path(tmp) / "bench.sqlite3"))
            cosmos_store = CosmosStore(cosmos.endpoint, "bench", key=EMULATOR_KEY, verify_tls=False)
            print(f"Webhook, text event, in-process, LINE simulator over HTTP ({EVENTS} events):")
            throughput("sqlite", sqlite, sim)
            throughput("cosmos-testserver", cosmos_store, sim)
            pushes_per_consultation(SqliteStore(str(Path(tmp) / "pushes.sqlite3")), sim)
            print("Store operations per event (same on every store):")
            operations_per_event(SqliteStore(str(Path(tmp) / "ops.sqlite3")), sim)
            print("Admin queue listing (50 a page, each with its message count):")
            queue_listing("sqlite", SqliteStore(str(Path(tmp) / "queue.sqlite3")), sim)
            queue_listing(
                "cosmos-testserver",
                CosmosStore(cosmos.endpoint, "queue", key=EMULATOR_KEY, verify_tls=False),
                sim,
            )
            console_section(Path(tmp), sim)
            seeded_history(Path(tmp))  # and what it costs in request units
            print("Purge of suspended users with 50 messages each:")
            purge_cost(
                "sqlite",
                lambda: SqliteStore(str(Path(tmp) / f"purge-{uuid.uuid4().hex}.sqlite3")),
                sim,
            )
            # The test server answers every query by scanning its whole container, so 1,000
            # users (52,000 documents) would time the test server, not the desk: 100 only,
            # on a server of their own (the queue listing left 10,000 sessions in the first).
            fresh = start_cosmos_test_server()
            try:
                purge_cost(
                    "cosmos-testserver",
                    lambda: CosmosStore(
                        fresh.endpoint, "purge", key=EMULATOR_KEY, verify_tls=False
                    ),
                    sim,
                    sizes=(100,),
                )
            finally:
                fresh.stop()
            print("Retention (purge_expired) of closed sessions past the period:")
            retention_cost(
                "sqlite",
                lambda: SqliteStore(str(Path(tmp) / f"retention-{uuid.uuid4().hex}.sqlite3")),
                sim,
                (1_000, 10_000),
            )
            print("Export (開示) of a user:")
            export_time("sqlite", SqliteStore(str(Path(tmp) / "export.sqlite3")), sim)
            fresh = start_cosmos_test_server()
            try:
                export_time(
                    "cosmos-testserver",
                    CosmosStore(fresh.endpoint, "export", key=EMULATOR_KEY, verify_tls=False),
                    sim,
                )
            finally:
                fresh.stop()
            sqlite.close()
    finally:
        cosmos.stop()
        sim.stop()
    statistics_figures()
    print("Local host start (a follow through the LINE simulator, one at a time):", flush=True)
    host_start()
    print("Fresh worker process, in-process webhook calls (200 text events):", flush=True)
    cold_start_and_telemetry()
    print("Import time in a fresh interpreter (median of 5):", flush=True)
    for label, statement in [
        ("azure.functions", "import azure.functions"),
        ("function_app", "import function_app"),
        ("linebot.v3.webhooks", "import linebot.v3.webhooks"),
        ("linebot.v3.messaging", "import linebot.v3.messaging"),
        ("azure.cosmos", "import azure.cosmos"),
        ("azure.identity", "import azure.identity"),
        ("azure.monitor.opentelemetry", "import azure.monitor.opentelemetry"),
    ]:
        print(f"  {label:<22} {import_time(statement) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
