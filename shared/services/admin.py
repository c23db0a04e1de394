"""Admin use cases that read the desk's records for experts and operators."""

from __future__ import annotations

from typing import Any

from shared.domain.consent import PolicyVersion
from shared.errors import NotFoundError, ValidationError
from shared.services.moderation import restriction_json
from shared.services.policies import PolicyRegistry
from shared.services.ports import Clock
from shared.services.records import ConsentLog, Users

_USER_ID_LENGTH = 33


class AdminService:
    """What `/api/admin/users` and `/api/admin/policies` answer."""

    def __init__(
        self, users: Users, log: ConsentLog, policies: PolicyRegistry, clock: Clock
    ) -> None:
        self._users = users
        self._log = log
        self._policies = policies
        self._clock = clock

    def user(self, user_id: str) -> dict[str, Any]:
        """A user's status and consent history (every record: version id, method, time)."""
        if not (len(user_id) == _USER_ID_LENGTH and user_id.startswith("U")):
            raise ValidationError("userId: a LINE user id (U followed by 32 hex characters)")
        user = self._users.get(user_id)
        if user is None:
            raise NotFoundError("no such user")
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
            "suspension": (
                {"clause": user.suspension_clause, "since": user.suspended_at.isoformat()}
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

    def policies(self) -> dict[str, Any]:
        """Every policy version and which one is in effect."""
        current = self._policies.current()
        return {
            "current": current.version_id if current else None,
            "versions": [policy_json(v) for v in self._policies.versions()],
        }


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
