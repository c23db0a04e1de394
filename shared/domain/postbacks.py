"""Postback data: what the desk's buttons send back, as `action=...&key=value` strings."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

MAX_DATA_LENGTH = 300  # LINE's limit for postback data


def encode(action: str, **params: str) -> str:
    """`action=consent&version=2025-10-24&answer=yes`."""
    data = urlencode({"action": action, **params})
    if len(data) > MAX_DATA_LENGTH:
        raise ValueError("postback data too long")
    return data


def decode(data: str) -> tuple[str, dict[str, str]]:
    """The action and its parameters; an unknown or garbled payload has action ``""``."""
    params = dict(parse_qsl(data, keep_blank_values=True))
    return params.pop("action", ""), params
