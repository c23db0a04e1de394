"""A user's copy of their data (開示, personal information protection law).

`UserExports.export` gathers everything the desk holds under a LINE user id: the user record,
the consent records, the sessions with their messages (the user's and the experts' answers),
hand-over notes and the staff's private notes, the note carried over between their sessions,
the flags, the suspension, the event receipts still kept and the marks that
keep the anonymous statistics from counting something twice; and a plain
Japanese rendering an operator can print and post. Nothing of it is ever sent over LINE.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.domain.consent import japan_time
from shared.domain.moderation import Flag
from shared.domain.privacy import user_key
from shared.domain.sessions import Message, Session
from shared.domain.users import UserRecord
from shared.errors import NotFoundError
from shared.ports import DESK, USERS, Clock, DocumentStore
from shared.repositories.desk_records import FLAGS, FlagLog, Suspension, Suspensions
from shared.repositories.notes import NoteLog, SessionNote
from shared.repositories.timestamps import iso_or_none
from shared.repositories.user_records import (
    ConsentLog,
    MessageLog,
    SessionIndex,
    Users,
)
from shared.services.audit import Auditor
from shared.services.catalog import load_topics
from shared.services.moderation.actions import check_user_id
from shared.texts.catalogue import Catalogue, clause_name, code_name


class UserExports:
    """Builds a user's export (audited)."""

    def __init__(
        self,
        *,
        users: Users,
        consents: ConsentLog,
        index: SessionIndex,
        messages: MessageLog,
        notes: NoteLog,
        flags: FlagLog,
        suspensions: Suspensions,
        store: DocumentStore,
        auditor: Auditor,
        texts: Catalogue,
        hash_key: str,
        clock: Clock,
        contact: str,
    ) -> None:
        self._contact = contact
        self._users = users
        self._consents = consents
        self._index = index
        self._messages = messages
        self._notes = notes
        self._flags = flags
        self._suspensions = suspensions
        self._store = store
        self._auditor = auditor
        self._t = texts
        self._hash_key = hash_key
        self._clock = clock

    def export(self, user_id: str, who: str) -> dict[str, Any]:
        """Everything held about `user_id`, as JSON with a `text` rendering; NotFoundError
        for a user the desk holds nothing about (never seen, or erased)."""
        user = self._users.get(check_user_id(user_id))
        if user is None:
            raise NotFoundError("userId", "no_user")
        sessions = sorted(self._index.of_user(user_id), key=lambda s: s.session_id)
        flag_docs = self._store.query_partition(
            DESK, FLAGS, doc_type="flag", where={"userId": user_id}
        )
        flags = [f for d in flag_docs if (f := self._flags.get(d["id"])) is not None]
        suspension = self._suspensions.get(user_key(self._hash_key, user_id))
        receipts = self._store.query_partition(USERS, user_id, doc_type="event")
        marks = self._store.query_partition(USERS, user_id, doc_type="statmark")
        floods = self._store.query_partition(USERS, user_id, doc_type="flood")
        carries = self._store.query_partition(USERS, user_id, doc_type="carry")
        notes: dict[str, list[SessionNote]] = {}
        for note in self._notes.of_user(user_id):
            notes.setdefault(note.session_id, []).append(note)
        user_note = self._notes.user_note(user_id)
        now = self._clock()
        data: dict[str, Any] = {
            "userId": user_id,
            "exportedAt": now.isoformat(),
            "user": _user_json(user),
            "consents": [
                {
                    "policyVersion": r.version_id,
                    "method": r.method.value,
                    "at": r.at.isoformat(),
                    "textSha256": r.text_sha256,
                    "privacyPolicyVersion": r.privacy_policy_version,
                    "eventId": r.event_id,
                }
                for r in self._consents.history(user_id)
            ],
            "sessions": [
                _session_json(
                    s,
                    self._messages.of_session(user_id, s.session_id),
                    notes.pop(s.session_id, []),
                )
                for s in sessions
            ],
            # Notes whose session record is gone (an interrupted erasure): still held, so listed.
            "otherNotes": [_note_json(n) for kept in notes.values() for n in kept],
            "userNote": (
                {
                    "text": user_note.text,
                    "updatedBy": user_note.updated_by,
                    "updatedAt": user_note.updated_at.isoformat(),
                }
                if user_note
                else None
            ),
            "flags": [_flag_json(f) for f in flags],
            "suspension": _suspension_json(suspension),
            "eventReceipts": [
                {"id": d["id"], "eventType": d.get("eventType"), "status": d.get("status")}
                for d in receipts
            ],
            # What was counted (kind, session or event); the entries themselves name nobody.
            "statisticsMarks": [{"id": d["id"], "counted": d["id"].split(":")[1]} for d in marks],
            # The flood limits' counts of each day (kept two days), and answers being carried
            # to LINE at this moment (kept two minutes at most).
            "floodCounts": [
                {"id": d["id"], "day": d["id"].split(":")[1], "messages": d.get("n", 0)}
                for d in floods
            ],
            "deliveryClaims": [{"id": d["id"]} for d in carries],
        }
        data["text"] = self.render(data, user)
        self._auditor.record(who, "user.export", user_id, sessions=len(sessions))
        return data

    def render(self, data: dict[str, Any], user: UserRecord) -> str:
        """The export as plain Japanese text to post to the person: every heading explained,
        no stored codes (each is named from the catalogue), the operator's contact last."""
        t = self._t.text
        lines = [
            t("export_title"),
            "",
            t("export_intro", exported_at=japan_time(self._clock())),
            *self._heading("export_user"),
            f"{t('export_followed')}：{t('export_yes') if user.followed else t('export_no')}",
            f"{t('export_first_followed')}：{_jst(user.first_followed_at)}",
            f"{t('export_consent_status')}：" + self._name("export_status_", user.consent_status),
            *self._heading("export_consents"),
        ]
        lines += [
            f"・{c['policyVersion']}　{self._name('export_method_', c['method'])}　"
            f"{_jst_text(c['at'])}"
            for c in data["consents"]
        ] or [t("export_none")]
        lines += self._heading("export_sessions")
        for session in data["sessions"]:
            lines += self._session_lines(session)
        if not data["sessions"]:
            lines.append(t("export_none"))
        lines += self._heading("export_user_note")
        user_note = data["userNote"]
        lines.append(user_note["text"] if user_note and user_note["text"] else t("export_none"))
        lines += self._heading("export_flags")
        lines += [self._flag_line(f) for f in data["flags"]] or [t("export_none")]
        restriction = data["user"]["restriction"]
        lines += self._heading("export_restriction")
        lines.append(self._restriction_line(restriction) if restriction else t("export_none"))
        suspension = data["user"]["suspension"]
        lines += self._heading("export_suspension")
        lines.append(
            t(
                "export_suspension_line",
                clause=clause_name(self._t, str(suspension["clause"])),
                since=_jst_text(suspension["since"]),
            )
            if suspension
            else t("export_none")
        )
        lines += ["", t("export_contact", contact=self._contact)]
        return "\n".join(lines) + "\n"

    def _heading(self, key: str) -> list[str]:
        """A blank line, ■ the heading, and what it holds."""
        return ["", f"■{self._t.text(key)}", self._t.text(f"{key}_about")]

    def _name(self, prefix: str, code: object) -> str:
        return code_name(self._t, prefix, code)

    def _session_lines(self, session: dict[str, Any]) -> list[str]:
        t = self._t.text
        topics = {topic.topic_id: topic.label for topic in load_topics()}
        lines = [
            "",
            t("export_session_ref", ref=session["reference"]),
            f"{t('export_topic')}：{topics.get(session['topic'], session['topic'])}",
            f"{t('export_opened')}：{_jst_text(session['openedAt'])}",
            f"{t('export_closed')}：{_jst_text(session['closedAt'])}",
            f"{t('export_outcome')}：{session['outcome'] or t('export_none')}",
            f"{t('export_messages')}：",
        ]
        for message in session["messages"]:
            lines.append(
                f"  {_jst_text(message['at'])} {self._who(message)}："
                + self._message_text(message, erased=bool(session["textErasedAt"]))
            )
        sections = (
            ("export_notes", [h["note"] for h in session["handovers"] if h["note"]]),
            ("export_staff_notes", [n["text"] for n in session["notes"] if n["text"]]),
        )
        for key, notes in sections:
            if notes:
                lines += [f"{t(key)}（{t(key + '_about')}）：", *(f"  {n}" for n in notes)]
        if session.get("surveyComment"):
            lines.append(f"{t('export_survey_comment')}：{session['surveyComment']}")
        return lines

    def _who(self, message: dict[str, Any]) -> str:
        if message["role"] == "desk" and message["kind"] == "closing":
            return self._t.text("export_role_desk_closing")
        return self._name("export_role_", message["role"])

    def _message_text(self, message: dict[str, Any], *, erased: bool) -> str:
        t = self._t.text
        if message["unsent"]:
            return t("export_unsent")
        if message["text"] is not None:
            first, *rest = str(message["text"]).split("\n")
            return "\n".join([first, *(f"    {line}" if line else "" for line in rest)])
        if message["kind"] in ("text", "closing"):
            return t("export_text_erased") if erased else t("export_none")
        named = self._name("export_kind_", message["kind"])
        return named if named != message["kind"] else t("export_kind_other")

    def _flag_line(self, flag: dict[str, Any]) -> str:
        reasons = "、".join(self._name("flag_reason_", r["reason"]) for r in flag["reasons"])
        clause = clause_name(self._t, str(flag["clause"]))
        return f"・{_jst_text(flag['createdAt'])}　{clause}　{reasons}"

    def _restriction_line(self, restriction: dict[str, Any]) -> str:
        t = self._t.text
        until = restriction["until"]
        limit = t("export_until", until=_jst_text(until)) if until else t("export_until_none")
        return f"{self._name('export_mode_', restriction['mode'])}（{limit}）"


def _jst(moment: datetime | None) -> str:
    return japan_time(moment) if moment is not None else "—"


def _jst_text(iso: str | None) -> str:
    return japan_time(datetime.fromisoformat(iso)) if iso else "—"


def _user_json(user: UserRecord) -> dict[str, Any]:
    restriction = user.restriction
    return {
        "followed": user.followed,
        "firstFollowedAt": iso_or_none(user.first_followed_at),
        "updatedAt": user.updated_at.isoformat(),
        "consentStatus": user.consent_status,
        "consentVersion": user.consent_version,
        "consentMethod": user.consent_method.value if user.consent_method else None,
        "consentAt": iso_or_none(user.consent_at),
        "openSessionId": user.open_session_id,
        "lastSessionId": user.last_session_id,
        "suspension": (
            {
                "clause": user.suspension_clause,
                "since": user.suspended_at.isoformat(),
                "noticed": user.suspension_noticed,
            }
            if user.suspended_at
            else None
        ),
        "restriction": (
            {
                "mode": restriction.mode.value,
                "until": iso_or_none(restriction.until),
                "perMinute": restriction.per_minute,
                "perDay": restriction.per_day,
            }
            if restriction
            else None
        ),
        "refusedFilesToday": user.media_attempts,
        "activeDay": user.listed_day,
    }


def _note_json(note: SessionNote) -> dict[str, Any]:
    return {
        "noteId": note.note_id,
        "sessionId": note.session_id,
        "author": note.author,
        "at": note.at.isoformat(),
        "text": note.text,
    }


def _session_json(
    session: Session, messages: list[Message], notes: list[SessionNote]
) -> dict[str, Any]:
    return {
        "sessionId": session.session_id,
        "reference": session.receipt_number,
        "topic": session.topic,
        "status": session.status.value,
        "openedAt": session.opened_at.isoformat(),
        "closedAt": iso_or_none(session.closed_at),
        "closedBy": session.closed_by.value if session.closed_by else None,
        "outcome": session.outcome,
        "assignedTo": session.assigned_to,
        "textErasedAt": iso_or_none(session.text_erased_at),
        "surveyComment": session.survey_comment,
        "handovers": [
            {
                "action": h.action.value,
                "by": h.by,
                "at": h.at.isoformat(),
                "from": h.from_,
                "to": h.to,
                "note": h.note,
            }
            for h in session.handovers
        ],
        "notes": [_note_json(n) for n in notes],
        "messages": [
            {
                "messageId": m.message_id,
                "role": m.role.value,
                "kind": m.kind,
                "text": m.text,
                "at": m.at.isoformat(),
                "author": m.author,
                "delivery": m.delivery,
                "unsent": m.unsent,
            }
            for m in messages
        ],
    }


def _flag_json(flag: Flag) -> dict[str, Any]:
    return {
        "flagId": flag.flag_id,
        "clause": flag.clause,
        "reason": "; ".join(r.reason for r in flag.reasons),
        "reasons": [{"clause": r.clause, "reason": r.reason} for r in flag.reasons],
        "createdAt": flag.created_at.isoformat(),
        "status": flag.status.value,
        "messageRef": flag.message_ref,
        "sessionId": flag.session_id,
    }


def _suspension_json(suspension: Suspension | None) -> dict[str, Any] | None:
    if suspension is None:
        return None
    return {
        "clause": suspension.clause,
        "since": suspension.suspended_at.isoformat(),
        "purged": suspension.purged,
    }
