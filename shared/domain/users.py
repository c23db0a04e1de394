"""The desk's record of one LINE user: follow state and a summary of their consent.

The full consent history is a series of append-only records of its own; this summary is what
the webhook needs on every event, so it travels with the one point read of the user record.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from shared.domain.consent import ConsentMethod, ConsentRecord


@dataclass(frozen=True)
class UserRecord:
    """Follow state and consent summary of one user."""

    user_id: str
    followed: bool
    first_followed_at: datetime | None
    updated_at: datetime
    consent_version: str | None = None
    consent_method: ConsentMethod | None = None
    consent_at: datetime | None = None
    last_prompt_at: datetime | None = None
    open_session_id: str | None = None
    etag: str | None = None

    @classmethod
    def new(cls, user_id: str, now: datetime) -> UserRecord:
        """A user the desk has not seen before (not yet following)."""
        return cls(user_id=user_id, followed=False, first_followed_at=None, updated_at=now)

    @property
    def consent_status(self) -> str:
        """`pending` (never decided), `consented`, `declined` or `withdrawn`."""
        if self.consent_method is None:
            return "pending"
        return "consented" if self.consent_method.grants else self.consent_method.value

    def follow(self, now: datetime) -> UserRecord:
        """The user added or unblocked the account."""
        return replace(
            self, followed=True, first_followed_at=self.first_followed_at or now, updated_at=now
        )

    def unfollow(self, now: datetime) -> UserRecord:
        """The user blocked the account: nothing may be sent to them any more."""
        return replace(self, followed=False, updated_at=now)

    def decided(self, record: ConsentRecord) -> UserRecord:
        """The summary after a consent decision; the next prompt (a decline, a withdrawal, a new
        version) may then go out at once."""
        version = record.version_id if record.method.grants else self.consent_version
        return replace(
            self,
            consent_version=version,
            consent_method=record.method,
            consent_at=record.at,
            last_prompt_at=None,
            updated_at=record.at,
        )

    def with_session(self, session_id: str | None, now: datetime) -> UserRecord:
        """The user's open consultation (None once it is over)."""
        return replace(self, open_session_id=session_id, updated_at=now)

    def prompted(self, now: datetime) -> UserRecord:
        """The consent prompt was just sent."""
        return replace(self, last_prompt_at=now, updated_at=now)
