"""Consultation sessions (policy §4): a user's conversation with the desk's experts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class SessionStatus(StrEnum):
    """Waiting for an expert, taken by one, or over."""

    WAITING = "waiting"
    ACTIVE = "active"
    CLOSED = "closed"


class Role(StrEnum):
    """Who wrote a message."""

    USER = "user"
    EXPERT = "expert"
    DESK = "desk"


@dataclass(frozen=True)
class Topic:
    """A consultation theme the user picks (data: shared/data/topics.json)."""

    topic_id: str
    label: str


@dataclass(frozen=True)
class Outcome:
    """How an expert closed a session (data: shared/data/outcomes.json)."""

    outcome_id: str
    label: str


@dataclass(frozen=True)
class Session:
    """One consultation. Its id sorts by opening time, so listings page by id."""

    session_id: str
    user_id: str
    topic: str
    status: SessionStatus
    opened_at: datetime
    assigned_to: str | None = None
    claimed_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    outcome: str | None = None
    etag: str | None = None

    @property
    def is_open(self) -> bool:
        """Not yet closed."""
        return self.status is not SessionStatus.CLOSED

    def claim(self, operator: str, now: datetime) -> Session:
        """Assigned to `operator`."""
        return replace(self, status=SessionStatus.ACTIVE, assigned_to=operator, claimed_at=now)

    def close(self, by: str, outcome: str | None, now: datetime) -> Session:
        """Over."""
        return replace(
            self, status=SessionStatus.CLOSED, closed_at=now, closed_by=by, outcome=outcome
        )


@dataclass(frozen=True)
class Message:
    """One message of a session. Stickers are kept as the word "sticker", never content."""

    message_id: str
    session_id: str
    user_id: str
    role: Role
    kind: str
    text: str | None
    at: datetime
    line_message_id: str | None = None
    author: str | None = None
    delivery: str | None = None
    delivery_detail: str | None = None
    unsent: bool = False
    position: int = 0


def session_id_for(event_id: str, opened_at: datetime) -> str:
    """`20251103T100000-3fa2c1`: sortable by time, the same for a redelivered event."""
    digest = hashlib.sha256(event_id.encode("utf-8")).hexdigest()[:6]
    return f"{opened_at:%Y%m%dT%H%M%S}-{digest}"
