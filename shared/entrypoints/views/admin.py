"""JSON of the admin family: users, policies, the audit trail and the service status."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from shared.domain.consent import PolicyVersion, text_sha256
from shared.domain.messages import MAX_POLICY_URL, policy_url_problem, utf16_length
from shared.domain.service_status import ServiceState, Window
from shared.entrypoints.views.moderation import restriction_json
from shared.errors import ValidationError
from shared.repositories.desk_records import AuditRecord
from shared.repositories.paging import Page
from shared.repositories.timestamps import iso_or_none
from shared.services.admin import PolicyConsents, PolicyListing, UserView
from shared.services.consent.policies import (
    DAY,
    FIRST_DATE,
    LAST_DATE,
    SHA256,
    VERSION_ID,
    NewPolicy,
)
from shared.services.service_status import MAX_MESSAGE, ServiceChange, StatusView

# ISO 8601 with ASCII digits and an offset, matched in full (`$` would let "\n" pass).
_MOMENT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})"
)


def user_json(view: UserView) -> dict[str, Any]:
    """`GET /api/admin/users/{userId}`."""
    user = view.user
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
            {
                "clause": user.suspension_clause,
                "since": iso_or_none(user.suspended_at),
                "purgeAfter": iso_or_none(view.purge_after),
            }
            if user.suspended_at
            else None
        ),
        "restriction": restriction_json(view.restriction) if view.restriction else None,
        "openSessionId": user.open_session_id,
        "consentStatus": user.consent_status,
        "currentConsent": {
            "policyVersion": user.consent_version,
            "method": user.consent_method.value if user.consent_method else None,
            "at": iso_or_none(user.consent_at),
        },
        "firstFollowedAt": iso_or_none(user.first_followed_at),
        "consents": [
            {
                "policyVersion": record.version_id,
                "method": record.method.value,
                "at": record.at.isoformat(),
                "textSha256": record.text_sha256,
                "privacyPolicyVersion": record.privacy_policy_version,
                "eventId": record.event_id,
            }
            for record in view.consents
        ],
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


def policies_json(listing: PolicyListing) -> dict[str, Any]:
    """`GET /api/admin/policies`."""
    return {"current": listing.current, "versions": [policy_json(v) for v in listing.versions]}


def policy_consents_json(listing: PolicyConsents) -> dict[str, Any]:
    """The policies screen: versions newest first, with the consents given to each."""
    return {
        "current": listing.current,
        "versions": [
            {**policy_json(c.version), "explicit": c.explicit, "deemed": c.deemed}
            for c in listing.versions
        ],
        "unversioned": listing.unversioned,
    }


def audit_page_json(page: Page[AuditRecord]) -> dict[str, Any]:
    """`GET /api/admin/audit`: users only as keyed hashes (or erasure tokens)."""
    return {
        "records": [
            {
                "id": r.record_id,
                "at": r.at.isoformat(),
                "who": r.who,
                "whoId": r.who_key,  # who that is (a person's Entra key; None for the key)
                "assertedOperator": r.asserted_operator,
                "action": r.action,
                "userKey": r.user_key,
                "details": r.details,
            }
            for r in page.items
        ],
        "nextCursor": page.next_cursor,
    }


def service_json(view: StatusView) -> dict[str, Any]:
    """`GET /api/admin/service`: the state in force, what is set, and planned windows."""
    state, configured = view.effective, view.configured
    return {
        "state": state.state.value,
        "message": state.message,
        "until": iso_or_none(state.until),
        "configured": {
            "state": configured.state.value,
            "message": configured.message,
            "until": iso_or_none(configured.until),
            "since": iso_or_none(configured.since),
        },
        "windows": [_window_json(w) for w in view.windows],
    }


def service_change(body: Mapping[str, Any]) -> ServiceChange:
    """`PUT /api/admin/service`: `{"state", "message"?, "until"?, "from"?, "cancelWindows"?}`."""
    try:
        state = ServiceState(str(body.get("state")))
    except ValueError:
        names = ", ".join(s.value for s in ServiceState)
        raise ValidationError("state", "one_of", choices=names) from None
    message = body.get("message")
    # It goes into LINE messages: counted as LINE counts, and named before the times are read.
    if message is not None and (
        not isinstance(message, str) or utf16_length(message) > MAX_MESSAGE
    ):
        raise ValidationError("message", "text_max", max=MAX_MESSAGE)
    return ServiceChange(
        state=state,
        message=message,
        until=_moment(body.get("until"), "until"),
        start=_moment(body.get("from"), "from"),
        cancel_windows=body.get("cancelWindows") is True,
    )


def policy_command(payload: Mapping[str, Any]) -> NewPolicy:
    """`POST /api/admin/policies`: versionId, effectiveDate (Japan), url, text or textSha256,
    requiresExplicit?, privacyPolicyVersion? (older spellings accepted), or a ValidationError."""
    version_id = _field(payload, "versionId", "version", "id")
    if not isinstance(version_id, str) or not VERSION_ID.fullmatch(version_id):
        raise ValidationError("versionId", "version_id")
    raw_date = _field(payload, "effectiveDate", "effective_date")
    if not isinstance(raw_date, str) or not DAY.fullmatch(raw_date):
        raise ValidationError("effectiveDate", "date_format_jst")
    try:
        effective = date.fromisoformat(raw_date)
    except ValueError:
        raise ValidationError("effectiveDate", "date_invalid") from None
    if not FIRST_DATE <= effective <= LAST_DATE:
        raise ValidationError(
            "effectiveDate",
            "date_between",
            first=FIRST_DATE.isoformat(),
            last=LAST_DATE.isoformat(),
        )
    url = _field(payload, "url")
    if not isinstance(url, str) or policy_url_problem(url):
        raise ValidationError("url", "policy_url", max=MAX_POLICY_URL)
    digest = _digest(payload)
    requires_explicit = _field(payload, "requiresExplicit", "requires_explicit")
    if requires_explicit is None:
        requires_explicit = False
    if not isinstance(requires_explicit, bool):
        raise ValidationError("requiresExplicit", "boolean")
    privacy = _field(payload, "privacyPolicyVersion", "privacy_policy_version")
    if privacy is not None and (not isinstance(privacy, str) or not VERSION_ID.fullmatch(privacy)):
        raise ValidationError("privacyPolicyVersion", "version_id")
    return NewPolicy(version_id, effective, str(url), digest, requires_explicit, privacy)


def _field(payload: Mapping[str, Any], *names: str) -> Any:
    return next((payload[n] for n in names if n in payload), None)


def _digest(payload: Mapping[str, Any]) -> str:
    text = _field(payload, "text")
    given = _field(payload, "textSha256", "sha256", "hash")
    if text is not None and (not isinstance(text, str) or not text.strip()):
        raise ValidationError("text", "policy_text")
    if given is not None and (not isinstance(given, str) or not SHA256.fullmatch(given)):
        raise ValidationError("textSha256", "sha256")
    if text is None and given is None:
        raise ValidationError("text", "text_or_sha256")
    digest = text_sha256(text) if text is not None else str(given)
    if given is not None and digest != given:
        raise ValidationError("textSha256", "sha256_mismatch")
    return digest


def _window_json(window: Window) -> dict[str, Any]:
    return {
        "from": window.start.isoformat(),
        "until": window.end.isoformat(),
        "message": window.message,
    }


def _moment(raw: object, name: str) -> datetime | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not _MOMENT.fullmatch(raw):
        raise ValidationError(name, "iso_time")
    try:
        moment = datetime.fromisoformat(raw)
        moment.astimezone(UTC)
    except ValueError:
        raise ValidationError(name, "iso_time") from None
    except OverflowError:  # 0001-01-01T00:00+09:00 lies before the first representable instant
        raise ValidationError(name, "time_out_of_range") from None
    return moment
