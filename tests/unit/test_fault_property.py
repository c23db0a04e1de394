"""Property: random conversations through random fault schedules and random redeliveries end
exactly as the same conversations delivered once without faults: nothing lost, nothing stored
twice, no answer sent twice."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.linesim import BOT_USER_ID, LineSimulator, sign
from shared.adapters.sqlite_store import SqliteStore
from shared.config import settings_from
from shared.wiring import build_desk
from tests.kit.fakes import FakeClock, FakeMessenger, MemoryStore
from tests.kit.faults import FaultyMessenger, FaultyStore, Schedule

SECRET = "fault-secret"
AGREE = "action=consent&version=2025-10-24&answer=yes"
FAULTY_ATTEMPTS = 3  # LINE redelivers; after three tries the outage is over


def conversation(draw: Any) -> list[list[dict[str, Any]]]:
    """Webhook calls (lists of events) from 1-3 users, each user's events in their order."""
    clock = FakeClock()
    sim = LineSimulator(SECRET, "t", event_clock=lambda: clock().timestamp())
    queues = []
    for n in range(draw(st.integers(1, 3))):
        user = sim.user(f"user{n}")
        events = [
            user.follow_event(),
            user.postback_event(AGREE),
            user.postback_event("action=topic&topic=career"),
        ]
        for m in range(draw(st.integers(0, 4))):
            events.append(
                user.sticker_event()
                if draw(st.booleans()) and m
                else user.text_event(f"user{n}の相談{m}")
            )
        if draw(st.booleans()):
            events.append(user.text_event("相談を終了"))  # asks; the button ends it
            events.append(user.postback_event("action=end&confirm=yes"))
        queues.append(events)
    calls: list[list[dict[str, Any]]] = []
    while any(queues):
        batch = []
        for _ in range(draw(st.integers(1, 3))):
            live = [q for q in queues if q]
            if not live:
                break
            batch.append(draw(st.sampled_from(live)).pop(0))
        calls.append(batch)
    return calls


conversations = st.composite(conversation)()


def receipt_done(name: str, args: tuple[Any, ...]) -> bool:
    """The write that marks an answered event done. If it fails for good (three tries), the
    receipt's lease lets a later redelivery answer again: the desk's one documented
    at-least-once case, kept out of this exactly-once property (its own unit test covers it)."""
    return name == "upsert" and str(args[1].get("id", "")).startswith("event:")


def world(store: Any, schedule: Schedule | None) -> tuple[Any, FakeMessenger]:
    clock = FakeClock()
    line = FakeMessenger()
    messenger = FaultyMessenger(line, schedule) if schedule else line
    if schedule:
        store = FaultyStore(store, schedule, spare=receipt_done)
    env = {
        "DESK_ENVIRONMENT": "Development",
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_API_BASE_URL": "http://127.0.0.1:9",
        "DESK_EVENT_LEASE_SECONDS": "0",
        "DESK_FLOOD_PER_MINUTE": "100000",
        "DESK_FLOOD_PER_DAY": "100000",
    }
    desk = build_desk(settings_from(env), store, messenger, clock, sleep=lambda _: None)
    return desk, line


def post(desk: Any, events: list[dict[str, Any]]) -> Any:
    body = json.dumps({"destination": BOT_USER_ID, "events": events}, ensure_ascii=False).encode()
    return desk.webhook.receive(body, sign(SECRET, body))


def state(store: Any) -> dict[tuple[str, str, str], str]:
    """The store without bookkeeping: ETags, write times and event receipts, and the reply
    tokens kept on messages (a redelivery's token is not kept: it is transient by design)."""
    if isinstance(store, SqliteStore):
        rows = store._db.execute("SELECT container, partition, id, body FROM documents")
        docs = {(c, p, i): json.loads(body) for c, p, i, body in rows}
    else:
        docs = {key: doc for key, (doc, _) in store.docs.items()}
    # The flood counters count attempts, and LINE's redeliveries are attempts too: they are
    # checked to exist for every user who wrote, not compared.
    floods = {p for (c, p, i) in docs if i.startswith("flood:")}
    writers = {d["userId"] for d in docs.values() if d.get("type") == "message"}
    assert writers <= floods, writers - floods
    # A 受付番号 is unique, not consecutive: an attempt that failed after taking one leaves a
    # gap, and users' events may interleave otherwise. Check uniqueness; compare the rest.
    references = [d["reference"] for d in docs.values() if d.get("type") == "session"]
    assert len(set(references)) == len(references), references
    assert all(_REFERENCE.fullmatch(r) for r in references), references
    found = {
        key: json.dumps(
            {
                k: v
                for k, v in doc.items()
                if not k.startswith("_") and k not in ("replyToken", "reference")
            },
            sort_keys=True,
        )
        for key, doc in docs.items()
        if not key[2].startswith("event:")
        and doc.get("type") not in ("stat", "statmark", "references", "flood", "tally")
    }
    # The open sessions' tally counts changes (attempts, like the flood counters) and the
    # users' messages: a fault between a message and its count leaves the count short
    # (opening the conversation makes it up), never over what is stored.
    tally: dict[str, Any] = next((d for d in docs.values() if d.get("type") == "tally"), {})
    for session in (d for d in docs.values() if d.get("type") == "session"):
        stored = sum(
            1
            for d in docs.values()
            if d.get("type") == "message"
            and d["sessionId"] == session["id"]
            and d["role"] == "user"
        )
        counted = tally.get(f"u_{session['id']}", 0)
        assert counted <= stored, (counted, stored)
    # Statistics entries have random ids (they name nobody): compare them as a multiset, and
    # check that each mark points at an entry that exists.
    stats = {doc["id"]: doc for doc in docs.values() if doc.get("type") == "stat"}
    marks = [doc for doc in docs.values() if doc.get("type") == "statmark"]
    for mark in marks:
        kind = mark["id"].split(":")[1]
        assert f"{kind}:{mark['entry']}" in stats, mark
        found[("users", mark["userId"], mark["id"])] = "mark"
    found[("desk", "stats", "*")] = json.dumps(
        sorted(
            json.dumps({k: v for k, v in d.items() if k != "id" and not k.startswith("_")})
            for d in stats.values()
        )
    )
    return found


def sent(line: FakeMessenger) -> dict[str, list[str]]:
    """What each user received, in order (reply tokens resolved to their user)."""
    received: dict[str, list[str]] = {}
    for message in line.sent:
        user = message.to if message.via == "push" else TOKENS.get(message.to, message.to)
        received.setdefault(user, []).extend(
            _REFERENCE_TOLD.sub("受付番号：REF", _PLACE.sub("N番目", getattr(m, "text", "")))
            for m in message.messages
        )
    return received


# The place in the queue an acknowledgement names depends on how other users' events
# interleave, which a fault schedule legitimately changes (a failed event runs after its
# neighbours); every other word must be the same, and sent exactly once.
_PLACE = re.compile(r"[0-9]+番目")
_REFERENCE = re.compile(r"[0-9]{6}-[0-9]{3,}")
_REFERENCE_TOLD = re.compile(r"受付番号：[0-9]{6}-[0-9]{3,}")


TOKENS: dict[str, str] = {}


def run(
    calls: list[list[dict[str, Any]]],
    schedule: Schedule | None,
    redeliver: list[bool],
    make_store: Any = MemoryStore,
):
    store = make_store()
    desk, line = world(store, schedule)
    for index, batch in enumerate(calls):
        for event in batch:
            if "replyToken" in event:
                TOKENS[event["replyToken"]] = event["source"]["userId"]
        attempt = 0
        while True:
            attempt += 1
            if schedule:
                schedule.active = attempt <= FAULTY_ATTEMPTS
            try:
                result = post(
                    desk, [{**e, "deliveryContext": {"isRedelivery": attempt > 1}} for e in batch]
                )
            except Exception:  # noqa: S112 -- a fault before any event: the host answers 503
                continue
            if not result.failed:
                break
        if redeliver[index % len(redeliver)]:
            if schedule:
                schedule.active = True
            with contextlib.suppress(Exception):  # a failed duplicate changes nothing either way
                post(desk, [{**e, "deliveryContext": {"isRedelivery": True}} for e in batch])
    return store, line


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    calls=conversations,
    share=st.floats(0.0, 0.35),
    seed=st.integers(0, 10**6),
    redeliver=st.lists(st.booleans(), min_size=1, max_size=5),
)
def test_faults_and_redeliveries_change_nothing_in_the_end(calls, share, seed, redeliver):
    clean_store, clean_line = run(calls, None, [False])
    store, line = run(calls, Schedule(share, seed), redeliver)
    assert state(store) == state(clean_store)
    assert sent(line) == sent(clean_line)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(calls=conversations, share=st.floats(0.0, 0.35), seed=st.integers(0, 10**6))
def test_the_same_holds_on_sqlite(calls, share, seed, tmp_path_factory) -> None:
    def sqlite() -> SqliteStore:
        return SqliteStore(str(tmp_path_factory.mktemp("faults") / "desk.sqlite3"))

    clean_store, clean_line = run(calls, None, [False], sqlite)
    store, line = run(calls, Schedule(share, seed), [True, False], sqlite)
    assert state(store) == state(clean_store)
    assert sent(line) == sent(clean_line)


def test_the_fault_kit_wraps_the_sqlite_adapter_too(tmp_path) -> None:
    schedule = Schedule(share=1.0, seed=1)
    store = FaultyStore(SqliteStore(str(tmp_path / "f.sqlite3")), schedule)
    failures = 0
    for n in range(20):
        try:
            store.upsert("users", {"id": f"d{n}", "userId": "U1"})
        except Exception:
            failures += 1
    schedule.active = False
    written = len(store.query_partition("users", "U1"))
    assert failures == 20
    assert 0 < written < 20 or "after" not in "".join(schedule.injected)  # some landed anyway
    assert {entry.split(":")[1] for entry in schedule.injected} <= {
        "429",
        "503",
        "timeout",
        "reset",
    }
