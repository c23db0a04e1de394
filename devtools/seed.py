"""Fill a store with a desk's worth of history, through the desk's own services.

    python -m devtools.seed --sessions 100000 [--sqlite PATH | --cosmos]

Realistic volumes for benchmarks and tests (issue 21): users who follow and agree, then come
back for several consultations over a year; each session has a few texts (some with a link, so
screening raises flags), expert answers, sometimes a private note (相談メモ) and a look at the
conversation (audited), and a close with an outcome. The last sessions stay open: `--waiting`
(50) waiting and `--active` (20) held by an expert. Everything goes through the webhook and the
experts' use cases, as production writes it (statistics, audit, receipts, the activity
directory), on a clock that walks through the year; LINE is a silent stand-in that accepts
every reply and push. `--cosmos` writes to COSMOS_ENDPOINT (the test server, or an emulator),
SQLite is the default (`.desk/seed.sqlite3`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from devtools.linesim import BOT_USER_ID, LineSimulator, SimUser, sign
from shared.config import settings_from
from shared.domain.messages import OutboundMessage
from shared.ports import DocumentStore
from shared.services.consultations.experts import CloseSession, ExpertAnswer
from shared.wiring import Desk, build_desk, build_store

SECRET = "seed-secret"  # noqa: S105 -- a fake channel
AGREE = "action=consent&version=2025-10-24&answer=yes"
TOPICS = ("job-change", "career", "workplace", "skills")
OUTCOMES = ("情報提供", "助言", "他機関紹介", "継続相談")
EXPERTS = ("相談員A", "相談員B", "相談員C", "相談員D")
WORDS = (
    "転職を考えています",
    "今の職場は3年目です",
    "上司との関係に悩んでいます",
    "資格を取るべきか迷っています",
    "面接が不安です",
    "残業が多くて体調が心配です",
)
# Development settings, LINE nowhere (the silent stand-in answers instead).
LOCAL = {"DESK_ENVIRONMENT": "Development", "LINE_API_BASE_URL": "http://127.0.0.1:9"}
# A year of history, starting on a Tuesday morning (Japan time).
START = datetime(2025, 11, 4, 1, 0, tzinfo=UTC)


@dataclass
class Clock:
    """The desk's clock, moved by the seeder."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def timestamp(self) -> float:
        """Now, in seconds (what the simulator stamps events with)."""
        return self.now.timestamp()


class SilentLine:
    """A LINE Messaging API that accepts every reply and push and sends nothing."""

    def reply(self, reply_token: str, messages: tuple[OutboundMessage, ...]) -> None:
        """Accepted."""

    def push(self, user_id: str, messages: tuple[OutboundMessage, ...], retry_key: str) -> None:
        """Accepted."""

    def show_loading(self, user_id: str, seconds: int) -> None:
        """Accepted."""

    def bot_user_id(self) -> str:
        """The simulator's bot."""
        return BOT_USER_ID


@dataclass
class Seeded:
    """What the seeder wrote, by kind."""

    counts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def seed(
    desk: Desk,
    clock: Clock,
    sessions: int,
    *,
    waiting: int = 50,
    active: int = 20,
    seed_value: int = 21,
    progress: Callable[[int], None] | None = None,
) -> Seeded:
    """Write `sessions` consultations (the last `waiting` + `active` left open)."""
    rng = random.Random(seed_value)  # noqa: S311 -- made-up data, not secrets
    sim = LineSimulator(SECRET, "t", event_clock=lambda: clock().timestamp())
    # Each user comes back for about three consultations; the open ones are one a user.
    people = [sim.user(f"seed-{n}") for n in range(max(sessions // 3, waiting + active, 1))]
    known: set[str] = set()
    step = timedelta(days=365) / max(1, sessions)
    result = Seeded()
    started = time.perf_counter()
    open_from = sessions - waiting - active
    for n in range(sessions):
        clock.now = START + step * n
        user = people[n % len(people)] if n < open_from else people[-1 - (n - open_from)]
        if user.user_id not in known:
            _deliver(desk, user.follow_event(), user.postback_event(AGREE))
            known.add(user.user_id)
            result.counts["users"] += 1
        session_id = _consultation(desk, clock, user, rng, result)
        if session_id is None:
            continue
        if n < open_from:
            _answer_and_close(desk, clock, session_id, rng, result)
        elif n < open_from + active:
            desk.experts.claim(session_id, rng.choice(EXPERTS))
            result.counts["active"] += 1
        else:
            result.counts["waiting"] += 1
        if progress is not None and n % 1000 == 999:
            progress(n + 1)
    # What the hourly housekeeping timer does: expired presence beats and receipts leave
    # SQLite's file (Cosmos DB drops them itself).
    desk.store.purge_expired()
    result.seconds = time.perf_counter() - started
    return result


def _consultation(
    desk: Desk, clock: Clock, user: SimUser, rng: random.Random, result: Seeded
) -> str | None:
    """A topic tap and a few texts; the new session's id (None if it did not open)."""
    _deliver(desk, user.postback_event(f"action=topic&topic={rng.choice(TOPICS)}"))
    record = desk.store.read("users", user.user_id, "user") or {}
    session_id = record.get("openSessionId")
    if not isinstance(session_id, str):
        return None
    result.counts["sessions"] += 1
    for _ in range(rng.randint(1, 4)):
        clock.now += timedelta(seconds=rng.randint(20, 120))
        words = rng.choice(WORDS)
        if rng.random() < 0.02:  # a link: screening raises a flag for people to review
            words += " https://example.com/job"
            result.counts["flagged texts"] += 1
        _deliver(desk, user.text_event(words))
        result.counts["user messages"] += 1
    return session_id


def _answer_and_close(
    desk: Desk, clock: Clock, session_id: str, rng: random.Random, result: Seeded
) -> None:
    expert = rng.choice(EXPERTS)
    desk.console.conversation(session_id, expert)  # an audited read, as the console's
    for k in range(rng.randint(1, 2)):
        clock.now += timedelta(minutes=rng.randint(5, 90))
        desk.experts.send(session_id, expert, ExpertAnswer(f"お答えします（{k + 1}）。"))
        result.counts["answers"] += 1
    if rng.random() < 0.3:
        desk.console.add_note(session_id, expert, "次回は職務経歴書を確認する")
        result.counts["notes"] += 1
    clock.now += timedelta(minutes=rng.randint(1, 30))
    desk.experts.close(session_id, expert, CloseSession(rng.choice(OUTCOMES)))
    result.counts["closed"] += 1


def _deliver(desk: Desk, *events: dict[str, Any]) -> None:
    body = json.dumps({"destination": BOT_USER_ID, "events": list(events)}).encode()
    outcome = desk.webhook.receive(body, sign(SECRET, body))
    if outcome.failed:
        raise RuntimeError(f"a seeded event failed: {dict(outcome.counts)}")


def seeded_desk(store: DocumentStore, clock: Clock) -> Desk:
    """The desk the seeder writes through (development settings, silent LINE, high limits)."""
    settings = settings_from(
        {
            **LOCAL,
            "LINE_CHANNEL_SECRET": SECRET,
            "DESK_FLOOD_PER_MINUTE": "100000",
            "DESK_FLOOD_PER_DAY": "1000000",
            "DESK_EXPERT_MAX_OPEN": "1000",
            "WEBSITE_AUTH_ENABLED": "true",  # the console, for benchmarks over the history
        }
    )
    return build_desk(settings, store, SilentLine(), clock, sleep=lambda _: None)


def main(argv: list[str] | None = None) -> None:
    """Seed the store the options name and print what was written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, required=True)
    parser.add_argument("--waiting", type=int, default=50)
    parser.add_argument("--active", type=int, default=20)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--sqlite", default=".desk/seed.sqlite3")
    where.add_argument("--cosmos", action="store_true", help="COSMOS_ENDPOINT, COSMOS_KEY, ...")
    options = parser.parse_args(argv)
    clock = Clock()
    environ = dict(os.environ) if options.cosmos else {"DESK_SQLITE_PATH": options.sqlite}
    store = build_store(settings_from({**environ, **LOCAL}), clock)
    desk = seeded_desk(store, clock)
    done = seed(
        desk,
        clock,
        options.sessions,
        waiting=options.waiting,
        active=options.active,
        progress=lambda n: print(f"  {n} sessions", flush=True),
    )
    print(", ".join(f"{k} {v}" for k, v in sorted(done.counts.items())))
    print(f"seeded in {done.seconds:.1f} s")


if __name__ == "__main__":
    main()
