"""Fakes of the desk's ports. The store fake passes the same contract tests as the adapters."""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from devtools.linesim import BOT_USER_ID
from shared.domain.messages import OutboundMessage, check_batch
from shared.errors import (
    AlertUnavailable,
    AlreadyExists,
    LineApiError,
    PreconditionFailed,
    ReplyTokenRejected,
)
from shared.ports import PARTITION_KEYS, Document, Filters, add_counts, field_name


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2025, 11, 3, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move forward by a timedelta's keyword arguments."""
        self.now += timedelta(**delta)


class MemoryStore:
    """A DocumentStore in a dict, with TTL and ETags, counting operations."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.docs: dict[tuple[str, str, str], tuple[Document, float | None]] = {}
        self.operations: list[str] = []
        self.fail_with: Exception | None = None
        self._failures: dict[str, list[Exception]] = {}
        self._mutex = threading.RLock()

    def fail_next(self, operation: str, error: Exception, times: int = 1) -> None:
        """Make the next `times` calls of `operation` (read, create, ...) raise `error`."""
        self._failures.setdefault(operation, []).extend([error] * times)

    def _live(self, key: tuple[str, str, str]) -> Document | None:
        entry = self.docs.get(key)
        if entry is None:
            return None
        doc, expires = entry
        if expires is not None and expires <= self.clock().timestamp():
            return None
        return doc

    def _op(self, name: str) -> None:
        self.operations.append(name)
        if self.fail_with is not None:
            raise self.fail_with
        if self._failures.get(name):
            raise self._failures[name].pop(0)

    def _key(self, container: str, doc: Document) -> tuple[str, str, str]:
        partition = doc.get(PARTITION_KEYS[container])
        if not isinstance(partition, str) or not partition or not isinstance(doc.get("id"), str):
            raise ValueError(f"a {container} document needs a string {PARTITION_KEYS[container]}")
        return (container, partition, doc["id"])

    def _put(self, key: tuple[str, str, str], doc: Document) -> Document:
        stored = {k: v for k, v in copy.deepcopy(doc).items() if not k.startswith("_")}
        now = self.clock().timestamp()
        stored["_etag"] = uuid.uuid4().hex
        stored["_ts"] = int(now)
        ttl = doc.get("ttl")
        self.docs[key] = (stored, now + ttl if isinstance(ttl, int) and ttl > 0 else None)
        return copy.deepcopy(stored)

    def read(self, container: str, partition: str, doc_id: str) -> Document | None:
        self._op("read")
        doc = self._live((container, partition, doc_id))
        return copy.deepcopy(doc) if doc is not None else None

    def create(self, container: str, doc: Document) -> Document:
        self._op("create")
        key = self._key(container, doc)
        with self._mutex:  # check and write at once, as every back end does (threads race)
            if self._live(key) is not None:
                raise AlreadyExists(None, "store_exists")
            return self._put(key, doc)

    def upsert(self, container: str, doc: Document) -> Document:
        self._op("upsert")
        return self._put(self._key(container, doc), doc)

    def increment(
        self,
        container: str,
        doc: Document,
        deltas: Mapping[str, int],
        sets: Mapping[str, Any] | None = None,
    ) -> Document:
        self._op("increment")
        key = self._key(container, doc)
        with self._mutex:  # atomic, as every back end's is (tests count from threads)
            current = self._live(key) or doc
            return self._put(key, add_counts(current, deltas, sets))

    def replace(self, container: str, doc: Document, *, etag: str) -> Document:
        self._op("replace")
        key = self._key(container, doc)
        with self._mutex:  # the ETag compared and the write made at once
            current = self._live(key)
            if current is None or current["_etag"] != etag:
                raise PreconditionFailed(None, "store_changed")
            return self._put(key, doc)

    def delete(self, container: str, partition: str, doc_id: str) -> bool:
        self._op("delete")
        key = (container, partition, doc_id)
        present = self._live(key) is not None
        self.docs.pop(key, None)
        return present

    def query_partition(
        self,
        container: str,
        partition: str,
        *,
        doc_type: str | None = None,
        where: Filters | None = None,
        after_id: str | None = None,
        limit: int | None = None,
    ) -> list[Document]:
        self._op("query")
        found = self._matching(container, partition, doc_type, where)
        found = [d for d in found if after_id is None or d["id"] > after_id]
        return found[:limit] if limit is not None else found

    def count_partition(
        self,
        container: str,
        partition: str,
        *,
        doc_type: str | None = None,
        where: Filters | None = None,
        before_id: str | None = None,
    ) -> int:
        self._op("count")
        found = self._matching(container, partition, doc_type, where)
        return sum(1 for d in found if before_id is None or d["id"] < before_id)

    def _matching(
        self, container: str, partition: str, doc_type: str | None, where: Filters | None
    ) -> list[Document]:
        filters = {**({"type": doc_type} if doc_type is not None else {}), **(where or {})}
        for name in filters:
            field_name(name)
        return [
            copy.deepcopy(doc)
            for (c, p, i) in sorted(self.docs)
            if c == container
            and p == partition
            and (doc := self._live((c, p, i))) is not None
            and all(doc.get(k) == v for k, v in filters.items())
        ]

    def delete_partition(self, container: str, partition: str, *, keep: str | None = None) -> int:
        self._op("delete_partition")
        doomed = [k for k in self.docs if k[0] == container and k[1] == partition and k[2] != keep]
        live = sum(self._live(k) is not None for k in doomed)
        for key in doomed:
            del self.docs[key]
        return live

    def compact(self) -> None:
        self._op("compact")

    def purge_expired(self) -> int:
        self._op("purge")
        expired = [k for k in self.docs if self._live(k) is None]
        for key in expired:
            del self.docs[key]
        return len(expired)


@dataclass
class SentMessage:
    """One call the fake messenger accepted."""

    via: str
    to: str
    messages: tuple[OutboundMessage, ...]
    retry_key: str | None = None


@dataclass
class FakeMessenger:
    """A LineMessenger that records what it sends and fails on request.

    `reply_failures` / `push_failures` / `bot_info_failures` are consumed one per call: each
    is the exception to raise. Retry keys behave like LINE's: a repeat of an accepted key
    sends nothing.
    """

    sent: list[SentMessage] = field(default_factory=list)
    reply_failures: list[Exception] = field(default_factory=list)
    push_failures: list[Exception] = field(default_factory=list)
    bot_info_failures: list[Exception] = field(default_factory=list)
    accepted_keys: set[str] = field(default_factory=set)
    used_tokens: set[str] = field(default_factory=set)
    loading: list[tuple[str, int]] = field(default_factory=list)

    def show_loading(self, user_id: str, seconds: int) -> None:
        if not 5 <= seconds <= 60 or seconds % 5:
            raise LineApiError("loadingSeconds: 5 to 60 in steps of 5", http_status=400)
        self.loading.append((user_id, seconds))

    def reply(self, reply_token: str, messages: tuple[OutboundMessage, ...]) -> None:
        check_batch(messages)
        if self.reply_failures:
            raise self.reply_failures.pop(0)
        if reply_token in self.used_tokens:
            raise ReplyTokenRejected("used", http_status=400)
        self.used_tokens.add(reply_token)
        self.sent.append(SentMessage("reply", reply_token, messages))

    def push(self, user_id: str, messages: tuple[OutboundMessage, ...], retry_key: str) -> None:
        check_batch(messages)
        if self.push_failures:
            raise self.push_failures.pop(0)
        if retry_key in self.accepted_keys:
            return
        self.accepted_keys.add(retry_key)
        self.sent.append(SentMessage("push", user_id, messages, retry_key))

    def bot_user_id(self) -> str:
        """The simulated channel's bot (what the simulator's events name as destination)."""
        if self.bot_info_failures:
            raise self.bot_info_failures.pop(0)
        return BOT_USER_ID

    def texts(self) -> list[str]:
        """Every text sent, in order."""
        return [m.text for s in self.sent for m in s.messages]


def line_down(status: int = 500) -> LineApiError:
    """The error the LINE adapter raises when LINE answers `status`."""
    return LineApiError(f"LINE failed with HTTP {status}", http_status=status)


@dataclass
class FakeAlerts:
    """The supervisors' alert webhook: records what it was sent; `down` makes it refuse."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)
    down: bool = False

    def send(self, reference: str, reason: str, text: str) -> None:
        """Record one alert, or refuse it while `down`."""
        if self.down:
            raise AlertUnavailable("alert webhook answered 500")
        self.sent.append((reference, reason, text))
