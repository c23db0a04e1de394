"""Floods that obstruct the desk (policy §8(5)): a per-user limit per minute and per day.

The counts live in this worker's memory, not in the store: counting in the store would add a
write to every message, the desk's most common path. With several workers a user's messages
are spread over them, so each enforces the limits on its share: a flood is still cut down to
size, which is the point (§8(5) is about obstruction, not billing). Counts are kept per user
key (a hash), not per LINE user id, and forgotten after a day of quiet.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.domain.consent import JST

# A flood that overflows the per-minute limit this many times in a day is "sustained".
SUSTAINED_OVERFLOWS = 3
MAX_TRACKED_USERS = 100_000


@dataclass(frozen=True)
class Verdict:
    """Admit the message? Tell the user (once per window)? Raise a sustained-flood flag?"""

    admitted: bool
    notify: bool = False
    sustained: bool = False


@dataclass
class _Track:
    minute: deque[datetime] = field(default_factory=deque)
    day: str = ""
    day_count: int = 0
    overflows: int = 0
    told_minute: bool = False
    told_day: bool = False
    flagged_day: bool = False


class FloodGuard:
    """Counts each user's messages and says which are over the limits."""

    def __init__(self, per_minute: int, per_day: int) -> None:
        self._per_minute = per_minute
        self._per_day = per_day
        self._lock = threading.Lock()
        self._tracks: OrderedDict[str, _Track] = OrderedDict()

    def admit(
        self, user_key: str, now: datetime, limits: tuple[int | None, int | None] = (None, None)
    ) -> Verdict:
        """Count one message from `user_key` at `now` (restricted users get lower limits)."""
        per_minute = limits[0] or self._per_minute
        per_day = limits[1] or self._per_day
        with self._lock:
            track = self._track(user_key)
            day = now.astimezone(JST).strftime("%Y-%m-%d")
            if track.day != day:
                track.day, track.day_count, track.overflows = day, 0, 0
                track.told_day = track.flagged_day = False
            while track.minute and now - track.minute[0] >= timedelta(minutes=1):
                track.minute.popleft()
            if not track.minute:
                track.told_minute = False
            if track.day_count >= per_day:
                notify, track.told_day = not track.told_day, True
                return Verdict(False, notify, self._sustained(track))
            if len(track.minute) >= per_minute:
                notify = not track.told_minute
                if notify:
                    track.told_minute = True
                    track.overflows += 1
                sustained = track.overflows >= SUSTAINED_OVERFLOWS and self._sustained(track)
                return Verdict(False, notify, sustained)
            track.minute.append(now)
            track.day_count += 1
            return Verdict(True)

    def _sustained(self, track: _Track) -> bool:
        """True the first time a day's flood counts as sustained (one flag a day)."""
        if track.flagged_day:
            return False
        track.flagged_day = True
        return True

    def _track(self, user_key: str) -> _Track:
        track = self._tracks.pop(user_key, None) or _Track()
        self._tracks[user_key] = track  # most recently used last
        while len(self._tracks) > MAX_TRACKED_USERS:
            self._tracks.popitem(last=False)
        return track

    def forget(self, user_key: str) -> None:
        """Drop a user's counts (their data was erased)."""
        with self._lock:
            self._tracks.pop(user_key, None)
