"""The desk's record of one LINE user's relationship with the account."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True)
class UserRecord:
    """Follow state of one user; consent and sessions live in records of their own."""

    user_id: str
    followed: bool
    first_followed_at: datetime | None
    updated_at: datetime
    etag: str | None = None

    @classmethod
    def new(cls, user_id: str, now: datetime) -> UserRecord:
        """A user the desk has not seen before (not yet following)."""
        return cls(user_id=user_id, followed=False, first_followed_at=None, updated_at=now)

    def follow(self, now: datetime) -> UserRecord:
        """The user added or unblocked the account."""
        return replace(
            self, followed=True, first_followed_at=self.first_followed_at or now, updated_at=now
        )

    def unfollow(self, now: datetime) -> UserRecord:
        """The user blocked the account: nothing may be sent to them any more."""
        return replace(self, followed=False, updated_at=now)
