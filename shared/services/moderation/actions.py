"""Prohibited acts (§8) on the webhook, and the operators' actions on users (§9).

Webhook side: screening raises flags (links, listed wording, repeated files, sustained
floods) for people to review; a suspended user gets one notice and then silence.
Operator side: review flags, restrict, suspend and reinstate users; every action is audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from shared.domain.consent import JST
from shared.domain.events import EventMeta
from shared.domain.moderation import (
    CLAUSES,
    Flag,
    FlagAction,
    FlagStatus,
    Restriction,
    RestrictionMode,
    flag_id_for,
    normalise_clause,
)
from shared.domain.privacy import user_key
from shared.domain.screening import Finding, ScreeningRules, screen
from shared.domain.sessions import ClosedBy
from shared.domain.users import UserRecord
from shared.errors import ConflictError, NotFoundError, PreconditionFailed, ValidationError
from shared.ports import Clock, DocumentStore
from shared.repositories.desk_records import (
    FlagLog,
    RestrictedUser,
    Restrictions,
    Suspension,
    Suspensions,
)
from shared.repositories.paging import Page, is_id, page_of
from shared.repositories.user_records import Users
from shared.services.audit import Auditor
from shared.services.consultations.sessions import Sessions
from shared.services.moderation.flood import FloodGuard, Verdict
from shared.services.statistics.entries import Statistics

MEDIA_ATTEMPTS_FLAGGED = 3  # refused files in one day before a §8(4) flag
MAX_REASON = 500
MAX_DAYS = 365
MAX_LIMIT = 1_000_000
_USER_ID = re.compile(r"U[0-9a-f]{32}")


def check_user_id(user_id: str) -> str:
    """A LINE user id from a URL, or a ValidationError."""
    if not _USER_ID.fullmatch(user_id):
        raise ValidationError("userId", "line_user_id")
    return user_id


@dataclass(frozen=True)
class Suspend:
    """Suspend a user under a clause of §8 (the clause in its one stored form)."""

    clause: str
    reason: str

    def __post_init__(self) -> None:
        if normalise_clause(self.clause) != self.clause:
            raise ValidationError("clause", "clause", clauses=", ".join(CLAUSES))
        if not 0 < len(self.reason.strip()) <= MAX_REASON or self.reason != self.reason.strip():
            raise ValidationError("reason", "reason", max=MAX_REASON)


@dataclass(frozen=True)
class Restrict:
    """Restrict a user; `per_minute` and `per_day` count only for the lower limits."""

    mode: RestrictionMode
    days: int | None = None
    per_minute: int | None = None
    per_day: int | None = None

    def __post_init__(self) -> None:
        if self.days is not None and not 1 <= self.days <= MAX_DAYS:
            raise ValidationError("days", "days", max=MAX_DAYS)
        if self.mode is RestrictionMode.LOWER_LIMIT:
            for name, value in (("perMinute", self.per_minute), ("perDay", self.per_day)):
                if value is None or not 1 <= value <= MAX_LIMIT:
                    raise ValidationError(name, "positive_for_mode", mode=self.mode.value)


@dataclass(frozen=True)
class Sanctioned:
    """A suspended or restricted user, named by keyed hash only (the operators' list)."""

    user_key: str
    kind: str  # suspended | restricted
    since: datetime
    clause: str | None = None
    mode: str | None = None
    until: datetime | None = None
    purge_after: datetime | None = None


class Moderation:
    """Flags, restrictions and suspensions."""

    def __init__(
        self,
        *,
        store: DocumentStore,
        users: Users,
        flags: FlagLog,
        suspensions: Suspensions,
        restrictions: Restrictions,
        sessions: Sessions,
        statistics: Statistics,
        auditor: Auditor,
        rules: ScreeningRules,
        flood: FloodGuard,
        hash_key: str,
        clock: Clock,
    ) -> None:
        self._store = store
        self._users = users
        self._flags = flags
        self._suspensions = suspensions
        self._restrictions = restrictions
        self._sessions = sessions
        self._statistics = statistics
        self._auditor = auditor
        self._rules = rules
        self._flood = flood
        self._hash_key = hash_key
        self._clock = clock

    # -- the webhook's side -------------------------------------------------------------------

    def screen(self, meta: EventMeta, text: str, session_id: str | None) -> int:
        """Raise one flag for a stored message with findings, listing every reason; returns
        how many flags were raised (0 or 1)."""
        findings = tuple(screen(text, self._rules))
        if not findings:
            return 0
        now = self._clock()
        flag = Flag(
            flag_id=flag_id_for(meta.event_id, "screening", "", now),
            user_id=meta.source.partition,
            reasons=findings,
            created_at=now,
            message_ref=f"msg:{meta.event_id}",
            session_id=session_id,
        )
        return int(self._flags.add(flag))

    def flood(self, user: UserRecord) -> Verdict:
        """Count a message against the flood limits; a sustained flood raises a §8(5) flag."""
        limits: tuple[int | None, int | None] = (None, None)
        restriction = self.restriction(user)
        if restriction is not None and restriction.mode is RestrictionMode.LOWER_LIMIT:
            limits = (restriction.per_minute, restriction.per_day)
        now = self._clock()
        verdict = self._flood.admit(user.user_id, now, limits)
        if verdict.sustained:
            day = now.astimezone(JST).strftime("%Y-%m-%d")
            self._raise(user.user_id, "8(5)", "sustained flood", key=f"{user.user_id}:{day}")
        return verdict

    def uncount(self, user: UserRecord, verdict: Verdict) -> None:
        """Take a message the flood limits admitted back out of the counts (its handling
        failed; the redelivery counts it)."""
        self._flood.uncount(user.user_id, verdict)

    def media_attempt(self, user: UserRecord) -> UserRecord:
        """Count a refused file; repeated attempts in a day raise a §8(4) flag (once)."""
        now = self._clock()
        day = now.astimezone(JST).strftime("%Y-%m-%d")
        user = self._users.save(user.media_attempt(day, now))
        if user.media_attempts == MEDIA_ATTEMPTS_FLAGGED:
            self._raise(user.user_id, "8(4)", "repeated files", key=f"{user.user_id}:{day}")
        return user

    def restriction(self, user: UserRecord) -> Restriction | None:
        """The user's restriction, if one is in force now."""
        if user.restriction is not None and user.restriction.active(self._clock()):
            return user.restriction
        return None

    def erased_suspension(self, user_id: str) -> Suspension | None:
        """The suspension of a user whose record is gone (purged), if any."""
        return self._suspensions.get(user_key(self._hash_key, user_id))

    def noticed(self, user: UserRecord | None, suspension: Suspension | None) -> None:
        """Remember that the suspension notice went out (it goes out once)."""
        if user is not None:
            self._users.save(replace(user, suspension_noticed=True))
        elif suspension is not None:
            self._suspensions.put(replace(suspension, noticed=True))

    def restriction_noticed(self, user: UserRecord) -> None:
        """Remember that the restriction notice went out."""
        self._users.save(replace(user, restriction_noticed=True))

    def _raise(self, user_id: str, clause: str, reason: str, key: str) -> None:
        now = self._clock()
        flag = Flag(flag_id_for(key, clause, reason, now), user_id, (Finding(clause, reason),), now)
        self._flags.add(flag)

    # -- the operators' side ------------------------------------------------------------------

    def flag_page(self, status: FlagStatus, cursor: str | None, limit: int) -> Page[Flag]:
        """Flags to review, oldest first (no message text: a reference to open the session)."""
        return page_of(
            lambda after, n: self._flags.page(status, after, n), cursor, limit, lambda f: f.flag_id
        )

    def flag(self, flag_id: str) -> Flag:
        """One flag (the operators' screens act on a flag, never on a user id they typed)."""
        flag = self._flags.get(flag_id) if is_id(flag_id) else None
        if flag is None:
            raise NotFoundError("flagId", "no_flag")
        return flag

    def dismiss(self, flag_id: str, operator: str) -> Flag:
        """Reviewed, nothing to do."""
        flag = self.flag(flag_id)
        if flag.status is not FlagStatus.OPEN:
            raise ConflictError(None, "flag_done", status=flag.status.value)
        try:
            flag = self._flags.save(flag.dismiss(operator, self._clock()))
        except PreconditionFailed:
            raise ConflictError(None, "flag_changed") from None
        self._auditor.record(operator, "flag.dismiss", flag.user_id, flag=flag.flag_id)
        return flag

    def suspend(self, user_id: str, operator: str, command: Suspend) -> UserRecord:
        """Suspend under a clause of §8; the user's open flags are actioned."""
        user = self._user(user_id)
        now = self._clock()
        if user.open_session_id:
            session = self._sessions.get(user.open_session_id)
            if session is not None and session.is_open:
                self._sessions.close(session, ClosedBy.SYSTEM, "利用停止")
            user = self._user(user_id)
        user = self._users.save(user.suspend(command.clause, now))
        since = user.suspended_at or now
        key = user_key(self._hash_key, user_id)
        self._suspensions.put(Suspension(key, command.clause, since, user_id=user_id))
        self._statistics.suspension(user_id, since)
        actioned = self._action_flags(user_id, FlagAction.SUSPEND, operator)
        self._auditor.record(
            operator,
            "user.suspend",
            user_id,
            clause=command.clause,
            reason=command.reason,
            flagsActioned=actioned,
        )
        return user

    def restrict(self, user_id: str, operator: str, command: Restrict) -> Restriction:
        """Restrict the user (text only, read only or lower flood limits), for `days` or until
        lifted; their open flags are actioned."""
        now = self._clock()
        lower = command.mode is RestrictionMode.LOWER_LIMIT
        restriction = Restriction(
            mode=command.mode,
            until=now + timedelta(days=command.days) if command.days else None,
            per_minute=command.per_minute if lower else None,
            per_day=command.per_day if lower else None,
        )
        self._users.save(self._user(user_id).restrict(restriction, now))
        key = user_key(self._hash_key, user_id)
        self._restrictions.put(
            RestrictedUser(key, user_id, command.mode.value, now, restriction.until)
        )
        actioned = self._action_flags(user_id, FlagAction.RESTRICT, operator)
        self._auditor.record(
            operator,
            "user.restrict",
            user_id,
            mode=command.mode.value,
            days=command.days,
            flagsActioned=actioned,
        )
        return restriction

    def reinstate(self, user_id: str, operator: str, reason: str | None = None) -> None:
        """Lift a suspension or restriction (also for a user already purged: by hash); the
        operator's `reason`, when given, goes into the audit record."""
        if reason is not None and not 0 < len(reason.strip()) <= MAX_REASON:
            raise ValidationError("reason", "reason", max=MAX_REASON)
        key = user_key(self._hash_key, user_id)
        user = self._users.get(user_id)
        suspension = self._suspensions.get(key)
        restricted = self._restrictions.get(key)
        if user is None and suspension is None and restricted is None:
            raise NotFoundError("userId", "no_user")
        if user is not None:
            self._users.save(user.reinstate(self._clock()))
        if restricted is not None:
            self._restrictions.remove(key)
        if suspension is not None and suspension.purged:
            # Their data is gone and now the hash goes from the list: it may not stay in the
            # audit trail either (only a suspended user's may).
            subject = self._auditor.scrub(user_id, keep_hash=False)
            self._suspensions.remove(key)
            self._auditor.record_erased(operator, "user.reinstate", subject)
            self._store.compact()  # no copy of the hash left behind (SQLite's files)
        else:
            if suspension is not None:
                self._suspensions.remove(key)
            details = {"reason": reason.strip()} if reason is not None else {}
            self._auditor.record(operator, "user.reinstate", user_id, **details)

    def sanctioned(self, purge_grace: timedelta, limit: int = 500) -> list[Sanctioned]:
        """Suspended users still awaiting the purge (with when it comes) and restricted users
        in force, by keyed hash and never by LINE id; suspended first, oldest first. Expired
        restrictions are dropped from the list as it is read."""
        now = self._clock()
        suspended = [
            Sanctioned(
                s.user_key,
                "suspended",
                s.suspended_at,
                s.clause,
                purge_after=s.suspended_at + purge_grace,
            )
            for s in self._suspensions.awaiting_purge(None, limit)
        ]
        taken = {s.user_key for s in suspended}
        entries = self._restrictions.page(None, limit)
        for gone in [r for r in entries if r.until is not None and now >= r.until]:
            self._restrictions.remove(gone.user_key)  # expired: the list keeps no LINE id
        restricted = [
            Sanctioned(r.user_key, "restricted", r.since, mode=r.mode, until=r.until)
            for r in entries
            if r.user_key not in taken and (r.until is None or now < r.until)
        ]
        return sorted(suspended, key=lambda s: s.since) + sorted(restricted, key=lambda r: r.since)

    def reinstate_by_key(self, key: str, operator: str, reason: str) -> str:
        """Reinstate a user listed by `sanctioned` (the screens never hold a LINE id)."""
        if not isinstance(key, str) or not re.fullmatch(r"[0-9a-f]{64}", key):
            raise NotFoundError("userKey", "no_user")
        suspension = self._suspensions.get(key)
        restricted = self._restrictions.get(key)
        user_id = (suspension.user_id if suspension else None) or (
            restricted.user_id if restricted else None
        )
        if user_id is None:
            raise NotFoundError("userKey", "no_user")
        self.reinstate(user_id, operator, reason)
        return user_id

    def _action_flags(self, user_id: str, action: FlagAction, operator: str) -> int:
        """Mark the user's open flags as dealt with by `action`; returns how many."""
        actioned = 0
        for flag in self._flags.open_of_user(user_id):
            try:
                self._flags.save(flag.actioned(action, operator, self._clock()))
            except PreconditionFailed:
                continue  # someone reviewed it a moment ago: theirs stands
            actioned += 1
        return actioned

    def _user(self, user_id: str) -> UserRecord:
        user = self._users.get(check_user_id(user_id))
        if user is None:
            raise NotFoundError("userId", "no_user")
        return user
