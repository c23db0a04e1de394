"""The ports the services depend on. Adapters implement them; tests pass hand-written fakes.

Documents are plain JSON-able dicts. Each container has one partition-key field, and everything
that belongs to one LINE user lives in the `users` container under `userId`, so reading a user's
state is a point read and erasing a user touches one logical partition.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from shared.domain.events import DecodedBody
from shared.domain.messages import OutboundMessage

Document = dict[str, Any]
Filters = Mapping[str, str | int | bool]
"""Equality filters on top-level fields (names are code constants, values are parameters)."""

USERS = "users"
"""Per-user records, partitioned by `/userId`."""
DESK = "desk"
"""Desk-wide records (policies, service status, audit), partitioned by `/pk`."""

PARTITION_KEYS: dict[str, str] = {USERS: "userId", DESK: "pk"}

_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


def add_counts(
    doc: Document, deltas: Mapping[str, int], sets: Mapping[str, Any] | None = None
) -> Document:
    """`doc` with `deltas` added to its numeric fields (missing ones count as 0) and the fields
    of `sets` set: what `DocumentStore.increment` stores, for the back ends that compute it."""
    changed = {**doc, **(sets or {})}
    for name, delta in deltas.items():
        changed[name] = int(changed.get(name) or 0) + delta
    return changed


def field_name(name: str) -> str:
    """A filter's field name, checked: adapters put it into query text, never a value."""
    if not _FIELD_NAME.match(name):
        raise ValueError(f"not a plain field name: {name!r}")
    return name


class DocumentStore(Protocol):
    """A partitioned JSON document store with Cosmos DB's semantics.

    Writes return the stored document with a fresh `_etag`. A document with an integer `ttl`
    (seconds) is gone that long after its last write, as with Cosmos DB's per-item TTL.
    """

    def read(self, container: str, partition: str, doc_id: str) -> Document | None:
        """Point read; None when absent or expired."""
        ...

    def create(self, container: str, doc: Document) -> Document:
        """Insert; raises AlreadyExists when the id is taken in that partition."""
        ...

    def upsert(self, container: str, doc: Document) -> Document:
        """Insert or overwrite."""
        ...

    def replace(self, container: str, doc: Document, *, etag: str) -> Document:
        """Overwrite only if the stored `_etag` still equals `etag` (else PreconditionFailed)."""
        ...

    def delete(self, container: str, partition: str, doc_id: str) -> bool:
        """Remove one document; False when it was not there."""
        ...

    def increment(
        self,
        container: str,
        doc: Document,
        deltas: Mapping[str, int],
        sets: Mapping[str, Any] | None = None,
    ) -> Document:
        """Add `deltas` to numeric top-level fields of the document with `doc`'s id (a missing
        field counts as 0) and set the top-level fields of `sets`, atomically, in one
        operation (at most 10 fields in all); the document is created from `doc` when
        absent. Returns the document as stored after the change, so that of two increments
        at once each sees its own total (Cosmos DB: a patch with `incr` and `set`)."""
        ...

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
        """Live documents of one partition, ordered by id: optionally of one `type`, whose
        fields equal `where`, with ids after `after_id` (keyset paging), at most `limit`."""
        ...

    def count_partition(
        self,
        container: str,
        partition: str,
        *,
        doc_type: str | None = None,
        where: Filters | None = None,
        before_id: str | None = None,
    ) -> int:
        """How many documents `query_partition` would return (without transferring them);
        with `before_id`, only those whose id sorts before it (a place in a queue)."""
        ...

    def delete_partition(self, container: str, partition: str, *, keep: str | None = None) -> int:
        """Remove every document of one partition except the one with id `keep`; returns how
        many went. Idempotent: a second call after a failure finishes the job."""
        ...

    def compact(self) -> None:
        """Make deletions physical where the back end keeps copies (SQLite's write-ahead log
        and free pages); nothing to do on Cosmos DB."""
        ...

    def purge_expired(self) -> int:
        """Physically remove expired documents where the back end does not (0 where it does)."""
        ...


class LineMessenger(Protocol):
    """The slice of the LINE Messaging API the desk uses."""

    def reply(self, reply_token: str, messages: tuple[OutboundMessage, ...]) -> None:
        """Answer with a reply token (free); ReplyTokenRejected when LINE refuses the token."""
        ...

    def show_loading(self, user_id: str, seconds: int) -> None:
        """Show LINE's loading animation in a one-to-one chat (5-60 s, in steps of 5)."""
        ...

    def push(self, user_id: str, messages: tuple[OutboundMessage, ...], retry_key: str) -> None:
        """Push to a user (counts against the quota); a repeated retry key is a success."""
        ...

    def bot_user_id(self) -> str:
        """The channel's bot user id (`GET /v2/bot/info`), what LINE names as `destination`."""
        ...


@runtime_checkable
class RichMenuApi(Protocol):
    """The rich-menu slice of the Messaging API (per-user menus, aliases)."""

    def rich_menu_id(self, alias: str) -> str | None:
        """The menu an alias points at, None if there is no such alias."""
        ...

    def link_rich_menu(self, user_id: str, rich_menu_id: str) -> None:
        """Show `rich_menu_id` to this user."""
        ...

    def unlink_rich_menu(self, user_id: str) -> None:
        """Show this user the default menu again."""
        ...


class SessionMenus(Protocol):
    """Shows the consultation rich menu while a user's session is open. Never raises: a
    failure to link must not fail the user's event."""

    def session_opened(self, user_id: str) -> None:
        """Link the consultation menu (alias `desk-session`) to the user."""
        ...

    def session_closed(self, user_id: str) -> None:
        """Unlink the user's menu: the default menu shows again."""
        ...


class EventDecoder(Protocol):
    """Turns a raw webhook request into events, refusing anything not signed by LINE."""

    def decode(self, body: bytes, signature: str | None) -> DecodedBody:
        """Verify the signature over the raw body, then parse; SignatureError/MalformedPayload."""
        ...


class AlertSender(Protocol):
    """Tells the supervisors about a case outside the console (an incoming webhook)."""

    def send(self, reference: str, reason: str, text: str) -> None:
        """Post one alert: the case's reference, the reason's code and the Japanese line
        (never a message's text); AlertUnavailable when the receiver does not take it."""
        ...


Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware (UTC)."""


@dataclass(frozen=True)
class PushQuota:
    """This month's push quota and consumption (counts only: nothing about any user)."""

    limit: int | None
    """The monthly limit; None when the channel has none (LINE's `type: none`)."""
    used: int

    @property
    def percent(self) -> float | None:
        """Consumption as a percentage of the limit (None without a limit)."""
        if self.limit is None or self.limit <= 0:
            return None
        return 100.0 * self.used / self.limit


@runtime_checkable
class PushQuotaSource(Protocol):
    """Reads LINE's monthly push quota (the LINE adapter implements it)."""

    def push_quota(self) -> PushQuota:
        """This month's limit and consumption; LineApiError when LINE cannot say."""
        ...
