"""Recording the anonymous counts the prefecture may publish (policy §5).

Each counted occurrence is an entry keyed by what it counts (never by a user), written where
it happens on a path that already writes: a new user's follow, a consent, a session opened or
closed (with its message count), an expert's first answer, a suspension, an erasure.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from shared.domain.consent import ConsentMethod
from shared.domain.sessions import Session
from shared.services.desk_records import StatEntries


def _opaque(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


class Statistics:
    """Counts occurrences, idempotently."""

    def __init__(self, entries: StatEntries) -> None:
        self._entries = entries

    def new_user(self, event_id: str, at: datetime) -> None:
        """A user followed for the first time."""
        self._entries.add("user_new", _opaque(event_id), at)

    def consent(self, method: ConsentMethod, event_id: str, at: datetime) -> None:
        """A consent (explicit or deemed)."""
        if method.grants:
            self._entries.add("consent", _opaque(event_id, method.value), at, method=method.value)

    def session_opened(self, session: Session) -> None:
        """A session opened on a topic."""
        self._entries.add(
            "session_open", session.session_id, session.opened_at, topic=session.topic
        )

    def session_closed(self, session: Session, user_messages: int) -> None:
        """A session closed, with its outcome and how many messages the user wrote."""
        at, dims = _closing(session, user_messages)
        self._entries.add("session_close", session.session_id, at, **dims)

    def outcome_recorded(self, session: Session, user_messages: int) -> None:
        """An expert recorded the outcome of a session the user had ended (the closing entry
        is rewritten with it, so the outcome counts once)."""
        at, dims = _closing(session, user_messages)
        self._entries.put("session_close", session.session_id, at, **dims)

    def first_answer(self, session: Session, at: datetime) -> None:
        """An expert answered a session for the first time (the first one counts)."""
        minutes = max(0, int((at - session.opened_at).total_seconds() // 60))
        self._entries.add(
            "first_answer", session.session_id, at, minutes=minutes, topic=session.topic
        )

    def suspension(self, user_key: str, at: datetime) -> None:
        """A user was suspended."""
        self._entries.add("suspension", _opaque(user_key, at.isoformat()), at)

    def erasure(self, user_key: str, at: datetime) -> None:
        """A user's data was erased."""
        self._entries.add("erasure", _opaque(user_key, at.date().isoformat()), at)


def _closing(session: Session, user_messages: int) -> tuple[datetime, dict[str, str | int]]:
    """When a session closed and the dimensions of its entry (no expert's name)."""
    return session.closed_at or session.opened_at, {
        "topic": session.topic,
        "outcome": session.outcome or "",
        "closedBy": session.closed_by.value if session.closed_by else "",
        "messages": user_messages,
    }
