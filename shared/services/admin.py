"""Admin use cases that read the desk's records for experts and operators."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from shared.domain.consent import JST, PolicyVersion
from shared.errors import NotFoundError
from shared.services.audit import Auditor
from shared.services.moderation import check_user_id, restriction_json
from shared.services.policies import PolicyRegistry
from shared.services.ports import Clock
from shared.services.records import ConsentLog, Users
from shared.services.statistics import Statistics


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

    def user(self, user_id: str, who: str) -> dict[str, Any]:
        """A user's status and consent history (every record: version id, method, time)."""
        user = self._users.get(check_user_id(user_id))
        if user is None:
            raise NotFoundError("userId", "no_user")
        self._auditor.record(who, "user.read", user_id)
        if user.suspended:
            status = "suspended"
        elif not user.followed:
            status = "unfollowed"
        else:
            status = user.consent_status
        return {
            "userId": user.user_id,
            "followed": user.followed,
            "status": status,
            # purgeAfter: from then on, the daily purge erases the suspended user's data.
            "suspension": (
                {
                    "clause": user.suspension_clause,
                    "since": user.suspended_at.isoformat(),
                    "purgeAfter": (user.suspended_at + self._purge_grace).isoformat(),
                }
                if user.suspended_at
                else None
            ),
            "restriction": restriction_json(user.restriction, self._clock()),
            "openSessionId": user.open_session_id,
            "consentStatus": user.consent_status,
            "currentConsent": {
                "policyVersion": user.consent_version,
                "method": user.consent_method.value if user.consent_method else None,
                "at": user.consent_at.isoformat() if user.consent_at else None,
            },
            "firstFollowedAt": (
                user.first_followed_at.isoformat() if user.first_followed_at else None
            ),
            "consents": [
                {
                    "policyVersion": record.version_id,
                    "method": record.method.value,
                    "at": record.at.isoformat(),
                    "textSha256": record.text_sha256,
                    "privacyPolicyVersion": record.privacy_policy_version,
                    "eventId": record.event_id,
                }
                for record in self._log.history(user_id)
            ],
        }

    def register_policy(self, payload: dict[str, Any], who: str) -> dict[str, Any]:
        """Register a policy version (audited)."""
        version = self._policies.register(payload)
        self._auditor.record(who, "policy.register", None, version=version.version_id)
        return policy_json(version)

    def policies(self) -> dict[str, Any]:
        """Every policy version and which one is in effect."""
        current = self._policies.current()
        return {
            "current": current.version_id if current else None,
            "versions": [policy_json(v) for v in self._policies.versions()],
        }

    def policy_consents(self) -> dict[str, Any]:
        """The policies screen: every version (newest first), which one is current, and the
        consents given to each (explicit, deemed) from the anonymous statistics entries."""
        versions = self._policies.versions()
        current = self._policies.current()
        today = self._clock().astimezone(JST).date()
        first = min((v.effective_date for v in versions), default=today)
        count = self._statistics.consents_by_version if self._statistics else _no_counts
        counts = count(min(first, today), today)
        return {
            "current": current.version_id if current else None,
            "versions": [
                {
                    **policy_json(v),
                    "explicit": counts.get(v.version_id, {}).get("explicit", 0),
                    "deemed": counts.get(v.version_id, {}).get("deemed", 0),
                }
                for v in reversed(versions)
            ],
            "unversioned": sum(counts.get("", {}).values()),
        }


def _no_counts(first: date, last: date) -> dict[str, dict[str, int]]:
    return {}


def policy_json(version: PolicyVersion) -> dict[str, Any]:
    """One policy version as the admin API shows it."""
    return {
        "versionId": version.version_id,
        "effectiveDate": version.effective_date.isoformat(),
        "effectiveAt": version.effective_at.isoformat(),
        "url": version.url,
        "textSha256": version.text_sha256,
        "privacyPolicyVersion": version.privacy_policy_version,
        "requiresExplicit": version.requires_explicit,
        "shipped": version.shipped,
    }
