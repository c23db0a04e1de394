"""Erasure (§9, §5): everything the desk holds about a user, gone; and the purge timer.

What stays: the keyed hash of a suspended user's id with the suspension (so they stay
suspended), the anonymous statistics entries (so published figures do not change), and the
user's audit records cut down to action, time and actor, naming a suspended user by keyed
hash and anyone else by a random erasure token (`shared/services/audit.py`).

The steps are ordered so that a crash anywhere leaves a state the next attempt finishes: the
suspension's hash first (it must outlive everything), then the desk-wide records that carry
the id (sessions, counted as closed first; flags), then the audit records, then the user's
partition, the user record last (it is what marks a user as still to be erased), then the id
on the suspension.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from shared.domain.privacy import user_key
from shared.domain.runs import RunSummary
from shared.domain.sessions import ClosedBy, Session
from shared.errors import NotFoundError
from shared.ports import USERS, Clock, DocumentStore
from shared.repositories.desk_records import FlagLog, Restrictions, Suspension, Suspensions
from shared.repositories.tombstones import Tombstones
from shared.repositories.user_records import USER_DOC_ID, SessionIndex, Users
from shared.services.audit import Auditor
from shared.services.consultations.sessions import Sessions
from shared.services.statistics.entries import Statistics

log = logging.getLogger("desk.erasure")

# A purge claim lasts this long: far longer than erasing one user takes, short enough that a
# run that died half-way is finished by the next day's run.
PURGE_LEASE_SECONDS = 3600


@dataclass(frozen=True)
class Erased:
    """What one erasure removed (counts only)."""

    documents: int
    sessions: int
    flags: int
    subject: str  # what the user's audit records name now: keyed hash or erasure token


@dataclass(frozen=True)
class RequestedErasure:
    """An erasure asked for by post or phone: what went, and whether the user was told."""

    user_id: str
    erased: Erased
    user_told: bool


class Eraser:
    """Erases users, one at a time or by the purge timer."""

    def __init__(
        self,
        *,
        store: DocumentStore,
        users: Users,
        sessions: Sessions,
        index: SessionIndex,
        flags: FlagLog,
        suspensions: Suspensions,
        restrictions: Restrictions,
        statistics: Statistics,
        auditor: Auditor,
        hash_key: str,
        clock: Clock,
        tombstones: Tombstones,
    ) -> None:
        self._tombstones = tombstones
        self._auditor = auditor
        self._store = store
        self._users = users
        self._sessions = sessions
        self._index = index
        self._flags = flags
        self._suspensions = suspensions
        self._restrictions = restrictions
        self._statistics = statistics
        self._hash_key = hash_key
        self._clock = clock

    def erase(
        self, user_id: str, requested_at: datetime | None = None, *, compact: bool = True
    ) -> Erased:
        """Remove everything about `user_id` (idempotent, resumable). Events sent before
        `requested_at` (default: now) will change nothing afterwards (a tombstone); `compact`:
        make the deletions physical now (the purge does it once a run)."""
        key = user_key(self._hash_key, user_id)
        user = self._users.get(user_id)
        suspension = self._suspensions.get(key)
        if user is not None and user.suspended:
            since = user.suspended_at or self._clock()
            # Carry the "already told" mark over, so the hash does not tell them again.
            noticed = user.suspension_noticed or (suspension is not None and suspension.noticed)
            if suspension is None or suspension.noticed != noticed:
                suspension = Suspension(
                    key, user.suspension_clause or "", since, user_id=user_id, noticed=noticed
                )
                self._suspensions.put(suspension)
        self._tombstones.mark(user_id, requested_at or self._clock())
        sessions = self._index.of_user(user_id)
        for session in sessions:
            if session.is_open:
                self._sessions.close(session, ClosedBy.ERASURE, None)
            self._index.delete(session.session_id)
        if user is not None:  # before the partition goes, with the mark that counts it once
            self._statistics.erasure(user_id, self._clock())
        flags = self._flags.delete_of_user(user_id)
        self._restrictions.remove(key)  # the operators' list of restricted users names the id
        if user is not None:
            self._users.unlist(user)  # the activity directory names the user
        # Only a suspended user's keyed hash may stay, in the audit trail as on the list.
        subject = self._auditor.scrub(user_id, keep_hash=suspension is not None)
        documents = self._store.delete_partition(USERS, user_id, keep=USER_DOC_ID)
        documents += self._store.delete_partition(USERS, user_id)  # the user record, last
        if suspension is not None and not suspension.purged:
            self._suspensions.put(replace(suspension, user_id=None, purged_at=self._clock()))
        if compact:
            self._store.compact()
        log.info("erased documents=%d sessions=%d flags=%d", documents, len(sessions), flags)
        return Erased(documents, len(sessions), flags, subject)

    def erase_on_request(
        self, user_id: str, operator: str, notify: Callable[[str], bool]
    ) -> RequestedErasure:
        """An erasure asked for by post or phone: erase, audit, tell the user if reachable."""
        user = self._users.get(user_id)
        suspended = self._suspensions.get(user_key(self._hash_key, user_id))
        if user is None and suspended is None:
            raise NotFoundError("userId", "no_user")
        reachable = user is not None and user.followed
        erased = self.erase(user_id)
        self._auditor.record_erased(operator, "user.erase", erased.subject)
        told = notify(user_id) if reachable else False
        return RequestedErasure(user_id, erased, told)

    def by_reference(self, reference: str) -> Session:
        """The session a user's reference names (a screen's confirmation step shows it)."""
        return self._sessions.by_reference(reference)

    def purge_suspended(self, grace_days: int, limit: int) -> RunSummary:
        """Erase users suspended at least `grace_days` ago, at most `limit` a run.

        Skipped: `grace` (suspended less than `grace_days` ago), `no_user` (nothing left
        to erase under that suspension), `taken` (another run is erasing them).
        """
        cutoff = self._clock() - timedelta(days=grace_days)
        purged = examined = grace = no_user = taken = 0
        cursor: str | None = None
        while examined < limit:
            page = self._suspensions.awaiting_purge(cursor, min(100, limit - examined))
            if not page:
                break
            for suspension in page:
                examined += 1
                if suspension.suspended_at > cutoff:
                    grace += 1
                elif suspension.user_id is None:
                    no_user += 1
                elif not self._claimed(suspension):
                    taken += 1
                else:
                    erased = self.erase(suspension.user_id, compact=False)
                    self._auditor.record_erased("purge_suspended", "user.purge", erased.subject)
                    self._suspensions.release_purge(suspension.user_key)
                    purged += 1
            cursor = page[-1].user_key
        if purged:
            self._store.compact()
        skipped = {"grace": grace, "no_user": no_user, "taken": taken}
        return RunSummary("purge_suspended", "purged", examined, purged, skipped)

    def _claimed(self, suspension: Suspension) -> bool:
        """This run erases the user (counted, audited) only if it takes the claim and the
        suspension still awaits its purge: two runs at once (a restart, a deployment) erase
        and count each user once."""
        if not self._suspensions.claim_purge(suspension.user_key, PURGE_LEASE_SECONDS):
            return False
        now = self._suspensions.get(suspension.user_key)
        if now is None or now.user_id is None or now.purged:  # another run finished it
            self._suspensions.release_purge(suspension.user_key)
            return False
        return True
