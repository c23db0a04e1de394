"""Canned replies (定型文) and referral destinations (紹介先): stored data operators edit.

Each list is one document of the `desk` container's `catalogue` partition. The files shipped in
`shared/data/` (canned_replies.json, referrals.json) seed the store the first time a list is
read; from then on the stored list is what the experts' console offers and what a closing may
name. Every change is audited (`canned.create|update|delete`, `referral.create|update|delete`)
with the entry's id, topic and the fields changed, before and after: staff-written text only,
never a user's. Two operators saving at once cannot both win: a write replaces the document
only if it is unchanged since it was read (PreconditionFailed, 409, otherwise).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from shared.domain.sessions import Outcome
from shared.errors import AlreadyExists, NotFoundError, ValidationError
from shared.ports import DESK, Document, DocumentStore
from shared.services.audit import Auditor
from shared.services.catalog import load_canned_replies, load_referrals, load_topics

CATALOGUE = "catalogue"
CANNED = "canned-replies"
REFERRALS = "referrals"
MAX_TITLE = 40
MAX_REPLY = 1000
MAX_LABEL = 60
ENTRY_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
COMMON = ""  # the topic of a canned reply offered under every topic


class StaffLists:
    """The stored canned replies and referrals, seeded from the shipped files."""

    def __init__(self, store: DocumentStore, auditor: Auditor) -> None:
        self._store = store
        self._auditor = auditor

    # -- reading ------------------------------------------------------------------------------

    def canned_entries(self) -> list[dict[str, str]]:
        """Every canned reply: `{id, topic, title, text}`, common ones (topic "") first."""
        entries: list[dict[str, str]] = list(self._read(CANNED)["entries"])
        return sorted(entries, key=lambda e: e["topic"] != COMMON)

    def canned_for(self, topic: str) -> list[dict[str, str]]:
        """The replies offered under `topic`: the common ones, then the topic's own."""
        entries = self.canned_entries()
        return [e for e in entries if e["topic"] == COMMON] + [
            e for e in entries if e["topic"] == topic
        ]

    def referrals(self) -> list[dict[str, str]]:
        """Every referral destination: `{id, label}`, in the operators' order."""
        return list(self._read(REFERRALS)["entries"])

    def referral_outcomes(self) -> tuple[Outcome, ...]:
        """The referrals as a closing names them."""
        return tuple(Outcome(r["id"], r["label"]) for r in self.referrals())

    # -- editing ------------------------------------------------------------------------------

    def save_reply(self, payload: dict[str, Any], operator: str) -> dict[str, str]:
        """Add (no `id`) or change a canned reply: `{id?, topic, title, text}`; audited."""
        topic = payload.get("topic") or COMMON
        topics = [t.topic_id for t in load_topics()]
        if topic != COMMON and topic not in topics:
            raise ValidationError("topic", "one_of", choices=", ".join(["", *topics]))
        entry = {
            "topic": topic,
            "title": _text(payload, "title", MAX_TITLE),
            "text": _text(payload, "text", MAX_REPLY),
        }
        return self._save(CANNED, "canned", payload.get("id"), entry, operator)

    def delete_reply(self, entry_id: str, operator: str) -> None:
        """Remove a canned reply; audited."""
        self._delete(CANNED, "canned", entry_id, operator)

    def save_referral(self, payload: dict[str, Any], operator: str) -> dict[str, str]:
        """Add (no `id`) or rename a referral destination: `{id?, label}`; audited."""
        label = _text(payload, "label", MAX_LABEL)
        taken = [
            r for r in self.referrals() if r["label"] == label and r["id"] != payload.get("id")
        ]
        if taken:
            raise ValidationError("label", "label_taken")
        return self._save(REFERRALS, "referral", payload.get("id"), {"label": label}, operator)

    def delete_referral(self, entry_id: str, operator: str) -> None:
        """Remove a referral destination (past closings keep the name they sent); audited."""
        self._delete(REFERRALS, "referral", entry_id, operator)

    # -- storage ------------------------------------------------------------------------------

    def _read(self, name: str) -> Document:
        doc = self._store.read(DESK, CATALOGUE, name)
        if doc is not None:
            return doc
        try:
            return self._store.create(DESK, _seed(name))
        except AlreadyExists:  # another instance seeded it a moment ago
            stored = self._store.read(DESK, CATALOGUE, name)
            if stored is None:
                raise
            return stored

    def _save(
        self, name: str, kind: str, entry_id: object, fields: dict[str, str], operator: str
    ) -> dict[str, str]:
        doc = self._read(name)
        entries: list[dict[str, str]] = list(doc["entries"])
        if entry_id in (None, ""):
            entry = {"id": f"{kind}-{uuid.uuid4().hex[:8]}", **fields}
            entries.append(entry)
            changed = sorted(fields)
            before: dict[str, str] = {}
            action = f"{kind}.create"
        else:
            index = _index_of(entries, entry_id)
            old = entries[index]
            entry = {**old, **fields}
            changed = sorted(k for k in fields if old.get(k) != fields[k])
            if not changed:
                return entry
            before = {k: old[k] for k in changed}
            entries[index] = entry
            action = f"{kind}.update"
        self._store.replace(DESK, _stored(doc, entries), etag=doc["_etag"])
        self._auditor.record(
            operator,
            action,
            None,
            id=entry["id"],
            topic=entry.get("topic"),
            changed=changed,
            before=before,
            after={k: entry[k] for k in changed},
        )
        return entry

    def _delete(self, name: str, kind: str, entry_id: str, operator: str) -> None:
        doc = self._read(name)
        entries: list[dict[str, str]] = list(doc["entries"])
        old = entries.pop(_index_of(entries, entry_id))
        self._store.replace(DESK, _stored(doc, entries), etag=doc["_etag"])
        fields = sorted(k for k in old if k not in ("id", "topic"))
        self._auditor.record(
            operator,
            f"{kind}.delete",
            None,
            id=old["id"],
            topic=old.get("topic"),
            changed=fields,
            before={k: old[k] for k in fields},
            after={},
        )


def _stored(doc: Document, entries: list[dict[str, str]]) -> Document:
    """The document to write back: ours, without the store's own `_` fields."""
    return {**{k: v for k, v in doc.items() if not k.startswith("_")}, "entries": entries}


def _seed(name: str) -> Document:
    """The shipped list, as the stored document it seeds."""
    if name == CANNED:
        data = load_canned_replies()
        entries = [{"topic": COMMON, **e} for e in data["common"]] + [
            {"topic": topic, **e} for topic, listed in data["byTopic"].items() for e in listed
        ]
    else:
        entries = [{"id": r.outcome_id, "label": r.label} for r in load_referrals()]
    return {"id": name, "pk": CATALOGUE, "type": "catalogue", "entries": entries}


def _index_of(entries: list[dict[str, str]], entry_id: object) -> int:
    if isinstance(entry_id, str) and ENTRY_ID.fullmatch(entry_id):
        for index, entry in enumerate(entries):
            if entry["id"] == entry_id:
                return index
    raise NotFoundError("id", "no_entry")


def _text(payload: dict[str, Any], field: str, limit: int) -> str:
    value = payload.get(field)
    if not isinstance(value, str):
        raise ValidationError(field, "text_length", max=limit)
    value = value.replace("\r\n", "\n").strip()
    if not 0 < len(value) <= limit or any(ord(c) < 32 and c != "\n" for c in value):
        raise ValidationError(field, "text_length", max=limit)
    return value
