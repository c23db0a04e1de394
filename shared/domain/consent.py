"""Consent to the operations policy (§3, §12, §15): versions, the gate, deemed consent.

- A version takes effect at 00:00 Japan time on its effective date; the current version is the
  latest one in effect (§15 ships 2025-09-26 and 2025-10-24).
- Nobody uses the desk before agreeing to the current version (§3).
- Continued use after a change counts as consent to the new version (§12(2)): a user who
  agreed to an older version gets a `deemed` record, unless a version that took effect since
  is marked `requires_explicit` (a material change), in which case they are asked again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import StrEnum
from functools import cached_property

# Japan has no daylight saving time: a fixed offset needs no tz database on the worker.
JST = timezone(timedelta(hours=9), "JST")


def text_sha256(text: str) -> str:
    """The SHA-256 (hex) of a policy text as UTF-8: what a consent record pins."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PolicyVersion:
    """One published version of the operations policy."""

    version_id: str
    effective_date: date
    url: str
    text_sha256: str
    privacy_policy_version: str
    requires_explicit: bool
    shipped: bool = True

    @cached_property
    def effective_at(self) -> datetime:
        """00:00 Japan time on the effective date, in UTC (asked on every event: kept)."""
        return datetime.combine(self.effective_date, time(0, 0), JST).astimezone(UTC)

    def in_effect(self, now: datetime) -> bool:
        """True once the effective moment has passed."""
        return self.effective_at <= now


class ConsentMethod(StrEnum):
    """How a consent record came about."""

    EXPLICIT = "explicit"
    DEEMED = "deemed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"

    @property
    def grants(self) -> bool:
        """True for the methods that let the user use the desk."""
        return self in (ConsentMethod.EXPLICIT, ConsentMethod.DEEMED)


@dataclass(frozen=True)
class ConsentRecord:
    """An append-only record of one consent decision, kept in the user's partition."""

    user_id: str
    version_id: str
    text_sha256: str
    privacy_policy_version: str
    method: ConsentMethod
    at: datetime
    event_id: str


class Gate(StrEnum):
    """What the gate decides for a user's event."""

    ALLOW = "allow"
    DEEM = "deem"
    PROMPT = "prompt"


def current_version(versions: list[PolicyVersion], now: datetime) -> PolicyVersion | None:
    """The latest version in effect at `now` (None before the first one)."""
    in_effect = [v for v in versions if v.in_effect(now)]
    return max(in_effect, key=lambda v: v.effective_at) if in_effect else None


def decide(
    versions: list[PolicyVersion],
    agreed_version: str | None,
    method: ConsentMethod | None,
    now: datetime,
) -> Gate:
    """May this user use the desk now, given the last consent decision on their record?"""
    current = current_version(versions, now)
    if current is None:
        return Gate.PROMPT
    if method is None or not method.grants or agreed_version is None:
        return Gate.PROMPT
    if agreed_version == current.version_id:
        return Gate.ALLOW
    agreed = next((v for v in versions if v.version_id == agreed_version), None)
    if agreed is None or agreed.effective_at > current.effective_at:
        return Gate.PROMPT
    since = [
        v
        for v in versions
        if agreed.effective_at < v.effective_at <= current.effective_at and v.in_effect(now)
    ]
    return Gate.PROMPT if any(v.requires_explicit for v in since) else Gate.DEEM


def may_prompt(last_prompt_at: datetime | None, now: datetime, interval: timedelta) -> bool:
    """Repeat the consent prompt at most once per `interval` (not on every message)."""
    return last_prompt_at is None or now - last_prompt_at >= interval


def japan_time(moment: datetime) -> str:
    """`2025年10月24日 09:30` in Japan time: how dates are shown to users."""
    local = moment.astimezone(JST)
    return f"{local.year}年{local.month}月{local.day}日 {local.hour:02d}:{local.minute:02d}"


def japan_date(day: date) -> str:
    """`2025年10月24日`."""
    return f"{day.year}年{day.month}月{day.day}日"
