"""Consultation sessions (policy §4): a user's conversation with the desk's experts.

The holder rule lives here, once, for every way staff act on a session (the admin API and the
console): a claimed session belongs to its assignee; anyone else is refused, naming the holder,
unless they hold Desk.Admin, in which case they take it over (and the caller audits that).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from shared.domain.staff import NAME_KEY, staff_key

SURVEY_COMMENT_WINDOW = timedelta(minutes=30)
"""How long after rating the closing survey the user's next message counts as their comment."""
MAX_SURVEY_COMMENT = 500
SURVEY_RATINGS = ("good", "fair", "poor")
"""The closing survey's answers: 満足 / ふつう / 不満."""


DRAFT_SESSION_ID = "draft"
"""The session id of a user's messages kept while no session is open (filed into the next)."""


class SessionStatus(StrEnum):
    """Waiting for an expert, taken by one, or over."""

    WAITING = "waiting"
    ACTIVE = "active"
    CLOSED = "closed"


class ClosedBy(StrEnum):
    """Who ended a session. An expert's name, when an expert did, is kept beside it."""

    USER = "user"
    EXPERT = "expert"
    IDLE = "idle"
    SYSTEM = "system"  # a suspension (policy §9)
    ERASURE = "erasure"

    @classmethod
    def stored(cls, raw: object) -> tuple[ClosedBy | None, str | None]:
        """Read a stored `closedBy`. Sessions stored before this field had a kind kept the
        expert's name in it (and `system` for the idle sweep and suspensions)."""
        if raw is None or raw == "":
            return None, None
        try:
            return cls(str(raw)), None
        except ValueError:
            return cls.EXPERT, str(raw)


class HandoverAction(StrEnum):
    """How a session changed hands."""

    RELEASE = "release"
    TRANSFER = "transfer"
    TAKEOVER = "takeover"


@dataclass(frozen=True)
class Handover:
    """A change of hands, with the staff's note (staff only: never sent to LINE)."""

    action: HandoverAction
    by: str
    at: datetime
    from_: str | None = None
    to: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class HolderDecision:
    """What the holder rule says about `operator` acting on a session."""

    allowed: bool
    holder: str | None
    takeover: bool = False


def holds(holder_key: str | None, assigned_to: str | None, operator: str) -> bool:
    """Is `operator` the one a session is assigned to? Compared by key (`StaffRef`): a
    signed-in person's Entra object id, so two people of one name are two people. A session
    assigned by name alone (handed to a name, or stored before keys) is anyone's who bears it."""
    if assigned_to is None:
        return False
    if holder_key is None or holder_key.startswith(NAME_KEY):
        return assigned_to == str(operator)
    return holder_key == staff_key(operator)


def holder_rule(
    holder: str | None, operator: str, *, admin: bool, holder_key: str | None = None
) -> HolderDecision:
    """May `operator` act on a session `holder` has (None: nobody has it; `holder_key`: who
    that is, see `holds`)?

    The holder may, and anyone may act on an unclaimed session; a Desk.Admin may take a
    claimed session over; everyone else is refused.
    """
    if holder is None or holds(holder_key, holder, operator):
        return HolderDecision(True, holder)
    if admin:
        return HolderDecision(True, holder, takeover=True)
    return HolderDecision(False, holder)


class Role(StrEnum):
    """Who wrote a message."""

    USER = "user"
    EXPERT = "expert"
    DESK = "desk"


@dataclass(frozen=True)
class Topic:
    """A consultation theme the user picks (data: shared/data/topics.json)."""

    topic_id: str
    label: str


@dataclass(frozen=True)
class Outcome:
    """How an expert closed a session (data: shared/data/outcomes.json)."""

    outcome_id: str
    label: str


@dataclass(frozen=True)
class Session:
    """One consultation. Its id sorts by opening time, so listings page by id."""

    session_id: str
    user_id: str
    topic: str
    status: SessionStatus
    opened_at: datetime
    assigned_to: str | None = None
    claimed_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: ClosedBy | None = None
    closed_by_name: str | None = None
    outcome: str | None = None
    follow_up_until: datetime | None = None
    handovers: tuple[Handover, ...] = ()
    urgent: bool = False
    urgent_at: datetime | None = None
    """When the crisis rule marked the session urgent (the first crisis wording in it)."""
    text_erased_at: datetime | None = None
    survey_rated_at: datetime | None = None
    """When the user first answered the closing survey (the rating itself is anonymous, in the
    statistics entries; only the time is kept here, to open the window for one comment)."""
    survey_comment: str | None = None
    """The one comment the user may send after rating: consultation text like any other
    (erased with the user, and by the retention timer)."""
    etag: str | None = None
    first_answer_at: datetime | None = None
    """When LINE first took an expert's answer (the supervisor's internal figures)."""
    survey_rating: str | None = None
    """The user's first rating (満足/ふつう/不満) for the supervisor's internal figures per
    consultant; never published (the public statistics count ratings anonymously)."""
    reference: str | None = None
    """The short 受付番号 the user is told (`251104-012`: the JST day and that day's number);
    sessions opened before it existed are known by their id alone."""
    holder_key: str | None = None
    """Who `assigned_to` is (`shared/domain/staff.py`): a signed-in person's Entra key, or a
    key made from a bare name."""
    stored_in: str | None = None
    """The store's partition the session was read from (set by the repository, like `etag`):
    an open session that closes moves to another, and saving it must know it is moving."""

    @property
    def receipt_number(self) -> str:
        """The 受付番号 people use: the short reference, else (older sessions) the id."""
        return self.reference or self.session_id

    @property
    def is_open(self) -> bool:
        """Not yet closed."""
        return self.status is not SessionStatus.CLOSED

    @property
    def awaits_outcome(self) -> bool:
        """The user ended it and no expert has recorded an outcome yet (one may, any time)."""
        return self.closed_by is ClosedBy.USER and self.outcome is None

    @property
    def workable(self) -> bool:
        """Staff may still claim, hand over or close it: open, or ended by the user and
        awaiting its outcome."""
        return self.is_open or self.awaits_outcome

    def answerable(self, now: datetime) -> bool:
        """An expert may answer: open, or ended by the user with their last question
        unanswered and the follow-up window still open."""
        if self.is_open:
            return True
        until = self.follow_up_until
        return self.closed_by is ClosedBy.USER and until is not None and now <= until

    def holder_rule(self, operator: str, *, admin: bool) -> HolderDecision:
        """The holder rule for this session (see `holder_rule`)."""
        return holder_rule(self.assigned_to, operator, admin=admin, holder_key=self.holder_key)

    def held_by(self, operator: str) -> bool:
        """Is the session assigned to `operator` (see `holds`)?"""
        return holds(self.holder_key, self.assigned_to, operator)

    def claim(self, operator: str, now: datetime) -> Session:
        """Assigned to `operator` (a session the user ended stays closed). Check the holder
        rule first: taking a claimed session is `take_over`."""
        status = SessionStatus.ACTIVE if self.is_open else self.status
        return replace(
            self,
            status=status,
            assigned_to=str(operator),
            holder_key=staff_key(operator),
            claimed_at=now,
        )

    def take_over(self, admin: str, now: datetime) -> Session:
        """A Desk.Admin takes the session from its holder (recorded with it)."""
        moved = Handover(HandoverAction.TAKEOVER, admin, now, from_=self.assigned_to, to=admin)
        status = SessionStatus.ACTIVE if self.is_open else self.status
        return replace(
            self,
            status=status,
            assigned_to=str(admin),
            holder_key=staff_key(admin),
            claimed_at=now,
            handovers=(*self.handovers, moved),
        )

    def release(self, by: str, note: str | None, now: datetime) -> Session:
        """Back to the queue (unassigned), with the note for whoever picks it up."""
        note = self._kept(note)
        moved = Handover(HandoverAction.RELEASE, by, now, from_=self.assigned_to, note=note)
        status = SessionStatus.WAITING if self.is_open else self.status
        return replace(
            self,
            status=status,
            assigned_to=None,
            holder_key=None,
            claimed_at=None,
            handovers=(*self.handovers, moved),
        )

    def transfer(self, by: str, to: str, note: str | None, now: datetime) -> Session:
        """Handed to the expert `to` (a StaffRef when the staff directory knows who bears the
        name; a bare name otherwise), with a note."""
        note = self._kept(note)
        moved = Handover(HandoverAction.TRANSFER, by, now, from_=self.assigned_to, to=to, note=note)
        status = SessionStatus.ACTIVE if self.is_open else self.status
        return replace(
            self,
            status=status,
            assigned_to=str(to),
            holder_key=staff_key(to),
            claimed_at=now,
            handovers=(*self.handovers, moved),
        )

    def close(
        self,
        by: ClosedBy,
        outcome: str | None,
        now: datetime,
        *,
        name: str | None = None,
        follow_up_until: datetime | None = None,
    ) -> Session:
        """Over. `name` is the expert's when an expert closed it; `follow_up_until` is how
        long an expert may still answer a question the user left unanswered."""
        return replace(
            self,
            status=SessionStatus.CLOSED,
            closed_at=now,
            closed_by=by,
            closed_by_name=name,
            outcome=outcome,
            follow_up_until=follow_up_until,
        )

    def _kept(self, note: str | None) -> str | None:
        """A note to store: none once the retention period has erased the session's text."""
        return None if self.text_erased_at is not None else note

    @property
    def text_expired(self) -> bool:
        """The retention timer has erased its messages' and notes' text."""
        return self.text_erased_at is not None

    def without_text(self, now: datetime) -> Session:
        """The session after its retention period: hand-over notes erased, marked as such."""
        return replace(
            self,
            handovers=tuple(replace(h, note=None) for h in self.handovers),
            survey_comment=None,
            text_erased_at=self.text_erased_at or now,
        )

    def rated(self, now: datetime, rating: str | None = None) -> Session:
        """The user answered the closing survey (the first answer and its time are kept)."""
        if self.survey_rated_at is not None:
            return self
        return replace(self, survey_rated_at=now, survey_rating=rating)

    def awaits_survey_comment(self, now: datetime) -> bool:
        """Closed and rated within `SURVEY_COMMENT_WINDOW`, no comment yet, text not erased:
        the user's next plain message is taken as their one comment."""
        rated = self.survey_rated_at
        return (
            not self.is_open
            and rated is not None
            and self.survey_comment is None
            and self.text_erased_at is None
            and rated <= now <= rated + SURVEY_COMMENT_WINDOW
        )

    def with_survey_comment(self, comment: str) -> Session:
        """The user's one comment after the survey (cut to `MAX_SURVEY_COMMENT` characters)."""
        return replace(self, survey_comment=comment[:MAX_SURVEY_COMMENT])

    def retention_due(self, cutoff: datetime, now: datetime) -> str | None:
        """Why the retention timer must leave this session's text alone (None: erase it):
        `open`, `recent` (closed after `cutoff`) or `followup` (an expert may still answer)."""
        if self.is_open or self.closed_at is None:
            return "open"
        if self.closed_at > cutoff:
            return "recent"
        if self.follow_up_until is not None and self.follow_up_until > now:
            return "followup"
        return None

    def with_outcome(self, outcome: str) -> Session:
        """The outcome an expert records after the user ended the session."""
        return replace(self, outcome=outcome)


@dataclass(frozen=True)
class Message:
    """One message of a session. Stickers are kept as the word "sticker", never content."""

    message_id: str
    session_id: str
    user_id: str
    role: Role
    kind: str
    text: str | None
    at: datetime
    line_message_id: str | None = None
    author: str | None = None
    delivery: str | None = None
    delivery_detail: str | None = None
    unsent: bool = False
    position: int = 0
    reply_token: str | None = field(default=None, repr=False)
    """The unused reply token of the user's webhook event (single use, about a minute): an
    expert answering within the reply window answers with it, for free. Never logged."""
    script: bool = False
    """An answer a function key's caller sent under an `operator` name nobody verified: the
    console and the API say it came from a script, not from the person it names."""


def awaits_answer(messages: Iterable[Message]) -> bool:
    """Is the user's last message (in order, unsent ones aside) later than the last answer
    LINE accepted from an expert?"""
    waiting = False
    for message in messages:
        if message.role is Role.USER and not message.unsent:
            waiting = True
        elif message.role is Role.EXPERT and message.delivery == "accepted":
            waiting = False
    return waiting


def session_id_for(event_id: str, opened_at: datetime) -> str:
    """`20251103T100000-3fa2c1`: sortable by time, the same for a redelivered event."""
    digest = hashlib.sha256(event_id.encode("utf-8")).hexdigest()[:6]
    return f"{opened_at:%Y%m%dT%H%M%S}-{digest}"


_SHORT_REFERENCE = re.compile(r"(\d{6})-?(\d{3,5})")
_LONG_REFERENCE = re.compile(r"(\d{8})T(\d{6})-([0-9A-F]{6})")
_DASHES = str.maketrans(dict.fromkeys("ー−‐―–—", "-"))
MAX_REFERENCE_TYPED = 100


def short_reference(day: date, number: int) -> str:
    """`251104-012`: six digits of the JST day, then the day's number (three digits or more);
    digits and one hyphen, easy to read over the phone."""
    return f"{day:%y%m%d}-{number:03d}"


def parse_reference(raw: str) -> tuple[bool, str]:
    """A 受付番号 as a person gives it (full-width digits, spaces, any dash, any case), as
    (short?, the stored form): a short reference or a session id. ValueError if neither."""
    if len(raw) > MAX_REFERENCE_TYPED:
        raise ValueError("reference too long")
    typed = "".join(unicodedata.normalize("NFKC", raw).split()).upper().translate(_DASHES)
    if (short := _SHORT_REFERENCE.fullmatch(typed)) is not None:
        day, number = short.groups()
        return True, f"{day}-{int(number):03d}"
    if (long := _LONG_REFERENCE.fullmatch(typed)) is not None:
        day, time, digest = long.groups()
        return False, f"{day}T{time}-{digest.lower()}"
    raise ValueError("not a reference")
