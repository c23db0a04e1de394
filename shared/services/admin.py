"""Admin use cases that read the desk's records for experts and operators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from shared.domain.consent import JST, ConsentRecord, PolicyVersion
from shared.domain.moderation import Restriction
from shared.domain.users import UserRecord
from shared.errors import NotFoundError
from shared.ports import Clock
from shared.repositories.user_records import ConsentLog, Users
from shared.services.audit import Auditor
from shared.services.consent.policies import NewPolicy, PolicyRegistry
from shared.services.moderation.actions import check_user_id
from shared.services.statistics.entries import Statistics


@dataclass(frozen=True)
class UserView:
    """What the admin user view shows of one user."""

    user: UserRecord
    purge_after: datetime | None
    restriction: Restriction | None  # the one in force
    consents: tuple[ConsentRecord, ...]


@dataclass(frozen=True)
class PolicyCount:
    """One policy version and the consents given to it."""

    version: PolicyVersion
    explicit: int
    deemed: int


@dataclass(frozen=True)
class PolicyConsents:
    """Every version (newest first), the current one, and consents counted before versions
    were recorded with them (`unversioned`)."""

    current: str | None
    versions: tuple[PolicyCount, ...]
    unversioned: int


@dataclass(frozen=True)
class PolicyListing:
    """Every policy version, and the id of the one in effect."""

    current: str | None
    versions: list[PolicyVersion]


class AdminService:
    """What `/api/admin/users` and `/api/admin/policies` answer."""

    def __init__(
        self,
        users: Users,
        log: ConsentLog,
        policies: PolicyRegistry,
        clock: Clock,
        auditor: Auditor,
        *,
        purge_grace: timedelta = timedelta(days=30),
        statistics: Statistics | None = None,
    ) -> None:
        self._statistics = statistics
        self._auditor = auditor
        self._purge_grace = purge_grace
        self._users = users
        self._log = log
        self._policies = policies
        self._clock = clock

    def user(self, user_id: str, who: str) -> UserView:
        """A user's record, restriction in force and consent history (an audited read)."""
        user = self._users.get(check_user_id(user_id))
        if user is None:
            raise NotFoundError("userId", "no_user")
        self._auditor.record(who, "user.read", user_id)
        now = self._clock()
        restriction = user.restriction
        return UserView(
            user=user,
            # From then on, the daily purge erases the suspended user's data.
            purge_after=user.suspended_at + self._purge_grace if user.suspended_at else None,
            restriction=restriction if restriction and restriction.active(now) else None,
            consents=tuple(self._log.history(user_id)),
        )

    def register_policy(self, command: NewPolicy, who: str) -> PolicyVersion:
        """Register a policy version (audited)."""
        version = self._policies.register(command)
        self._auditor.record(who, "policy.register", None, version=version.version_id)
        return version

    def policies(self) -> PolicyListing:
        """Every policy version and which one is in effect."""
        current = self._policies.current()
        return PolicyListing(current.version_id if current else None, self._policies.versions())

    def policy_consents(self) -> PolicyConsents:
        """The policies screen: every version (newest first), which one is current, and the
        consents given to each (explicit, deemed) from the anonymous statistics entries."""
        versions = self._policies.versions()
        current = self._policies.current()
        today = self._clock().astimezone(JST).date()
        first = min((v.effective_date for v in versions), default=today)
        count = self._statistics.consents_by_version if self._statistics else _no_counts
        counts = count(min(first, today), today)
        return PolicyConsents(
            current.version_id if current else None,
            tuple(
                PolicyCount(
                    v,
                    counts.get(v.version_id, {}).get("explicit", 0),
                    counts.get(v.version_id, {}).get("deemed", 0),
                )
                for v in reversed(versions)
            ),
            sum(counts.get("", {}).values()),
        )


def _no_counts(first: date, last: date) -> dict[str, dict[str, int]]:
    return {}
