"""The desk's record of one LINE user: follow state and a summary of their consent.

The full consent history is a series of append-only records of its own; this summary is what
the webhook needs on every event, so it travels with the one point read of the user record.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from shared.domain.consent import ConsentMethod, ConsentRecord
from shared.domain.moderation import Restriction


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
    suspended_at: datetime | None = None
    suspension_clause: str | None = None
    suspension_noticed: bool = False
    restriction: Restriction | None = None
    restriction_noticed: bool = False
    media_day: str | None = None
    media_attempts: int = 0
    status_notice: str | None = None
    consent_event_id: str | None = None
    session_event_id: str | None = None
    last_session_id: str | None = None
    prompt_event_id: str | None = None
    ack_event_id: str | None = None
    wait_event_id: str | None = None
    status_answered_at: datetime | None = None
    draft_at: datetime | None = None
    # The day under which the activity directory lists the user (the retention timer's index).
    listed_day: str | None = None
    erased_at: datetime | None = None
    """When this user's earlier data was erased: events sent before it change nothing."""
    etag: str | None = None

    @property
    def suspended(self) -> bool:
        """Suspended by an operator (§9): one notice, then silence."""
        return self.suspended_at is not None

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
            consent_event_id=record.event_id,
            last_prompt_at=None,
            updated_at=record.at,
        )

    def with_session(
        self, session_id: str | None, now: datetime, event_id: str | None = None
    ) -> UserRecord:
        """The user's open consultation (None once it is over), and the event that changed it
        (so a redelivery of that event can tell it already happened)."""
        last = self.open_session_id if session_id is None else self.last_session_id
        return replace(
            self,
            open_session_id=session_id,
            last_session_id=last,
            session_event_id=event_id,
            ack_event_id=None,
            updated_at=now,
        )

    def suspend(self, clause: str, now: datetime) -> UserRecord:
        """Suspended under `clause`; the next event gets the notice."""
        return replace(
            self,
            suspended_at=self.suspended_at or now,
            suspension_clause=clause,
            suspension_noticed=False,
            open_session_id=None,
            updated_at=now,
        )

    def restrict(self, restriction: Restriction, now: datetime) -> UserRecord:
        """Restricted; the next event it affects gets the notice."""
        return replace(self, restriction=restriction, restriction_noticed=False, updated_at=now)

    def reinstate(self, now: datetime) -> UserRecord:
        """Neither suspended nor restricted any more."""
        return replace(
            self,
            suspended_at=None,
            suspension_clause=None,
            suspension_noticed=False,
            restriction=None,
            restriction_noticed=False,
            updated_at=now,
        )

    def media_attempt(self, day: str, now: datetime) -> UserRecord:
        """One more refused file today (repeated attempts raise a flag, §8(4))."""
        count = self.media_attempts + 1 if self.media_day == day else 1
        return replace(self, media_day=day, media_attempts=count, updated_at=now)

    def prompted(self, now: datetime, event_id: str | None = None) -> UserRecord:
        """The consent prompt was just sent (in answer to `event_id`)."""
        return replace(self, last_prompt_at=now, prompt_event_id=event_id, updated_at=now)
