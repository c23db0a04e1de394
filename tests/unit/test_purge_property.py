"""Property: however two purge runs and new events interleave, the end state is the same as
running the purge once and then the events."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.linesim import BOT_USER_ID, LineSimulator, sign
from shared.config import settings_from
from shared.wiring import Desk, build_desk
from tests.kit.admin_api import api
from tests.kit.fakes import FakeClock, FakeMessenger, MemoryStore

SECRET = "property-secret"
NAMES = ["a", "b", "c", "d"]  # a and b are suspended and due for the purge; c and d are not
AGREE = "action=consent&version=2025-10-24&answer=yes"


def script() -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """The same events for every world: set-up at day 0, the users' later texts at day 31."""
    clock = FakeClock()
    sim = LineSimulator(SECRET, "token", event_clock=lambda: clock().timestamp())
    setup = []
    for name in NAMES:
        user = sim.user(name)
        setup += [
            user.follow_event(),
            user.postback_event(AGREE),
            user.postback_event("action=topic&topic=career"),
            user.text_event(f"{name}の相談"),
        ]
    clock.advance(days=31)
    later = {name: [sim.user(name).text_event(f"{name}-{n}") for n in range(3)] for name in NAMES}
    return setup, later


SETUP, LATER = script()
USER_IDS = {name: LineSimulator(SECRET, "t").user(name).user_id for name in NAMES}


def deliver(desk: Desk, event: dict[str, Any]) -> None:
    body = json.dumps({"destination": BOT_USER_ID, "events": [event]}).encode()
    desk.webhook.receive(body, sign(SECRET, body))


def prepare() -> tuple[Desk, MemoryStore]:
    """Four consented users in sessions, two of them suspended 31 days ago."""
    clock = FakeClock()
    store = MemoryStore(clock)
    env = {
        "DESK_ENVIRONMENT": "Development",
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_API_BASE_URL": "http://127.0.0.1:9",
    }
    desk = build_desk(settings_from(env), store, FakeMessenger(), clock, sleep=lambda _: None)
    for event in SETUP:
        deliver(desk, event)
    for name in ("a", "b"):
        api(desk).moderation.suspend(USER_IDS[name], "運用者", {"clause": "8(3)", "reason": "x"})
    clock.advance(days=31)
    return desk, store


def snapshot(store: MemoryStore) -> dict[tuple[str, str, str], str]:
    """The store without ETags and write times (they differ by construction)."""
    found = {
        key: json.dumps({k: v for k, v in doc.items() if not k.startswith("_")}, sort_keys=True)
        for key, (doc, _) in store.docs.items()
        if not key[1].startswith("audit")  # audit ids are random; their content is checked below
        and doc.get("type") not in ("stat", "statmark", "layout")  # layout: months the run spans
    }
    # Statistics entries' ids are random too (they name nobody): compared as a multiset.
    entries = [doc for doc, _ in store.docs.values() if doc.get("type") == "stat"]
    for doc, _ in store.docs.values():
        if doc.get("type") == "statmark":
            found[("users", doc["userId"], doc["id"])] = "mark"
    found[("desk", "stats", "*")] = json.dumps(
        sorted(
            json.dumps({k: v for k, v in d.items() if k != "id" and not k.startswith("_")})
            for d in entries
        )
    )
    return found


def audit_actions(store: MemoryStore) -> list[tuple[str, str]]:
    return sorted(
        (d["action"], d.get("userKey") or "")
        for (c, p, _), (d, _) in store.docs.items()
        if p.startswith("audit")
    )


steps = st.lists(
    st.one_of(
        st.tuples(st.just("purge"), st.sampled_from(["run1", "run2"]), st.sampled_from(["a", "b"])),
        st.tuples(st.just("event"), st.sampled_from(NAMES), st.integers(0, 2)),
    ),
    max_size=16,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedule=steps)
def test_interleaved_purges_and_events_end_as_purge_then_events(schedule) -> None:
    desk, store = prepare()
    sent: list[tuple[str, int]] = []
    for kind, who, which in schedule:
        if kind == "purge":
            desk.eraser.erase(USER_IDS[which])  # one user's step of one purge run
        elif (who, which) not in sent:
            sent.append((who, which))
            deliver(desk, LATER[who][which])
    desk.eraser.purge_suspended(grace_days=30, limit=100)  # both runs finish
    desk.eraser.purge_suspended(grace_days=30, limit=100)

    reference, reference_store = prepare()
    reference.eraser.purge_suspended(grace_days=30, limit=100)
    for who, which in sent:
        deliver(reference, LATER[who][which])

    assert snapshot(store) == snapshot(reference_store)
    for name in ("a", "b"):
        assert not any(
            USER_IDS[name] in json.dumps(doc, ensure_ascii=False) or key[1] == USER_IDS[name]
            for key, (doc, _) in store.docs.items()
        )
