"""Policy versions registered by operators (the shipped ones live in shared/data)."""

from __future__ import annotations

from datetime import date

from shared.domain.consent import PolicyVersion
from shared.ports import DESK, Document, DocumentStore

POLICY_PARTITION = "policies"


class PolicyRecords:
    """The registered versions, in the desk container."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def stored(self) -> list[PolicyVersion]:
        """Every registered version (unordered)."""
        docs = self._store.query_partition(DESK, POLICY_PARTITION, doc_type="policy")
        return [_from_doc(d) for d in docs]

    def add(self, version: PolicyVersion) -> None:
        """Store a new version (AlreadyExists if its id is taken)."""
        self._store.create(DESK, _to_doc(version))


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
