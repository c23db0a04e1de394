"""The system clock (UTC). Services take a Clock so tests can set the time."""

from __future__ import annotations

from datetime import UTC, datetime


def system_clock() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(UTC)
