"""The multi-instance kit: the desk as Azure Flex Consumption runs it, several instances at once.

`Cluster` starts two or three local hosts (`python -m devtools.host --port 0 --no-timers`, each
its own process and memory) on one store (one SQLite file, or one database on the Cosmos DB test
server) and one LINE simulator, and stands in for LINE's side of the webhook: `Dispatcher`
spreads signed webhook calls over the instances and, as LINE's webhook redelivery does,
redelivers every call answered 503 (or not answered) with `isRedelivery`, to the next instance,
until one answers 200. Timers run only where a test says (`run_timer(name, on=i)`).

What the instances share is exactly what production shares: the store and LINE. Nothing is
synchronised by sleeping: each host prints "ready" when it serves, and every check reads the
store or the simulator after the calls it depends on have been answered.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from devtools.linesim import BOT_USER_ID, LineSimulator, SimUser, sign
from tests.e2e.conftest import (
    FUNCTION_KEY,
    MASTER_KEY,
    SECRET,
    TOKEN,
    DeskStore,
    host_env,
    host_process,
)

# LINE gives up on an event after some hours of redelivery; the kit after this many attempts.
MAX_ATTEMPTS = 12


@dataclass
class Delivery:
    """One webhook call as LINE made it: its events, and the status of each attempt."""

    events: list[dict[str, Any]]
    statuses: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        """Did an instance finally answer 200?"""
        return bool(self.statuses) and self.statuses[-1] == 200


class Dispatcher:
    """LINE's webhook side for several instances: signs, spreads, redelivers 503s."""

    def __init__(self, urls: Sequence[str]) -> None:
        self._urls = list(urls)
        self._next = itertools.count()
        self._lock = threading.Lock()
        self.deliveries: list[Delivery] = []

    def deliver(
        self, *events: dict[str, Any], to: int | None = None, redelivery: bool = False
    ) -> Delivery:
        """Post one call to instance `to` (else the next in turn), then redeliver it to the
        following instances until one answers 200 (at most MAX_ATTEMPTS attempts);
        `redelivery`: the first attempt is a redelivery already."""
        delivery = Delivery(list(events))
        with self._lock:
            self.deliveries.append(delivery)
            first = next(self._next) if to is None else to
        for attempt in range(MAX_ATTEMPTS):
            body = self._body(delivery.events, redelivery=redelivery or attempt > 0)
            target = self._urls[(first + attempt) % len(self._urls)]
            started = time.monotonic()
            status = _post(target, body)
            delivery.seconds.append(time.monotonic() - started)
            delivery.statuses.append(status)
            if status == 200:
                break
        return delivery

    def post_once(self, *events: dict[str, Any], to: int) -> int:
        """One attempt only, to instance `to`: its status (0 when nothing answered)."""
        return _post(self._urls[to], self._body(list(events), redelivery=False))

    @staticmethod
    def _body(events: list[dict[str, Any]], *, redelivery: bool) -> bytes:
        sent = [
            {**e, "deliveryContext": {"isRedelivery": True}} if redelivery else e for e in events
        ]
        return json.dumps({"destination": BOT_USER_ID, "events": sent}).encode()

    def redelivered(self) -> int:
        """How many attempts were redeliveries."""
        return sum(len(d.statuses) - 1 for d in self.deliveries)

    def unanswered(self) -> list[Delivery]:
        """Calls no instance answered 200 within MAX_ATTEMPTS."""
        return [d for d in self.deliveries if not d.answered]


def _post(url: str, body: bytes) -> int:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "x-line-signature": sign(SECRET, body)},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        error.close()
        return int(error.code)
    except OSError:
        return 0  # no answer: LINE counts it as a failure and redelivers


@dataclass
class Cluster:
    """N instances of the desk on one store and one LINE."""

    urls: list[str]
    sim: LineSimulator
    store: DeskStore
    dispatcher: Dispatcher
    logs: list[Path]

    def user(self, name: str) -> SimUser:
        """A simulated LINE user (their events go through `dispatcher`)."""
        return self.sim.user(name)

    def consented(self, name: str) -> SimUser:
        """A user who followed and agreed to the current version, through instance 0; their
        inbox cleared."""
        user = self.user(name)
        status, policies = self.admin(0, "GET", "/api/admin/policies")
        assert status == 200, policies
        agree = f"action=consent&version={policies['current']}&answer=yes"
        self.dispatcher.deliver(user.follow_event(), user.postback_event(agree), to=0)
        self.sim.clear_inbox(user.user_id)
        return user

    def http(
        self,
        on: int,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """One request to instance `on`."""
        request = urllib.request.Request(
            self.urls[on] + path, data=body or None, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return int(answer.status), answer.read()
        except urllib.error.HTTPError as error:
            return int(error.code), error.read()

    def admin(self, on: int, method: str, path: str, payload: object = None) -> tuple[int, Any]:
        """An admin API call to instance `on`, its JSON answer decoded."""
        body = json.dumps(payload).encode() if payload is not None else b""
        headers = {"x-functions-key": FUNCTION_KEY, "Content-Type": "application/json"}
        status, answer = self.http(on, method, path, body, headers)
        return status, json.loads(answer) if answer else None

    def console(
        self, on: int, method: str, path: str, who: str, form: dict[str, str] | None = None
    ) -> int:
        """A console request to instance `on`, signed in as expert `who` (a same-site htmx
        POST when `form` is given); its status."""
        claims = [{"typ": "name", "val": who}, {"typ": "roles", "val": "Desk.Expert"}]
        principal = {"auth_typ": "aad", "name_typ": "name", "role_typ": "roles", "claims": claims}
        headers = {
            "x-ms-client-principal": base64.b64encode(json.dumps(principal).encode()).decode()
        }
        body = b""
        if form is not None:
            headers |= {
                "HX-Request": "true",
                "Origin": self.urls[on],
                "Sec-Fetch-Site": "same-origin",
                "Content-Type": "application/x-www-form-urlencoded",
            }
            body = urlencode(form).encode()
        return self.http(on, method, path, body, headers)[0]

    def run_timer(self, name: str, *, on: int) -> tuple[int, str]:
        """Run timer `name` on instance `on` now (answered once the run has finished)."""
        headers = {"x-functions-key": MASTER_KEY, "Content-Type": "application/json"}
        status, answer = self.http(on, "POST", f"/admin/functions/{name}", b"{}", headers)
        return status, answer.decode("utf-8")

    def documents(self, doc_type: str | None = None) -> list[dict[str, Any]]:
        """Every stored document (of one `type`), read behind the instances' backs."""
        found = self.store.documents()
        return [d for d in found if doc_type is None or d.get("type") == doc_type]

    def user_documents(self, user: SimUser, doc_type: str) -> list[dict[str, Any]]:
        """One user's stored documents of one type."""
        return [d for d in self.documents(doc_type) if d.get("userId") == user.user_id]


@contextmanager
def cluster(
    store: DeskStore, workdir: Path, *, instances: int = 3, settings: dict[str, str] | None = None
) -> Iterator[Cluster]:
    """Start `instances` hosts on `store` and a LINE simulator; stop them afterwards."""
    sim = LineSimulator(SECRET, TOKEN)
    sim.start()
    env = host_env(sim, store.env, settings or {})
    logs = [workdir / f"host{n}.log" for n in range(instances)]
    try:
        with ExitStack() as hosts:
            urls = [hosts.enter_context(host_process(env, log)) for log in logs]
            dispatcher = Dispatcher([f"{url}/api/line/webhook" for url in urls])
            yield Cluster(urls, sim, store, dispatcher, logs)
    finally:
        sim.stop()


def at_once(*calls: Callable[[], object]) -> list[object]:
    """Run `calls` on threads released together (a barrier, not a sleep); their results in
    order. What two instances doing something "at the same moment" means here."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
