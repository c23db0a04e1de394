"""The desk's own model of LINE webhook events, converted from line-bot-sdk at the edge."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

_LINE_USER_ID = re.compile(r"U[0-9a-f]{32}")

# The latest moment a `datetime` can hold: a timestamp beyond it (the year 10000) cannot be
# read as a time at all, so such an event is unreadable.
MAX_TIMESTAMP_MS = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp() * 1000)


def is_line_user_id(value: str) -> bool:
    """True for the form LINE gives user ids: `U` and 32 lowercase hex digits, nothing else."""
    return _LINE_USER_ID.fullmatch(value) is not None


def is_readable_timestamp(value: int) -> bool:
    """True for a webhook timestamp (milliseconds since the epoch) a `datetime` can hold."""
    return 0 <= value <= MAX_TIMESTAMP_MS


class SourceKind(StrEnum):
    """Where an event came from: a one-to-one chat, a group or a multi-person room."""

    USER = "user"
    GROUP = "group"
    ROOM = "room"
    OTHER = "other"


class MediaKind(StrEnum):
    """Message kinds whose content the desk never downloads."""

    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    FILE = "file"


@dataclass(frozen=True)
class Source:
    """The sender. `user_id` may be absent in groups when the user has not consented to LINE."""

    kind: SourceKind
    user_id: str | None
    chat_id: str | None = None

    @property
    def is_one_to_one(self) -> bool:
        """True when the desk may consult: a user writing to the account directly."""
        return self.kind is SourceKind.USER and self.user_id is not None

    @property
    def partition(self) -> str:
        """The id under which this source's records are kept (the user, else the chat)."""
        return self.user_id or self.chat_id or "unknown"


@dataclass(frozen=True)
class EventMeta:
    """What every webhook event carries."""

    event_id: str
    event_type: str
    timestamp_ms: int
    source: Source
    is_redelivery: bool = False
    standby: bool = False
    reply_token: str | None = None
    position: int = 0
    """Index in its webhook call: orders events that share a millisecond timestamp."""


@dataclass(frozen=True)
class FollowEvent:
    """The user added the account as a friend, or unblocked it."""

    meta: EventMeta
    is_unblocked: bool = False


@dataclass(frozen=True)
class UnfollowEvent:
    """The user blocked the account."""

    meta: EventMeta


@dataclass(frozen=True)
class TextMessageEvent:
    """A text message."""

    meta: EventMeta
    message_id: str
    text: str


@dataclass(frozen=True)
class StickerMessageEvent:
    """A sticker: the desk keeps only the fact that one was sent."""

    meta: EventMeta
    message_id: str


@dataclass(frozen=True)
class MediaMessageEvent:
    """An image, video, audio clip or file: refused, never downloaded (policy §8(4))."""

    meta: EventMeta
    message_id: str
    kind: MediaKind


@dataclass(frozen=True)
class OtherMessageEvent:
    """A location or any message kind the desk does not handle."""

    meta: EventMeta
    message_id: str
    kind: str


@dataclass(frozen=True)
class PostbackEvent:
    """A button press carrying `data` (and, for pickers, `params`)."""

    meta: EventMeta
    data: str
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class UnsendEvent:
    """The user unsent an earlier message."""

    meta: EventMeta
    message_id: str


@dataclass(frozen=True)
class OtherEvent:
    """An event type the desk does not act on (join, beacon, or one LINE added later)."""

    meta: EventMeta


Event = (
    FollowEvent
    | UnfollowEvent
    | TextMessageEvent
    | StickerMessageEvent
    | MediaMessageEvent
    | OtherMessageEvent
    | PostbackEvent
    | UnsendEvent
    | OtherEvent
)


@dataclass(frozen=True)
class DecodedBody:
    """The events of one webhook call, and those skipped at parsing, counted by reason:
    `unreadable` (malformed, a lone surrogate, a timestamp no clock can hold) and
    `bad_user_id` (a `userId` not of LINE's form). `destination` is the bot user id LINE
    addressed the call to (None when absent)."""

    events: list[Event]
    unreadable: int = 0
    bad_user_id: int = 0
    destination: str | None = None
