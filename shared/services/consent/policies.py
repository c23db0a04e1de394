"""Policy versions: the ones shipped with the code, plus those admins register.

The current version is looked up on every webhook event, so the registry keeps the list for a
short time per worker (one store query a minute, not one per event). A version registered on
one worker is seen by the others within that time.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources

from shared.domain.consent import PolicyVersion, current_version, text_sha256
from shared.errors import AlreadyExists, ConfigurationError, ConflictError, ValidationError
from shared.ports import Clock, DocumentStore
from shared.repositories.policy_records import PolicyRecords
from shared.services.cached import NO_WAIT, Cached, Settle

# Matched in full (`fullmatch`): `$` would let a trailing newline pass, `\d` other digits.
VERSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
SHA256 = re.compile(r"[0-9a-f]{64}")
# Effective dates the desk can reason about (00:00 Japan time in UTC must exist).
FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2999, 12, 31)


def load_shipped_policies(default_url: str) -> list[PolicyVersion]:
    """The versions in shared/data/policies, each text checked against its pinned SHA-256."""
    folder = resources.files("shared.data").joinpath("policies")
    manifest = json.loads(folder.joinpath("versions.json").read_text("utf-8"))
    versions = []
    for entry in manifest["versions"]:
        digest = text_sha256(folder.joinpath(entry["file"]).read_text("utf-8"))
        if digest != entry["sha256"]:
            raise ConfigurationError(
                f"policy text {entry['file']} differs from its pinned sha256: "
                "an edited text needs a new version"
            )
        versions.append(
            PolicyVersion(
                version_id=entry["id"],
                effective_date=date.fromisoformat(entry["effectiveDate"]),
                url=entry.get("url") or default_url,
                text_sha256=digest,
                privacy_policy_version=entry["privacyPolicyVersion"],
                requires_explicit=bool(entry["requiresExplicit"]),
            )
        )
    return versions


@dataclass(frozen=True)
class NewPolicy:
    """An operator's new policy version (its fields checked as the admin API reads them)."""

    version_id: str
    effective_date: date
    url: str
    text_sha256: str
    requires_explicit: bool = False
    privacy_policy_version: str | None = None

    def version(self, current: PolicyVersion | None) -> PolicyVersion:
        """The version to store; without a privacy policy version, the current one's."""
        privacy = self.privacy_policy_version
        if privacy is None and current is not None:
            privacy = current.privacy_policy_version
        if privacy is None or not VERSION_ID.fullmatch(privacy):
            raise ValidationError("privacyPolicyVersion", "version_id")
        return PolicyVersion(
            version_id=self.version_id,
            effective_date=self.effective_date,
            url=self.url,
            text_sha256=self.text_sha256,
            privacy_policy_version=privacy,
            requires_explicit=self.requires_explicit,
            shipped=False,
        )


class PolicyRegistry:
    """Every policy version, the current one, and registration of new ones."""

    def __init__(
        self,
        store: DocumentStore,
        shipped: list[PolicyVersion],
        clock: Clock,
        *,
        cache_seconds: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
        check_messages: Callable[[PolicyVersion, datetime], None] = lambda version, at: None,
        settle: Settle = NO_WAIT,
    ) -> None:
        self._check_messages = check_messages
        self._records = PolicyRecords(store)
        self._shipped = shipped
        self._clock = clock
        self._settle = settle
        self._kept: Cached[list[PolicyVersion]] = Cached(cache_seconds, monotonic)

    def versions(self) -> list[PolicyVersion]:
        """All versions, oldest first (kept for a short while)."""
        return self._kept.get(
            lambda: sorted([*self._shipped, *self._records.stored()], key=lambda v: v.effective_at)
        )

    def current(self) -> PolicyVersion | None:
        """The version in effect now."""
        return current_version(self.versions(), self._clock())

    def get(self, version_id: str) -> PolicyVersion | None:
        """One version by id."""
        return next((v for v in self.versions() if v.version_id == version_id), None)

    def register(self, command: NewPolicy) -> PolicyVersion:
        """Check an operator's new version against those there are, and store it
        (ValidationError / ConflictError); its privacy policy version defaults to the
        current one's."""
        version = command.version(self.current())
        try:
            self._check_messages(version, self._clock())
        except ValueError:
            raise ValidationError("url", "consent_prompt_too_long") from None
        existing = self.versions()
        if any(v.version_id == version.version_id for v in existing):
            raise AlreadyExists("versionId", "policy_exists", version=version.version_id)
        now = self._clock()
        if any(v.effective_date == version.effective_date for v in existing):
            raise ConflictError(
                "effectiveDate", "effective_date_taken", date=version.effective_date.isoformat()
            )
        if version.in_effect(now) and any(
            v.effective_at > version.effective_at and v.in_effect(now) for v in existing
        ):
            raise ConflictError("effectiveDate", "effective_date_past")
        self._records.add(version)
        self._kept.forget()
        # A version that takes effect before the other instances have read it again is
        # answered once they have: from the 2xx on, nothing is stored under the old consent.
        if version.effective_at <= now + timedelta(seconds=self._settle.seconds):
            self._settle()
        return version
