"""Prohibited acts (policy §8) and what operators do about them (§9): flags, restrictions,
suspensions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

CLAUSES = tuple(f"8({n})" for n in range(1, 11))


class FlagStatus(StrEnum):
    """A flag waits for review until someone dismisses it (or acts on the user)."""

    OPEN = "open"
    DISMISSED = "dismissed"


@dataclass(frozen=True)
class Flag:
    """A message or behaviour for people to review. Never a copy of the text."""

    flag_id: str
    user_id: str
    clause: str
    reason: str
    created_at: datetime
    message_ref: str | None = None
    session_id: str | None = None
    status: FlagStatus = FlagStatus.OPEN
    dismissed_by: str | None = None
    dismissed_at: datetime | None = None
    etag: str | None = None

    def dismiss(self, by: str, now: datetime) -> Flag:
        """Reviewed: nothing to do."""
        return replace(self, status=FlagStatus.DISMISSED, dismissed_by=by, dismissed_at=now)


def flag_id_for(key: str, clause: str, reason: str, at: datetime) -> str:
    """Sortable by time; the same for a redelivered event (or the same day's flood)."""
    digest = hashlib.sha256(f"{key}|{clause}|{reason}".encode()).hexdigest()[:10]
    return f"{at:%Y%m%dT%H%M%S}-{digest}"


class RestrictionMode(StrEnum):
    """How a restricted user may still use the desk."""

    TEXT_ONLY = "text_only"
    READ_ONLY = "read_only"
    LOWER_LIMIT = "lower_limit"


@dataclass(frozen=True)
class Restriction:
    """A limit an operator put on a user, until a time or until lifted."""

    mode: RestrictionMode
    until: datetime | None = None
    per_minute: int | None = None
    per_day: int | None = None

    def active(self, now: datetime) -> bool:
        """Still in force?"""
        return self.until is None or now < self.until
