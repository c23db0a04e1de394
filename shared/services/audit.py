"""The audit trail: every admin action, and every admin read of a user's messages."""

from __future__ import annotations

from typing import Any

from shared.domain.privacy import user_key
from shared.services.desk_records import AuditLog, AuditRecord
from shared.services.paging import page_of
from shared.services.ports import Clock


class Actor(str):
    """An operator's name that a caller asserted but nobody verified (a function key's caller
    naming `operator`). It serves as the name wherever one is needed (a session's assignee, a
    message's author); the audit records `caller` as who acted and this name as asserted."""

    caller: str

    def __new__(cls, asserted: str, caller: str) -> Actor:
        actor = super().__new__(cls, asserted)
        actor.caller = caller
        return actor


class Auditor:
    """Writes audit records naming users by keyed hash only, and pages through them."""

    def __init__(self, log: AuditLog, hash_key: str, clock: Clock) -> None:
        self._log = log
        self._hash_key = hash_key
        self._clock = clock

    def record(self, who: str, action: str, user_id: str | None = None, **details: Any) -> None:
        """Append who did `action` (to which user), now. An Actor is recorded as its caller,
        with the operator it named as asserted."""
        asserted = str(who) if isinstance(who, Actor) else None
        self._log.record(
            AuditRecord(
                at=self._clock(),
                who=who.caller if isinstance(who, Actor) else who,
                asserted_operator=asserted,
                action=action,
                user_key=user_key(self._hash_key, user_id) if user_id else None,
                details=details,
            )
        )

    def page(self, cursor: str | None, limit: int) -> dict[str, Any]:
        """One page, oldest first; `nextCursor` continues."""
        shown, next_cursor = page_of(self._log.page, cursor, limit, lambda r: r.record_id)
        return {
            "records": [
                {
                    "id": r.record_id,
                    "at": r.at.isoformat(),
                    "who": r.who,
                    "assertedOperator": r.asserted_operator,
                    "action": r.action,
                    "userKey": r.user_key,
                    "details": r.details,
                }
                for r in shown
            ],
            "nextCursor": next_cursor,
        }
