"""Two deliveries at once (issue 20, defect 2): an answer LINE did not take is carried by the
next delivery to the session; two deliveries at the same moment (two tabs, or 送信 then 終了 on
two instances) must not both carry it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.config import settings_from
from shared.ports import USERS
from shared.wiring import Desk, build_desk
from tests.kit.admin_api import api
from tests.kit.fakes import FakeClock, FakeMessenger, MemoryStore, line_down
from tests.unit.conftest import SECRET, open_session


class InterleavingStore(MemoryStore):
    """Runs `between` once, right after the next read of a session's messages: the other
    instance's delivery, after this one saw what is pending and before it sends."""

    between: Callable[[], object] | None = None

    def query_partition(self, container: str, partition: str, **kwargs: Any) -> Any:
        found = super().query_partition(container, partition, **kwargs)
        if container == USERS and kwargs.get("doc_type") == "message" and self.between:
            hook, self.between = self.between, None
            hook()
        return found


def instance(store: MemoryStore, line: FakeMessenger, clock: FakeClock) -> Desk:
    settings = settings_from(
        {
            "DESK_ENVIRONMENT": "Development",
            "LINE_API_BASE_URL": "http://127.0.0.1:9",
            "LINE_CHANNEL_SECRET": SECRET,
        }
    )
    return build_desk(settings, store, line, clock, sleep=lambda _: None)


def a_failed_answer(sim: Any) -> tuple[InterleavingStore, FakeMessenger, Desk, Desk, str]:
    """Two instances; the session's first answer was refused by LINE (pending)."""
    clock = FakeClock()
    store, line = InterleavingStore(clock), FakeMessenger()
    a, b = instance(store, line, clock), instance(store, line, clock)
    open_session(a, sim, line)
    (session,) = api(a).experts.queue("waiting", None, 50)["sessions"]
    session_id = session["sessionId"]
    clock.advance(minutes=5)  # past the reply window: answers are pushed
    line.push_failures.extend([line_down(500)] * 4)
    refused = api(a).experts.send(session_id, "田中", {"text": "一つ目の回答です。"})
    assert refused["accepted"] is False
    clock.advance(seconds=1)
    return store, line, a, b, session_id


def test_two_answers_at_once_carry_the_pending_answer_once(sim) -> None:
    store, line, a, b, session_id = a_failed_answer(sim)
    store.between = lambda: api(b).experts.send(session_id, "田中", {"text": "三つ目です。"})
    api(a).experts.send(session_id, "田中", {"text": "二つ目です。"})
    texts = line.texts()
    assert texts.count("一つ目の回答です。") == 1
    assert {"二つ目です。", "三つ目です。"} <= set(texts)
    detail = api(a).experts.detail(session_id, "田中")
    assert [m["delivery"] for m in detail["messages"] if m["role"] == "expert"] == ["accepted"] * 3


def test_an_answer_and_a_close_at_once_carry_the_pending_answer_once(sim) -> None:
    store, line, a, b, session_id = a_failed_answer(sim)
    close = {"outcome": "information"}
    store.between = lambda: api(b).experts.close(session_id, "田中", close)
    api(a).experts.send(session_id, "田中", {"text": "二つ目です。"})
    assert line.texts().count("一つ目の回答です。") == 1


def test_a_delivery_line_refuses_leaves_the_answer_pending_for_the_next(sim) -> None:
    store, line, a, b, session_id = a_failed_answer(sim)
    line.push_failures.extend([line_down(500)] * 4)
    store.clock.advance(seconds=1)
    api(b).experts.send(session_id, "田中", {"text": "二つ目です。"})  # refused too
    assert line.texts() == []
    store.clock.advance(seconds=1)
    api(a).experts.send(session_id, "田中", {"text": "三つ目です。"})
    assert line.texts() == ["一つ目の回答です。", "二つ目です。", "三つ目です。"]
