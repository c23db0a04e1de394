"""Floods that obstruct the desk (policy §8(5)): a per-user limit per minute and per day.

The counts live in the store, so that they hold whichever instance a message reaches: one
document per user and JST day, in the user's partition (erased with them, gone two days
later), holding the day's total and a count per 10-second slot. Each message costs one atomic
increment, which returns the totals including it: of two messages at once on two instances,
each sees its own total, so neither limit is exceeded by more than the messages in flight.

A refused message is taken back out of the counts (the limits count what was admitted) and
marks its slot as refused, in the same operation; the first refusal after a minute without
any is the one that tells the user, and starts an "overflow". Three overflows in a day, or
reaching the day's limit, make the flood "sustained" (one flag a day).

The minute is the last six slots (50-60 s); the window restarts at JST midnight with the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.domain.consent import JST
from shared.repositories.flood_counts import FloodCounts

# A flood that overflows the per-minute limit this many times in a day is "sustained".
SUSTAINED_OVERFLOWS = 3
SLOT_SECONDS = 10
MINUTE_SLOTS = 60 // SLOT_SECONDS
DAY = "n"  # the day's admitted messages
DAY_REFUSED = "td"  # refusals for the day's limit


@dataclass(frozen=True)
class Verdict:
    """Admit the message? Tell the user (once per window)? Raise a sustained-flood flag?"""

    admitted: bool
    notify: bool = False
    sustained: bool = False
    counted: tuple[str, str] | None = None
    """Where an admitted message was counted (day, slot): `uncount` takes it back."""


class FloodGuard:
    """Counts each user's messages and says which are over the limits."""

    def __init__(self, counts: FloodCounts, per_minute: int, per_day: int) -> None:
        self._counts = counts
        self._per_minute = per_minute
        self._per_day = per_day

    def admit(
        self, user_id: str, now: datetime, limits: tuple[int | None, int | None] = (None, None)
    ) -> Verdict:
        """Count one message from `user_id` at `now` (restricted users get lower limits)."""
        per_minute = limits[0] or self._per_minute
        per_day = limits[1] or self._per_day
        local = now.astimezone(JST)
        day = local.strftime("%Y%m%d")
        slot = (local.hour * 3600 + local.minute * 60 + local.second) // SLOT_SECONDS
        counts = self._counts.add(user_id, day, {DAY: 1, f"s{slot}": 1})
        over_day = counts[DAY] > per_day
        if not over_day and _last_minute(counts, "s", slot) <= per_minute:
            return Verdict(True, counted=(day, f"s{slot}"))
        marker = DAY_REFUSED if over_day else f"t{slot}"
        counts = self._counts.add(user_id, day, {DAY: -1, f"s{slot}": -1, marker: 1})
        if over_day:
            first = counts[DAY_REFUSED] == 1
            return Verdict(False, notify=first, sustained=first)
        # Only the refusal that starts an overflow tells the user (the slot's first, with none
        # in the minute before it); it is also the one that may find the flood sustained.
        starts = counts[marker] == 1 and _last_minute(counts, "t", slot - 1) == 0
        sustained = starts and _overflows(counts) == SUSTAINED_OVERFLOWS
        return Verdict(False, notify=starts, sustained=sustained)

    def uncount(self, user_id: str, verdict: Verdict) -> None:
        """Take back an admitted message whose handling failed: LINE's redelivery of it is
        counted instead, so each message counts once however often it is delivered."""
        if verdict.counted is not None:
            day, slot = verdict.counted
            self._counts.add(user_id, day, {DAY: -1, slot: -1})


def _last_minute(counts: dict[str, int], prefix: str, slot: int) -> int:
    """The sum of `prefix` counts over the minute ending with `slot`."""
    return sum(counts.get(f"{prefix}{s}", 0) for s in range(slot - MINUTE_SLOTS + 1, slot + 1))


def _overflows(counts: dict[str, int]) -> int:
    """How many overflows the day had: refused slots with none refused in the minute before."""
    refused = {int(name[1:]) for name, n in counts.items() if _is_slot(name, "t") and n}
    return sum(1 for s in refused if not refused & set(range(s - MINUTE_SLOTS, s)))


def _is_slot(name: str, prefix: str) -> bool:
    return name.startswith(prefix) and name[len(prefix) :].isdigit()
