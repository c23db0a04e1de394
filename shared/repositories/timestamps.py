"""The one pair of time helpers every stored document and JSON answer uses (ISO 8601)."""

from __future__ import annotations

from datetime import datetime


def time_or_none(value: str | None) -> datetime | None:
    """An ISO 8601 field as a datetime (None stays None)."""
    return datetime.fromisoformat(value) if value else None


def iso_or_none(value: datetime | None) -> str | None:
    """A datetime as an ISO 8601 field (None stays None)."""
    return value.isoformat() if value else None
