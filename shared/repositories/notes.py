"""Staff notes about a user: private notes on a session, and one note per user that carries
over to their later consultations (the console's 「メモ」 panels).

Both live in the user's partition of the users container, so an erasure (on request, by the
purge, or for inactivity) removes them with everything else the desk holds about the user,
and the user's export (開示) lists them. They are staff-only: nothing here is ever sent over
LINE. The retention timer erases a session note's text with the session's other text.

Documents:
- `note:{sessionId}:{noteId}` (type `note`): one private note on a session; `noteId` sorts by
  time, so a session's notes read in the order they were written.
- `usernote` (type `usernote`): the user's carried-over note, replaced with its ETag so two
  colleagues editing at once cannot silently overwrite each other.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from shared.errors import AlreadyExists, ConflictError, PreconditionFailed, ValidationError
from shared.ports import USERS, Document, DocumentStore
from shared.repositories.timestamps import time_or_none

MAX_NOTE = 1000
"""Characters of one note (a session's or a user's)."""
USER_NOTE_ID = "usernote"


@dataclass(frozen=True)
class SessionNote:
    """A staff member's private note on one session (never sent to LINE)."""

    note_id: str
    session_id: str
    user_id: str
    author: str
    text: str | None
    """None once the retention period has erased it."""
    at: datetime


@dataclass(frozen=True)
class UserNote:
    """The one note about a user that every later session's conversation view shows."""

    user_id: str
    text: str
    updated_by: str
    updated_at: datetime
    etag: str | None = None


def note_text(raw: object, *, required: bool = True) -> str:
    """A note's text from a form: trimmed, CRLF as LF, at most MAX_NOTE characters; empty
    is refused when `required` (a session note), allowed otherwise (clearing the user note)."""
    if not isinstance(raw, str):
        raise ValidationError("text", "note_text", max=MAX_NOTE)
    text = raw.replace("\r\n", "\n").strip()
    if len(text) > MAX_NOTE or (required and not text) or "\x00" in text:
        raise ValidationError("text", "note_text", max=MAX_NOTE)
    return text


class NoteLog:
    """Typed access to the notes over a DocumentStore."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    # -- session notes ------------------------------------------------------------------------

    def add(self, note: SessionNote) -> SessionNote:
        """Store a new note (its id is fresh: a clash is a bug, surfaced as AlreadyExists)."""
        self._store.create(USERS, _note_doc(note))
        return note

    def of_session(self, user_id: str, session_id: str) -> list[SessionNote]:
        """A session's notes, oldest first."""
        docs = self._store.query_partition(
            USERS, user_id, doc_type="note", where={"sessionId": session_id}
        )
        return sorted((_note(d) for d in docs), key=lambda n: (n.at, n.note_id))

    def of_user(self, user_id: str) -> list[SessionNote]:
        """Every session note about a user, oldest first (the history panel, the export)."""
        docs = self._store.query_partition(USERS, user_id, doc_type="note")
        return sorted((_note(d) for d in docs), key=lambda n: (n.at, n.note_id))

    def erase_text(self, user_id: str, session_id: str) -> int:
        """Blank the text of a session's notes (retention); returns how many changed."""
        changed = 0
        for note in self.of_session(user_id, session_id):
            if note.text is not None:
                self._store.upsert(USERS, _note_doc(replace(note, text=None)))
                changed += 1
        return changed

    # -- the user's carried-over note ---------------------------------------------------------

    def user_note(self, user_id: str) -> UserNote | None:
        """The user's note, or None if nobody has written one."""
        doc = self._store.read(USERS, user_id, USER_NOTE_ID)
        if doc is None:
            return None
        return UserNote(
            user_id=user_id,
            text=str(doc.get("text") or ""),
            updated_by=str(doc.get("updatedBy") or ""),
            updated_at=datetime.fromisoformat(doc["updatedAt"]),
            etag=doc.get("_etag"),
        )

    def save_user_note(self, note: UserNote, *, expected: str | None) -> UserNote:
        """Write the user's note over the version `expected` (its ETag; None: there was
        none). ConflictError("note_changed") when someone else wrote it since."""
        doc: Document = {
            "id": USER_NOTE_ID,
            "userId": note.user_id,
            "type": "usernote",
            "text": note.text,
            "updatedBy": note.updated_by,
            "updatedAt": note.updated_at.isoformat(),
        }
        try:
            if expected is None:
                stored = self._store.create(USERS, doc)
            else:
                stored = self._store.replace(USERS, doc, etag=expected)
        except (AlreadyExists, PreconditionFailed):
            raise ConflictError("text", "note_changed") from None
        return replace(note, etag=stored.get("_etag"))


def new_note_id(at: datetime) -> str:
    """A note id that sorts by time (then at random among notes of the same microsecond)."""
    return f"{at.strftime('%Y%m%dT%H%M%S%f')}-{secrets.token_hex(4)}"


def _note_doc(note: SessionNote) -> Document:
    return {
        "id": f"note:{note.session_id}:{note.note_id}",
        "userId": note.user_id,
        "type": "note",
        "sessionId": note.session_id,
        "noteId": note.note_id,
        "author": note.author,
        "text": note.text,
        "at": note.at.isoformat(),
    }


def _note(doc: Document) -> SessionNote:
    at = time_or_none(doc.get("at"))
    if at is None:
        raise ValueError("a note without its time")
    return SessionNote(
        note_id=str(doc["noteId"]),
        session_id=str(doc["sessionId"]),
        user_id=str(doc["userId"]),
        author=str(doc.get("author") or ""),
        text=doc.get("text"),
        at=at,
    )
