"""The desk's service status (policy §7): open, under maintenance, suspended, or ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ServiceState(StrEnum):
    """What users get: the desk, or a notice."""

    OPEN = "open"
    MAINTENANCE = "maintenance"  # planned; may have an end time
    SUSPENDED = "suspended"  # emergency: a disaster, a fault
    ENDED = "ended"  # the desk has closed


@dataclass(frozen=True)
class Window:
    """A planned maintenance window that begins and ends on its own."""

    start: datetime
    end: datetime
    message: str | None = None


@dataclass(frozen=True)
class ServiceStatus:
    """What operators set, plus the windows they planned."""

    state: ServiceState = ServiceState.OPEN
    message: str | None = None
    until: datetime | None = None
    since: datetime | None = None
    windows: tuple[Window, ...] = ()


@dataclass(frozen=True)
class Effective:
    """The state in force at a moment, and the key of its window (one notice per window)."""

    state: ServiceState
    message: str | None
    until: datetime | None
    key: str

    @property
    def is_open(self) -> bool:
        """Users get the desk."""
        return self.state is ServiceState.OPEN


def effective(status: ServiceStatus, now: datetime) -> Effective:
    """The state in force at `now`: an operator's setting (until its end time), else a planned
    window that contains `now`, else open."""
    expired = status.until is not None and now >= status.until
    if status.state is not ServiceState.OPEN and not expired:
        since = status.since.isoformat() if status.since else ""
        return Effective(status.state, status.message, status.until, f"{status.state}:{since}")
    for window in status.windows:
        if window.start <= now < window.end:
            key = f"maintenance:{window.start.isoformat()}"
            return Effective(ServiceState.MAINTENANCE, window.message, window.end, key)
    return Effective(ServiceState.OPEN, None, None, "open")
