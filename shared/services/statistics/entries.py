"""Recording the anonymous counts the prefecture may publish (policy §5).

Each counted occurrence is an entry written where it happens, on a path that already writes:
a new user's follow, a consent, a session opened or closed (with its message count), an
expert's first answer, a suspension, an erasure. An entry carries no user and no session
reference, not even a hash: its id is random. What keeps counting idempotent (a redelivered
event, a retried close) is a mark in the user's own partition, keyed by the occurrence and
holding the entry's id (`StatMarks`); the erasure of the user deletes the marks, and with them
the only link between the user and their entries.
"""

from __future__ import annotations

from datetime import date, datetime

from shared.domain.consent import ConsentMethod
from shared.domain.sessions import Session
from shared.repositories.desk_records import StatEntries, StatMarks


class Statistics:
    """Counts occurrences, idempotently and anonymously."""

    def __init__(self, entries: StatEntries, marks: StatMarks) -> None:
        self._entries = entries
        self._marks = marks

    def _count(
        self, user_id: str, occurrence: str, kind: str, at: datetime, **dims: str | int
    ) -> None:
        self._entries.add(kind, self._marks.entry_id(user_id, f"{kind}:{occurrence}"), at, **dims)

    def new_user(self, user_id: str, event_id: str, at: datetime) -> None:
        """A user followed for the first time."""
        self._count(user_id, event_id, "user_new", at)

    def consent(
        self,
        user_id: str,
        method: ConsentMethod,
        event_id: str,
        at: datetime,
        version: str | None = None,
    ) -> None:
        """A consent (explicit or deemed), to `version` of the policy (the policies screen
        counts consents per version)."""
        if method.grants:
            dims: dict[str, str | int] = {"method": method.value}
            if version is not None:
                dims["version"] = version
            self._count(user_id, f"{event_id}:{method.value}", "consent", at, **dims)

    def consents_by_version(self, first: date, last: date) -> dict[str, dict[str, int]]:
        """Consents per policy version and method (`explicit`, `deemed`) in the months from
        `first` to `last` (Japan time); those counted before the version was recorded with
        them are under the version `""`."""
        counts: dict[str, dict[str, int]] = {}
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            for entry in self._entries.month(f"{year:04d}-{month:02d}"):
                if entry.get("kind") != "consent":
                    continue
                per = counts.setdefault(str(entry.get("version") or ""), {})
                method = str(entry.get("method"))
                per[method] = per.get(method, 0) + 1
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return counts

    def session_opened(self, session: Session) -> None:
        """A session opened on a topic."""
        self._count(
            session.user_id,
            session.session_id,
            "session_open",
            session.opened_at,
            topic=session.topic,
        )

    def session_closed(self, session: Session, user_messages: int) -> None:
        """A session closed, with its outcome and how many messages the user wrote."""
        at, dims = _closing(session, user_messages)
        self._count(session.user_id, session.session_id, "session_close", at, **dims)

    def outcome_recorded(self, session: Session, user_messages: int) -> None:
        """An expert recorded the outcome of a session the user had ended (the closing entry
        is rewritten with it, under the same random id, so the outcome counts once)."""
        at, dims = _closing(session, user_messages)
        entry_id = self._marks.entry_id(session.user_id, f"session_close:{session.session_id}")
        self._entries.put("session_close", entry_id, at, **dims)

    def first_answer(self, session: Session, at: datetime) -> None:
        """An expert answered a session for the first time (the first one counts)."""
        minutes = max(0, int((at - session.opened_at).total_seconds() // 60))
        self._count(
            session.user_id,
            session.session_id,
            "first_answer",
            at,
            minutes=minutes,
            topic=session.topic,
        )

    def survey(self, user_id: str, session_id: str, rating: str, at: datetime) -> None:
        """A user rated a closed session (満足 / ふつう / 不満); the first rating counts."""
        self._count(user_id, session_id, "survey", at, rating=rating)

    def suspension(self, user_id: str, at: datetime) -> None:
        """A user was suspended (once per suspension: `at` is when it began)."""
        self._count(user_id, at.isoformat(), "suspension", at)

    def erasure(self, user_id: str, at: datetime) -> None:
        """A user's data is being erased: counted before their partition goes, so a retry
        that finds the mark does not count it again, and the mark goes with the rest."""
        self._count(user_id, "erasure", "erasure", at)


def _closing(session: Session, user_messages: int) -> tuple[datetime, dict[str, str | int]]:
    """When a session closed and the dimensions of its entry (no expert's name)."""
    return session.closed_at or session.opened_at, {
        "topic": session.topic,
        "outcome": session.outcome or "",
        "closedBy": session.closed_by.value if session.closed_by else "",
        "messages": user_messages,
    }
