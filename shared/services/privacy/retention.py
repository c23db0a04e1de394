"""Retention (personal information protection: delete what is no longer needed).

The `purge_expired` timer does two things, each bounded per run:

1. Sessions closed longer ago than `DESK_RETENTION_DAYS`: the text of their messages (the
   user's and the experts' answers), of their hand-over notes and of the staff's private
   notes on them is erased; the session's
   shape (topic, times, outcome, who held it) stays, and so do the statistics, which are
   anonymous entries kept apart. Closed sessions whose text is still kept are found by
   `textErased=false`, oldest opening first; since a session closes after it opens, the scan
   stops at the first session opened after the cutoff.
2. Users without activity for `DESK_INACTIVE_USER_DAYS` are erased entirely by the eraser, as
   on request (the keyed hash of a suspension and the anonymous counts stay). They are found
   in the activity directory, oldest day first.

Timers are at-least-once and may overlap. Every step is idempotent: a message's text is set
to nothing (twice is the same), a session is marked erased with its ETag after its messages
(a crash leaves it unmarked, so the next run does it again; a concurrent change makes this run
skip it as `busy`), and the eraser is itself resumable.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace
from datetime import timedelta

from shared.domain.privacy import user_key
from shared.domain.runs import RunSummary
from shared.domain.sessions import Session
from shared.errors import PreconditionFailed
from shared.ports import Clock, DocumentStore
from shared.repositories.desk_records import RunClaims
from shared.repositories.notes import NoteLog
from shared.repositories.user_records import (
    ActivityDirectory,
    MessageLog,
    SessionIndex,
    Users,
    activity_day,
)
from shared.services.audit import Auditor
from shared.services.privacy.erasure import Eraser

log = logging.getLogger("desk.retention")

_PAGE = 100
# A claim on one inactive user's erasure outlives a run that died while holding it this long.
CLAIM_SECONDS = 600


class Retention:
    """The retention timer's work."""

    def __init__(
        self,
        *,
        store: DocumentStore,
        index: SessionIndex,
        messages: MessageLog,
        users: Users,
        directory: ActivityDirectory,
        eraser: Eraser,
        auditor: Auditor,
        clock: Clock,
        notes: NoteLog,
        claims: RunClaims,
        hash_key: str,
    ) -> None:
        self._claims = claims
        self._hash_key = hash_key
        self._notes = notes
        self._store = store
        self._index = index
        self._messages = messages
        self._users = users
        self._directory = directory
        self._eraser = eraser
        self._auditor = auditor
        self._clock = clock

    def purge_expired(self, retention_days: int, inactive_days: int, limit: int) -> RunSummary:
        """Erase expired session text (at most `limit` sessions) and inactive users (at most
        `limit` users). Skipped: `recent`, `followup` (an expert may still answer), `busy`
        (changed during the run), `active` and `open` (users), `stale` (a directory entry
        left over from a failure, or whose user is gone), `taken` (another run, overlapping
        this one, is erasing the user)."""
        skipped: dict[str, int] = {}
        sessions, examined_sessions = self._expire_sessions(retention_days, limit, skipped)
        users, examined_users = self._expire_users(inactive_days, limit, skipped)
        if sessions or users:
            self._store.compact()
        return RunSummary(
            "purge_expired",
            "erased",
            examined_sessions + examined_users,
            sessions + users,
            skipped,
            {"sessions": sessions, "users": users},
        )

    def erase_session_text(self, session: Session) -> Session:
        """Erase one closed session's text: its messages first, then its notes and the mark."""
        for message in self._messages.of_session(session.user_id, session.session_id):
            if message.text is not None or message.line_message_id is not None:
                self._messages.save(replace(message, text=None, line_message_id=None), shown=False)
        self._notes.erase_text(session.user_id, session.session_id)
        return self._index.save(session.without_text(self._clock()))

    def _expire_sessions(
        self, retention_days: int, limit: int, skipped: dict[str, int]
    ) -> tuple[int, int]:
        now = self._clock()
        cutoff = now - timedelta(days=retention_days)
        erased = examined = 0
        cursor: str | None = None
        while examined < limit:
            page = self._index.text_kept(cursor, min(_PAGE, limit - examined))
            if not page:
                break
            for session in page:
                if session.opened_at > cutoff:
                    return erased, examined  # sorted by opening: none later can be due
                examined += 1
                reason = session.retention_due(cutoff, now)
                if reason is None:
                    try:
                        self.erase_session_text(session)
                    except PreconditionFailed:
                        reason = "busy"
                    else:
                        erased += 1
                        continue
                skipped[reason] = skipped.get(reason, 0) + 1
            cursor = page[-1].session_id
        return erased, examined

    def _expire_user(self, user_id: str, day: str) -> str | None:
        """Erase one inactive user under a claim, so that a run overlapping this one (on
        another instance) erases, counts and audits them once; the reason when skipped."""
        key = user_key(self._hash_key, user_id)
        if not self._claims.take("expiring", key, CLAIM_SECONDS):
            return "taken"
        try:
            fresh = self._users.get(user_id)  # read under the claim: erased meanwhile?
            if fresh is None or fresh.listed_day != day:
                return "stale"
            erased_user = self._eraser.erase(user_id, compact=False)
            self._auditor.record_erased("purge_expired", "user.expire", erased_user.subject)
            return None
        finally:
            self._claims.release("expiring", key)

    def _expire_users(
        self, inactive_days: int, limit: int, skipped: dict[str, int]
    ) -> tuple[int, int]:
        now = self._clock()
        cutoff = now - timedelta(days=inactive_days)
        cutoff_day = activity_day(cutoff)
        erased = examined = 0
        cursor: str | None = None
        while examined < limit:
            page = self._directory.page(cursor, min(_PAGE, limit - examined))
            if not page:
                break
            for entry_id, user_id, day in page:
                if day >= cutoff_day:
                    return erased, examined
                examined += 1
                user = self._users.get(user_id)
                if user is None or user.listed_day != day:
                    self._directory.drop(entry_id)
                    reason = "stale"
                elif user.updated_at > cutoff:
                    reason = "active"
                elif user.open_session_id is not None:
                    # A session still open is activity: list them today, look again later.
                    with contextlib.suppress(PreconditionFailed):  # written meanwhile: active
                        self._users.save(replace(user, updated_at=now))
                    reason = "open"
                else:
                    skip = self._expire_user(user_id, day)
                    if skip is None:
                        erased += 1
                        continue
                    reason = skip
                skipped[reason] = skipped.get(reason, 0) + 1
            cursor = page[-1][0]
        return erased, examined
