"""JSON of the moderation family: flags, suspensions and restrictions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain.moderation import (
    CLAUSES,
    Flag,
    FlagStatus,
    Restriction,
    RestrictionMode,
    normalise_clause,
)
from shared.domain.users import UserRecord
from shared.errors import ValidationError
from shared.repositories.paging import Page
from shared.repositories.timestamps import iso_or_none
from shared.services.moderation.actions import MAX_DAYS, Restrict, Sanctioned, Suspend
from shared.services.privacy.erasure import RequestedErasure


def flag_status(raw: str | None) -> FlagStatus:
    """`?status=` of the flag listing (open when absent)."""
    try:
        return FlagStatus(raw or "open")
    except ValueError:
        choices = ", ".join(s.value for s in FlagStatus)
        raise ValidationError("status", "one_of", choices=choices) from None


def suspend_command(body: Mapping[str, Any]) -> Suspend:
    """`{"clause": "8(3)" | "§8(3)" | "８(３)", "reason": ...}`."""
    clause = normalise_clause(body.get("clause"))
    if clause is None:
        raise ValidationError("clause", "clause", clauses=", ".join(CLAUSES))
    reason = body.get("reason")
    if not isinstance(reason, str):
        reason = ""  # refused by Suspend, naming the field
    return Suspend(clause, reason.strip())


def restrict_command(body: Mapping[str, Any]) -> Restrict:
    """`{"mode": text_only|read_only|lower_limit, "days"?, "perMinute"?, "perDay"?}`."""
    try:
        mode = RestrictionMode(str(body.get("mode")))
    except ValueError:
        choices = ", ".join(m.value for m in RestrictionMode)
        raise ValidationError("mode", "one_of", choices=choices) from None
    days = body.get("days")
    if days is not None and not (_whole(days) and 1 <= days <= MAX_DAYS):
        raise ValidationError("days", "days", max=MAX_DAYS)
    limits = {}
    for name in ("perMinute", "perDay"):
        value = body.get(name)
        if mode is RestrictionMode.LOWER_LIMIT and not _whole(value):
            raise ValidationError(name, "positive_for_mode", mode=mode.value)
        limits[name] = value if _whole(value) else None
    return Restrict(mode, days, limits["perMinute"], limits["perDay"])


def flag_json(flag: Flag) -> dict[str, Any]:
    """A flag for review: the reference of the message, never its text."""
    return {
        "flagId": flag.flag_id,
        "userId": flag.user_id,
        "clause": flag.clause,
        "clauses": list(flag.clauses),
        "reason": "; ".join(r.reason for r in flag.reasons),
        "reasons": [{"clause": r.clause, "reason": r.reason} for r in flag.reasons],
        "createdAt": flag.created_at.isoformat(),
        "messageRef": flag.message_ref,
        "sessionId": flag.session_id,
        "status": flag.status.value,
        "dismissedBy": flag.dismissed_by,
        "dismissedAt": iso_or_none(flag.dismissed_at),
        "action": flag.action.value if flag.action else None,
        "actionedBy": flag.actioned_by,
        "actionedAt": iso_or_none(flag.actioned_at),
    }


def flag_page_json(page: Page[Flag]) -> dict[str, Any]:
    """One page of flags and the cursor of the next."""
    return {"flags": [flag_json(f) for f in page.items], "nextCursor": page.next_cursor}


def restriction_json(restriction: Restriction) -> dict[str, Any]:
    """A restriction as set."""
    return {
        "mode": restriction.mode.value,
        "until": iso_or_none(restriction.until),
        "perMinute": restriction.per_minute,
        "perDay": restriction.per_day,
    }


def restricted_json(user_id: str, restriction: Restriction) -> dict[str, Any]:
    """The answer to a restriction."""
    return {"userId": user_id, "restriction": restriction_json(restriction)}


def suspended_json(user: UserRecord) -> dict[str, Any]:
    """The answer to a suspension."""
    return {
        "userId": user.user_id,
        "status": "suspended",
        "clause": user.suspension_clause,
        "suspendedAt": iso_or_none(user.suspended_at),
    }


def reinstated_json(user_id: str) -> dict[str, Any]:
    """The answer to a reinstatement."""
    return {"userId": user_id, "status": "reinstated"}


def erased_json(done: RequestedErasure) -> dict[str, Any]:
    """The answer to an erasure on request (counts only)."""
    return {
        "userId": done.user_id,
        "erased": True,
        "documents": done.erased.documents,
        "userTold": done.user_told,
    }


def sanctioned_json(entry: Sanctioned) -> dict[str, Any]:
    """A suspended or restricted user for the operators' list (keyed hash, never the id)."""
    return {
        "userKey": entry.user_key,
        "kind": entry.kind,
        "clause": entry.clause,
        "mode": entry.mode,
        "since": entry.since.isoformat(),
        "until": iso_or_none(entry.until),
        "purgeAfter": iso_or_none(entry.purge_after),
    }


def _whole(value: object) -> bool:
    """A JSON whole number (not a boolean); its range is the command's to check."""
    return isinstance(value, int) and not isinstance(value, bool)
