"""Prohibited acts (policy §8) and what operators do about them (§9): flags, restrictions,
suspensions."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from shared.domain.screening import Finding

CLAUSES = tuple(f"8({n})" for n in range(1, 11))

# Operators type clauses as they read them in the policy: `8(3)`, `§8(3)`, or with the
# full-width digits and parentheses of Japanese text (`８(３)`, `§８（３）`). One form is stored.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９（）", "0123456789()")
_CLAUSE = re.compile(r"§?8\((?:[1-9]|10)\)")


def normalise_clause(value: object) -> str | None:
    """The clause of §8 in its one stored form (`8(3)`), or None if `value` is not one."""
    if not isinstance(value, str):
        return None
    text = value.translate(_FULL_WIDTH)
    if _CLAUSE.fullmatch(text) is None:
        return None
    return text.removeprefix("§")


class FlagStatus(StrEnum):
    """A flag waits for review until someone dismisses it or acts on the user."""

    OPEN = "open"
    DISMISSED = "dismissed"
    ACTIONED = "actioned"


class FlagAction(StrEnum):
    """What an operator did about the user of a flag."""

    SUSPEND = "suspend"
    RESTRICT = "restrict"


@dataclass(frozen=True)
class Flag:
    """A message or behaviour for people to review, with every reason found in it (one flag
    per message, however many rules matched). Never a copy of the text."""

    flag_id: str
    user_id: str
    reasons: tuple[Finding, ...]
    created_at: datetime
    message_ref: str | None = None
    session_id: str | None = None
    status: FlagStatus = FlagStatus.OPEN
    dismissed_by: str | None = None
    dismissed_at: datetime | None = None
    actioned_by: str | None = None
    actioned_at: datetime | None = None
    action: FlagAction | None = None
    etag: str | None = None

    @property
    def clauses(self) -> tuple[str, ...]:
        """The clauses of §8 the reasons cite, each once, in the order found."""
        return tuple(dict.fromkeys(r.clause for r in self.reasons))

    @property
    def clause(self) -> str:
        """The first clause cited (what a one-line view shows)."""
        return self.reasons[0].clause if self.reasons else ""

    def dismiss(self, by: str, now: datetime) -> Flag:
        """Reviewed: nothing to do."""
        return replace(self, status=FlagStatus.DISMISSED, dismissed_by=by, dismissed_at=now)

    def actioned(self, action: FlagAction, by: str, now: datetime) -> Flag:
        """Closed by an operator's action on the user (a suspension or a restriction)."""
        return replace(
            self, status=FlagStatus.ACTIONED, action=action, actioned_by=by, actioned_at=now
        )


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
