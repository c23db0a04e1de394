"""Two instances, one user (issue 20, defect 1): a text handled on one instance while a topic
tap opens the session on another must end up in that session, once, and only what is true is
said to the user."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.config import settings_from
from shared.domain.consent import JST
from shared.errors import StoreUnavailable
from shared.ports import DESK, USERS
from shared.texts.catalogue import load_catalogue
from shared.wiring import Desk, build_desk
from tests.kit.admin_api import api
from tests.kit.fakes import FakeClock, FakeMessenger, MemoryStore
from tests.unit.conftest import SECRET, consented, deliver

TEXTS = load_catalogue()


class InterleavingStore(MemoryStore):
    """Runs `between` once, right after the next write of a message kept as a draft: what the
    other instance does while this one still holds the user record it read."""

    between: Callable[[], object] | None = None

    def create(self, container: str, doc: dict[str, Any]) -> dict[str, Any]:
        created = super().create(container, doc)
        if doc.get("sessionId") == "draft" and self.between is not None:
            hook, self.between = self.between, None
            hook()
        return created


def instance(
    store: MemoryStore, line: FakeMessenger, clock: FakeClock, *, waits: bool = False
) -> Desk:
    """One instance over the shared store; with `waits`, the desk's waits pass on the clock."""
    settings = settings_from(
        {
            "DESK_ENVIRONMENT": "Development",
            "LINE_API_BASE_URL": "http://127.0.0.1:9",
            "LINE_CHANNEL_SECRET": SECRET,
        }
    )
    sleep = (lambda s: clock.advance(seconds=s)) if waits else (lambda _: None)
    return build_desk(settings, store, line, clock, sleep=sleep)


def session_texts(store: MemoryStore, user_id: str) -> dict[str, list[str]]:
    """The user's stored texts by the session they are filed in."""
    filed: dict[str, list[str]] = {}
    for doc in store.query_partition(USERS, user_id, doc_type="message"):
        filed.setdefault(doc["sessionId"], []).append(doc["text"])
    return filed


def stored(store: MemoryStore, container: str, partition: str, doc_id: str) -> dict[str, Any]:
    found = store.read(container, partition, doc_id)
    assert found is not None
    return found


def redelivered(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "deliveryContext": {"isRedelivery": True}}


def test_a_text_sent_while_a_topic_tap_opens_the_session_elsewhere_is_filed_in_it(sim) -> None:
    clock = FakeClock()
    store, line = InterleavingStore(clock), FakeMessenger()
    a, b = instance(store, line, clock), instance(store, line, clock)
    user = consented(a, sim, line)
    tap = user.postback_event("action=topic&topic=job-change")
    text = user.text_event("転職を考えています")
    store.between = lambda: deliver(a, tap)  # the tap lands on A while B holds the record
    first = deliver(b, text)
    if first.failed:  # LINE redelivers what was answered 503
        deliver(b, redelivered(text))
    pointer = stored(store, USERS, user.user_id, "user")["openSessionId"]
    assert session_texts(store, user.user_id) == {pointer: ["転職を考えています"]}


def test_the_text_is_not_told_to_choose_a_topic_once_the_session_is_open(sim) -> None:
    clock = FakeClock()
    store, line = InterleavingStore(clock), FakeMessenger()
    a, b = instance(store, line, clock), instance(store, line, clock)
    user = consented(a, sim, line)
    tap = user.postback_event("action=topic&topic=job-change")
    text = user.text_event("転職を考えています")
    store.between = lambda: deliver(a, tap)
    result = deliver(b, text)
    if result.failed:
        deliver(b, redelivered(text))
    said = "\n".join(line.texts())
    assert "下のテーマを選ぶと" not in said  # the draft notice would be untrue now
    assert "メッセージを受け付けました" in said  # the session's first message is acknowledged


def test_a_draft_kept_by_a_failed_attempt_is_filed_by_the_redelivery_after_a_topic_tap(
    sim,
) -> None:
    clock = FakeClock()
    store, line = InterleavingStore(clock), FakeMessenger()
    a, b = instance(store, line, clock), instance(store, line, clock)
    user = consented(a, sim, line)
    text = user.text_event("転職を考えています")
    store.between = lambda: store.fail_next("replace", StoreUnavailable("store down"))
    assert deliver(b, text).failed == 1  # kept as a draft, then the record's save failed
    deliver(a, user.postback_event("action=topic&topic=job-change"))
    deliver(b, redelivered(text))
    pointer = stored(store, USERS, user.user_id, "user")["openSessionId"]
    assert session_texts(store, user.user_id) == {pointer: ["転職を考えています"]}


def test_a_crisis_text_sent_while_the_session_opens_elsewhere_reaches_the_session(sim) -> None:
    clock = FakeClock()
    store, line = InterleavingStore(clock), FakeMessenger()
    a, b = instance(store, line, clock), instance(store, line, clock)
    user = consented(a, sim, line)
    tap = user.postback_event("action=topic&topic=job-change")
    text = user.text_event("もう死にたいです")
    store.between = lambda: deliver(a, tap)
    if deliver(b, text).failed:
        deliver(b, redelivered(text))
    pointer = stored(store, USERS, user.user_id, "user")["openSessionId"]
    assert session_texts(store, user.user_id) == {pointer: ["もう死にたいです"]}
    session = stored(store, DESK, "sessions:open", pointer)
    assert session["urgent"] is True


def test_a_flood_spread_over_three_instances_meets_one_limit_and_one_notice(sim) -> None:
    """Issue 20, defect 5: 60 texts in 20 s against the default 20 a minute."""
    clock = FakeClock()
    store, line = InterleavingStore(clock), FakeMessenger()
    desks = [instance(store, line, clock) for _ in range(3)]
    user = consented(desks[0], sim, line)
    deliver(desks[0], user.postback_event("action=topic&topic=job-change"))
    clock.advance(minutes=2)
    line.sent.clear()
    for n in range(60):
        deliver(desks[n % 3], user.text_event(f"連投{n}"))
        clock.advance(seconds=1 / 3)
    stored = store.query_partition(USERS, user.user_id, doc_type="message")
    assert len(stored) == 20
    assert line.texts().count(TEXTS.text("flood_notice")) == 1


def test_once_maintenance_is_answered_no_instance_files_a_text(sim) -> None:
    """Issue 20, defect 4 (§7): B kept the open status a moment ago; A's change answers only
    once B acts on it, so B's next text gets the maintenance notice and nothing is filed."""
    clock = FakeClock()
    store, line = InterleavingStore(clock), FakeMessenger()
    a, b = (instance(store, line, clock, waits=True) for _ in range(2))
    user = consented(a, sim, line)
    deliver(b, user.postback_event("action=topic&topic=job-change"))  # B reads "open"
    before = len(store.query_partition(USERS, user.user_id, doc_type="message"))
    api(a).status.change({"state": "maintenance"}, "運用者A")
    line.sent.clear()
    deliver(b, user.text_event("メンテナンス中に送ります"))
    assert len(store.query_partition(USERS, user.user_id, doc_type="message")) == before
    assert "メンテナンス" in "".join(line.texts())


def test_once_reopening_is_answered_no_instance_says_the_desk_is_closed(sim) -> None:
    clock = FakeClock()
    store, line = InterleavingStore(clock), FakeMessenger()
    a, b = (instance(store, line, clock, waits=True) for _ in range(2))
    api(a).status.change({"state": "maintenance"}, "運用者A")
    deliver(b, sim.user("first").follow_event())  # B keeps "maintenance"
    api(a).status.change({"state": "open"}, "運用者A")
    line.sent.clear()
    deliver(b, sim.user("second").follow_event())
    assert "メンテナンス" not in "".join(line.texts())


def test_once_a_policy_needing_agreement_is_answered_no_text_is_filed_under_the_old_one(
    sim,
) -> None:
    """Issue 20, defect 4 (§12): a same-day version that needs explicit agreement."""
    clock = FakeClock()
    store, line = InterleavingStore(clock), FakeMessenger()
    a, b = (instance(store, line, clock, waits=True) for _ in range(2))
    user = consented(a, sim, line)
    deliver(b, user.postback_event("action=topic&topic=job-change"))  # B keeps the versions
    before = len(store.query_partition(USERS, user.user_id, doc_type="message"))
    today = clock().astimezone(JST).date().isoformat()
    version = {
        "versionId": today,
        "effectiveDate": today,
        "url": "https://policy.example/new",
        "text": "改定後の運用ポリシー",
        "requiresExplicit": True,
    }
    api(a).admin.register_policy(version, "運用者A")
    deliver(b, user.text_event("新しい規約の後に送ります"))
    assert len(store.query_partition(USERS, user.user_id, doc_type="message")) == before


def test_a_message_whose_attempt_failed_counts_once_against_the_flood_limits(sim) -> None:
    """Issue 20, defect 5: LINE redelivers what failed; the failed attempt takes its count
    back, so a user whose calls fail is not cut off sooner than one whose calls do not."""
    clock = FakeClock()
    store, line = InterleavingStore(clock), FakeMessenger()
    desk = instance(store, line, clock)
    clean, failing = consented(desk, sim, line, "clean"), consented(desk, sim, line, "failing")
    for user in (clean, failing):
        deliver(desk, user.postback_event("action=topic&topic=job-change"))
        deliver(desk, user.text_event("はじめまして"))
    deliver(desk, clean.text_event("二通目です"))
    text = failing.text_event("二通目です")
    store.fail_next("create", StoreUnavailable("store down"))  # the message's write fails
    assert deliver(desk, text).failed == 1
    deliver(desk, redelivered(text))

    def counted(user: Any) -> int:
        (flood,) = [d for d in store.query_partition(USERS, user.user_id) if d["type"] == "flood"]
        return int(flood["n"])

    assert counted(failing) == counted(clean)


def test_a_redelivered_duplicate_does_not_count_again(sim) -> None:
    """LINE redelivers a call whose 200 it never saw: the message is there already, and the
    flood counts stay as they were."""
    clock = FakeClock()
    store, line = InterleavingStore(clock), FakeMessenger()
    desk = instance(store, line, clock)
    user = consented(desk, sim, line)
    deliver(desk, user.postback_event("action=topic&topic=job-change"))
    text = user.text_event("一通目です")
    deliver(desk, text)
    (before,) = [d["n"] for d in store.query_partition(USERS, user.user_id) if d["type"] == "flood"]
    assert deliver(desk, redelivered(text)).counts == {"duplicate": 1}
    (after,) = [d["n"] for d in store.query_partition(USERS, user.user_id) if d["type"] == "flood"]
    assert after == before
