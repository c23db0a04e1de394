"""Policy versions: the ones shipped with the code, plus those admins register.

The current version is looked up on every webhook event, so the registry keeps the list for a
short time per worker (one store query a minute, not one per event). A version registered on
one worker is seen by the others within that time.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from importlib import resources
from typing import Any

from shared.domain.consent import PolicyVersion, current_version, text_sha256
from shared.domain.messages import MAX_POLICY_URL, policy_url_problem
from shared.errors import AlreadyExists, ConfigurationError, ConflictError, ValidationError
from shared.services.ports import DESK, Clock, Document, DocumentStore

POLICY_PARTITION = "policies"
# Matched in full (`fullmatch`): `$` would let a trailing newline pass, `\d` other digits.
_VERSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
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
    ) -> None:
        self._check_messages = check_messages
        self._store = store
        self._shipped = shipped
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cached: list[PolicyVersion] | None = None
        self._cached_at = 0.0

    def versions(self) -> list[PolicyVersion]:
        """All versions, oldest first (cached for a short while)."""
        with self._lock:
            now = self._monotonic()
            if self._cached is None or now - self._cached_at >= self._cache_seconds:
                stored = self._store.query_partition(DESK, POLICY_PARTITION, doc_type="policy")
                self._cached = sorted(
                    [*self._shipped, *(_from_doc(d) for d in stored)], key=lambda v: v.effective_at
                )
                self._cached_at = now
            return self._cached

    def current(self) -> PolicyVersion | None:
        """The version in effect now."""
        return current_version(self.versions(), self._clock())

    def get(self, version_id: str) -> PolicyVersion | None:
        """One version by id."""
        return next((v for v in self.versions() if v.version_id == version_id), None)

    def register(self, payload: dict[str, Any]) -> PolicyVersion:
        """Validate an admin's new version and store it (ValidationError / ConflictError)."""
        version = parse_new_version(payload, self.current())
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
        self._store.create(DESK, _to_doc(version))
        with self._lock:
            self._cached = None
        return version


def parse_new_version(payload: dict[str, Any], current: PolicyVersion | None) -> PolicyVersion:
    """A PolicyVersion from the admin API's JSON, or a ValidationError naming the field."""
    version_id = _field(payload, "versionId", "version", "id")
    if not isinstance(version_id, str) or not _VERSION_ID.fullmatch(version_id):
        raise ValidationError("versionId", "version_id")
    raw_date = _field(payload, "effectiveDate", "effective_date")
    if not isinstance(raw_date, str) or not _DATE.fullmatch(raw_date):
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
    if privacy is None and current is not None:
        privacy = current.privacy_policy_version
    if not isinstance(privacy, str) or not _VERSION_ID.fullmatch(privacy):
        raise ValidationError("privacyPolicyVersion", "version_id")
    return PolicyVersion(
        version_id=version_id,
        effective_date=effective,
        url=str(url),
        text_sha256=digest,
        privacy_policy_version=privacy,
        requires_explicit=requires_explicit,
        shipped=False,
    )


def _field(payload: dict[str, Any], *names: str) -> Any:
    return next((payload[n] for n in names if n in payload), None)


def _digest(payload: dict[str, Any]) -> str:
    text = _field(payload, "text")
    given = _field(payload, "textSha256", "sha256", "hash")
    if text is not None and (not isinstance(text, str) or not text.strip()):
        raise ValidationError("text", "policy_text")
    if given is not None and (not isinstance(given, str) or not _SHA256.fullmatch(given)):
        raise ValidationError("textSha256", "sha256")
    if text is None and given is None:
        raise ValidationError("text", "text_or_sha256")
    digest = text_sha256(text) if text is not None else str(given)
    if given is not None and digest != given:
        raise ValidationError("textSha256", "sha256_mismatch")
    return digest


def _to_doc(version: PolicyVersion) -> Document:
    return {
        "id": version.version_id,
        "pk": POLICY_PARTITION,
        "type": "policy",
        "effectiveDate": version.effective_date.isoformat(),
        "url": version.url,
        "textSha256": version.text_sha256,
        "privacyPolicyVersion": version.privacy_policy_version,
        "requiresExplicit": version.requires_explicit,
    }


def _from_doc(doc: Document) -> PolicyVersion:
    return PolicyVersion(
        version_id=doc["id"],
        effective_date=date.fromisoformat(doc["effectiveDate"]),
        url=doc["url"],
        text_sha256=doc["textSha256"],
        privacy_policy_version=doc["privacyPolicyVersion"],
        requires_explicit=bool(doc["requiresExplicit"]),
        shipped=False,
    )
