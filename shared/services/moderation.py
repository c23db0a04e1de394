"""Prohibited acts (§8) on the webhook, and the operators' actions on users (§9).

Webhook side: screening raises flags (links, listed wording, repeated files, sustained
floods) for people to review; a suspended user gets one notice and then silence.
Operator side: review flags, restrict, suspend and reinstate users; every action is audited.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

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
from shared.services.audit import Auditor
from shared.services.desk_records import (
    FlagLog,
    RestrictedUser,
    Restrictions,
    Suspension,
    Suspensions,
)
from shared.services.flood import FloodGuard, Verdict
from shared.services.paging import is_id, page_of
from shared.services.ports import Clock, DocumentStore
from shared.services.records import Users, iso_or_none
from shared.services.sessions import Sessions
from shared.services.statistics import Statistics

MEDIA_ATTEMPTS_FLAGGED = 3  # refused files in one day before a §8(4) flag
MAX_REASON = 500
_USER_ID = re.compile(r"U[0-9a-f]{32}")


def check_user_id(user_id: str) -> str:
    """A LINE user id from a URL, or a ValidationError."""
    if not _USER_ID.fullmatch(user_id):
        raise ValidationError("userId", "line_user_id")
    return user_id


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
        verdict = self._flood.admit(user_key(self._hash_key, user.user_id), now, limits)
        if verdict.sustained:
            day = now.astimezone(JST).strftime("%Y-%m-%d")
            self._raise(user.user_id, "8(5)", "sustained flood", key=f"{user.user_id}:{day}")
        return verdict

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

    def flag_page(self, status: str | None, cursor: str | None, limit: int) -> dict[str, Any]:
        """Flags to review, oldest first (no message text: a reference to open the session)."""
        try:
            wanted = FlagStatus(status or "open")
        except ValueError:
            raise ValidationError(
                "status", "one_of", choices=", ".join(s.value for s in FlagStatus)
            ) from None
        shown, next_cursor = page_of(
            lambda after, n: self._flags.page(wanted, after, n),
            cursor,
            limit,
            lambda f: f.flag_id,
        )
        return {
            "flags": [_flag_json(f) for f in shown],
            "nextCursor": next_cursor,
        }

    def flag(self, flag_id: str) -> dict[str, Any]:
        """One flag (the operators' screens act on a flag, never on a user id they typed)."""
        flag = self._flags.get(flag_id) if is_id(flag_id) else None
        if flag is None:
            raise NotFoundError("flagId", "no_flag")
        return _flag_json(flag)

    def dismiss(self, flag_id: str, operator: str) -> dict[str, Any]:
        """Reviewed, nothing to do."""
        flag = self._flags.get(flag_id) if is_id(flag_id) else None
        if flag is None:
            raise NotFoundError("flagId", "no_flag")
        if flag.status is not FlagStatus.OPEN:
            raise ConflictError(None, "flag_done", status=flag.status.value)
        try:
            flag = self._flags.save(flag.dismiss(operator, self._clock()))
        except PreconditionFailed:
            raise ConflictError(None, "flag_changed") from None
        self._auditor.record(operator, "flag.dismiss", flag.user_id, flag=flag.flag_id)
        return _flag_json(flag)

    def suspend(self, user_id: str, operator: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Suspend under a clause of §8 (`{"clause": "8(3)", "reason": ...}`)."""
        clause = normalise_clause(payload.get("clause"))
        if clause is None:
            raise ValidationError("clause", "clause", clauses=", ".join(CLAUSES))
        reason = payload.get("reason")
        if not isinstance(reason, str) or not 0 < len(reason.strip()) <= MAX_REASON:
            raise ValidationError("reason", "reason", max=MAX_REASON)
        user = self._user(user_id)
        now = self._clock()
        if user.open_session_id:
            session = self._sessions.get(user.open_session_id)
            if session is not None and session.is_open:
                self._sessions.close(session, ClosedBy.SYSTEM, "利用停止")
            user = self._user(user_id)
        user = self._users.save(user.suspend(clause, now))
        since = user.suspended_at or now
        key = user_key(self._hash_key, user_id)
        self._suspensions.put(Suspension(key, clause, since, user_id=user_id))
        self._statistics.suspension(user_id, since)
        actioned = self._action_flags(user_id, FlagAction.SUSPEND, operator)
        self._auditor.record(
            operator,
            "user.suspend",
            user_id,
            clause=clause,
            reason=reason.strip(),
            flagsActioned=actioned,
        )
        return {
            "userId": user_id,
            "status": "suspended",
            "clause": clause,
            "suspendedAt": since.isoformat(),
        }

    def restrict(self, user_id: str, operator: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Restrict: `{"mode": text_only|read_only|lower_limit, "days"?, "perMinute"?,
        "perDay"?}`."""
        try:
            mode = RestrictionMode(str(payload.get("mode")))
        except ValueError:
            raise ValidationError(
                "mode", "one_of", choices=", ".join(m.value for m in RestrictionMode)
            ) from None
        days = payload.get("days")
        if days is not None and (
            not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365
        ):
            raise ValidationError("days", "days", max=365)
        per_minute, per_day = payload.get("perMinute"), payload.get("perDay")
        if mode is RestrictionMode.LOWER_LIMIT:
            for name, value in (("perMinute", per_minute), ("perDay", per_day)):
                if not _whole(value, 1, 1_000_000):
                    raise ValidationError(name, "positive_for_mode", mode=mode.value)
        now = self._clock()
        restriction = Restriction(
            mode=mode,
            until=now + timedelta(days=days) if days else None,
            per_minute=per_minute if mode is RestrictionMode.LOWER_LIMIT else None,
            per_day=per_day if mode is RestrictionMode.LOWER_LIMIT else None,
        )
        self._users.save(self._user(user_id).restrict(restriction, now))
        key = user_key(self._hash_key, user_id)
        self._restrictions.put(RestrictedUser(key, user_id, mode.value, now, restriction.until))
        actioned = self._action_flags(user_id, FlagAction.RESTRICT, operator)
        self._auditor.record(
            operator,
            "user.restrict",
            user_id,
            mode=mode.value,
            days=days,
            flagsActioned=actioned,
        )
        return {"userId": user_id, "restriction": _restriction_json(restriction)}

    def reinstate(self, user_id: str, operator: str, reason: str | None = None) -> dict[str, Any]:
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
        return {"userId": user_id, "status": "reinstated"}

    def sanctioned(self, purge_grace: timedelta, limit: int = 500) -> list[dict[str, Any]]:
        """Suspended users still awaiting the purge (with `purgeAfter`) and restricted users in
        force, by keyed hash (`userKey`) and never by LINE id; suspended first, oldest first.
        Expired restrictions are dropped from the list as it is read."""
        now = self._clock()
        suspended = [
            {
                "userKey": s.user_key,
                "kind": "suspended",
                "clause": s.clause,
                "mode": None,
                "since": s.suspended_at.isoformat(),
                "until": None,
                "purgeAfter": (s.suspended_at + purge_grace).isoformat(),
            }
            for s in self._suspensions.awaiting_purge(None, limit)
        ]
        taken = {s["userKey"] for s in suspended}
        entries = self._restrictions.page(None, limit)
        for gone in [r for r in entries if r.until is not None and now >= r.until]:
            self._restrictions.remove(gone.user_key)  # expired: the list keeps no LINE id
        restricted = [
            {
                "userKey": r.user_key,
                "kind": "restricted",
                "clause": None,
                "mode": r.mode,
                "since": r.since.isoformat(),
                "until": iso_or_none(r.until),
                "purgeAfter": None,
            }
            for r in entries
            if r.user_key not in taken and (r.until is None or now < r.until)
        ]
        suspended.sort(key=lambda s: str(s["since"]))
        restricted.sort(key=lambda r: str(r["since"]))
        return suspended + restricted

    def reinstate_by_key(self, key: str, operator: str, reason: str) -> dict[str, Any]:
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
        return self.reinstate(user_id, operator, reason)

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


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _flag_json(flag: Flag) -> dict[str, Any]:
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
        "dismissedAt": flag.dismissed_at.isoformat() if flag.dismissed_at else None,
        "action": flag.action.value if flag.action else None,
        "actionedBy": flag.actioned_by,
        "actionedAt": flag.actioned_at.isoformat() if flag.actioned_at else None,
    }


def _restriction_json(restriction: Restriction) -> dict[str, Any]:
    return {
        "mode": restriction.mode.value,
        "until": restriction.until.isoformat() if restriction.until else None,
        "perMinute": restriction.per_minute,
        "perDay": restriction.per_day,
    }


def restriction_json(restriction: Restriction | None, now: datetime) -> dict[str, Any] | None:
    """The restriction in force, for the admin user view."""
    if restriction is None or not restriction.active(now):
        return None
    return _restriction_json(restriction)
