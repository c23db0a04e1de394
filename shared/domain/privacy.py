"""Keyed pseudonyms for LINE user ids: what logs, metrics and audit records may name."""

from __future__ import annotations

import hashlib
import hmac


def pseudonym(key: str, user_id: str) -> str:
    """A stable keyed hash of a user id (16 hex characters), useless without the key."""
    digest = hmac.new(key.encode("utf-8"), user_id.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:16]


def user_key(key: str, user_id: str) -> str:
    """The full keyed hash of a user id: what the blocklist and audit records keep of a user."""
    return hmac.new(key.encode("utf-8"), user_id.encode("utf-8"), hashlib.sha256).hexdigest()
