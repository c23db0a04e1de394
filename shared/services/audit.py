"""The audit trail: every admin action, and every admin read of a user's messages.

Records name users by keyed hash only. After an erasure a user's records keep the action,
the time and the actor, and nothing that links them to what was erased (no session ids,
flag ids, reasons, outcomes or counts):
- a suspended user keeps their keyed hash (the suspension list keeps it too, so that they
  stay suspended; the policy allows exactly that);
- anyone else (erased on request, in the chat, or a purged user later reinstated) is named
  by a random erasure token instead, drawn once per erasure and stored nowhere else. Whoever
  holds `DESK_HASH_KEY` and a LINE user id can compute the keyed hash, so a hash left in the
  trail would still say what was done about that person; the token says only that these
  records are about one and the same erased person.
Every record about a user must therefore name them through `user_id` (never in `details`),
so that the erasure finds it.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from shared.domain.privacy import user_key
from shared.domain.staff import KEY_CALLER_KEY, StaffRef
from shared.ports import Clock
from shared.repositories.desk_records import AuditLog, AuditRecord
from shared.repositories.paging import Page, page_of

ERASED_SUBJECT_PREFIX = "erased-"
# One line per record into the log stream, where Log Analytics keeps an immutable copy.
log = logging.getLogger("desk.audit")


def _copy_to_log(record: AuditRecord) -> None:
    """The record's action, time and actor, as one structured line. Never whom it was about
    (not even the keyed hash) nor its details: an erasure cannot scrub an immutable copy, so
    the copy holds nothing it would have to."""
    log.info(
        "audit record=%s action=%s who=%s asserted=%s",
        record.record_id,
        record.action,
        record.who,
        record.asserted_operator or "-",
    )


def erasure_token() -> str:
    """A fresh random name for an erased user's audit records (not derived from anything)."""
    return ERASED_SUBJECT_PREFIX + secrets.token_hex(16)


class Actor(StaffRef):
    """An operator's name that a caller asserted but nobody verified (a function key's caller
    naming `operator`). It serves as the name wherever one is needed (a session's assignee, a
    message's author), keyed as a script's (`key:` and the name: never a signed-in person's,
    so it cannot act in a session a person holds), and its messages are marked as a
    script's; the audit records `caller` as who acted and this name as asserted."""

    caller: str

    def __new__(cls, asserted: str, caller: str) -> Actor:
        actor = super().__new__(cls, asserted, f"{KEY_CALLER_KEY}{asserted}", script=True)
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
        kept = self._log.record(
            AuditRecord(
                at=self._clock(),
                who=who.caller if isinstance(who, Actor) else str(who),
                who_key=None if isinstance(who, Actor) else getattr(who, "key", None),
                asserted_operator=asserted,
                action=action,
                user_key=user_key(self._hash_key, user_id) if user_id else None,
                details=details,
            )
        )
        _copy_to_log(kept)

    def record_erased(self, who: str, action: str, subject: str) -> None:
        """Append an action about a user already erased: action, time and actor, naming the
        subject their records were scrubbed to (`scrub`), and no details."""
        _copy_to_log(
            self._log.record(
                AuditRecord(at=self._clock(), who=who, action=action, user_key=subject)
            )
        )

    def scrub(self, user_id: str, *, keep_hash: bool) -> str:
        """Cut the user's records down to action, time and actor; returns what they now name:
        the keyed hash (`keep_hash`, for a suspended user) or a fresh erasure token."""
        key = user_key(self._hash_key, user_id)
        subject = key if keep_hash else erasure_token()
        self._log.scrub(key, subject)
        return subject

    def page(self, cursor: str | None, limit: int) -> Page[AuditRecord]:
        """One page, oldest first; its cursor continues."""
        return page_of(self._log.page, cursor, limit, lambda r: r.record_id)
