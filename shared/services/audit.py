"""The audit trail: every admin action, and every admin read of a user's messages."""

from __future__ import annotations

import re
from typing import Any

from shared.domain.privacy import user_key
from shared.errors import ValidationError
from shared.services.desk_records import AuditLog, AuditRecord
from shared.services.ports import Clock

_CURSOR = re.compile(r"^[0-9A-Za-z:_-]{1,80}$")


class Auditor:
    """Writes audit records naming users by keyed hash only, and pages through them."""

    def __init__(self, log: AuditLog, hash_key: str, clock: Clock) -> None:
        self._log = log
        self._hash_key = hash_key
        self._clock = clock

    def record(self, who: str, action: str, user_id: str | None = None, **details: Any) -> None:
        """Append who did `action` (to which user), now."""
        self._log.record(
            AuditRecord(
                at=self._clock(),
                who=who,
                action=action,
                user_key=user_key(self._hash_key, user_id) if user_id else None,
                details=details,
            )
        )

    def page(self, cursor: str | None, limit: int) -> dict[str, Any]:
        """One page, oldest first; `nextCursor` continues."""
        if cursor is not None and not _CURSOR.match(cursor):
            raise ValidationError("cursor: the nextCursor of a previous page")
        records = self._log.page(cursor, limit + 1)
        shown = records[:limit]
        return {
            "records": [
                {
                    "id": r.record_id,
                    "at": r.at.isoformat(),
                    "who": r.who,
                    "action": r.action,
                    "userKey": r.user_key,
                    "details": r.details,
                }
                for r in shown
            ],
            "nextCursor": shown[-1].record_id if len(records) > limit else None,
        }
