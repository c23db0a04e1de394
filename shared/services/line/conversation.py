"""What the desk does with each kind of event: a table keyed by event type, one handler each.

Each user event passes, in order:
1. the suspension check (§9): a suspended user, or the keyed hash of one already erased, gets
   one notice and then silence; nothing they send is stored;
2. requests that need no consent: erasure of one's data (データ削除, with a confirmation),
   honoured whatever the service status and the flood limits (§5: always honoured);
   then a user the desk holds nothing about (new, or back after an erasure) starts as after a
   first follow; then the service status (§7): while the desk is not open, the state's notice
   once per user and window, a short reminder for each later message, and nothing else
   (follows, consents and blocks are still recorded);
3. the flood limits (§8(5)): over them, one notice and the messages are not stored;
4. the consent gate (§3): until the user agrees to the current version, the only answer is
   the consent prompt (at most once every few minutes), and nothing the user sent is stored;
5. the consultation (§4): a consented user picks a topic to open a session; their texts and
   stickers then go into it without an answer each (the common path: one point read and one
   write, the message itself, whose id refuses a redelivery). Stored texts are screened for
   links and listed wording (§8), which raises flags for people, never blocks. Images,
   videos, audio and files are refused and never downloaded (§8(4)).

Events in `standby` mode (another channel serves the chat) change the follow state at most:
the desk neither answers them nor counts them as use (no prompt, no deemed consent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import assert_never

from shared.domain import postbacks
from shared.domain.commands import INFORMATION, UNGATED, Command, command_named
from shared.domain.consent import ConsentMethod, Gate
from shared.domain.crisis import CrisisWords
from shared.domain.events import (
    Event,
    EventMeta,
    FollowEvent,
    MediaMessageEvent,
    OtherEvent,
    OtherMessageEvent,
    PostbackEvent,
    StickerMessageEvent,
    TextMessageEvent,
    UnfollowEvent,
    UnsendEvent,
)
from shared.domain.hours import BusinessHours, japan_day_and_time
from shared.domain.messages import OutboundMessage
from shared.domain.moderation import RestrictionMode
from shared.domain.sessions import SURVEY_RATINGS, ClosedBy, Topic
from shared.domain.users import UserRecord
from shared.errors import PreconditionFailed
from shared.ports import Clock
from shared.repositories.paging import is_id
from shared.repositories.tombstones import Tombstones
from shared.repositories.user_records import Users
from shared.services.consent.gate import Answer, ConsentService
from shared.services.consultations.alerts import CrisisAlerts
from shared.services.consultations.sessions import Sessions, event_time
from shared.services.line.answering import Answerer
from shared.services.line.replies import Replies, version_label
from shared.services.line.ticket import EventOutcome, Ticket
from shared.services.moderation.actions import Moderation
from shared.services.privacy.erasure import Eraser
from shared.services.service_status import StatusBoard
from shared.services.statistics.entries import Statistics
from shared.texts.catalogue import command_for

Respond = Callable[[EventMeta, UserRecord, dict[str, str]], "Messages"]
# A question about waiting inside a consultation is answered at most this often.
WAITING_INTERVAL = timedelta(minutes=3)
Messages = tuple[OutboundMessage, ...]
StoredMessage = tuple[str, str | None, str]  # kind, text, LINE message id


class Conversation:
    """The desk's side of the chat with one user."""

    def __init__(
        self,
        *,
        users: Users,
        consent: ConsentService,
        sessions: Sessions,
        moderation: Moderation,
        eraser: Eraser,
        statistics: Statistics,
        status: StatusBoard,
        referral: str,
        answerer: Answerer,
        replies: Replies,
        topics: tuple[Topic, ...],
        hours: BusinessHours,
        clock: Clock,
        tombstones: Tombstones,
        alerts: CrisisAlerts,
        crisis_words: CrisisWords | None = None,
    ) -> None:
        self._alerts = alerts
        self._tombstones = tombstones
        self._crisis_words = crisis_words or CrisisWords(())
        self._users = users
        self._consent = consent
        self._sessions = sessions
        self._moderation = moderation
        self._eraser = eraser
        self._statistics = statistics
        self._status = status
        self._referral = referral
        self._answerer = answerer
        self._replies = replies
        self._topics = {t.topic_id: t for t in topics}
        self._hours = hours
        self._clock = clock
        self._commands: dict[Command, Respond] = {
            Command.RECEIPT: self._receipt,
            Command.WITHDRAW: self._withdraw,
            Command.MENU: self._menu,
            Command.TOPIC: self._open_session,
            Command.END: self._end_session,
            Command.STATUS: self._status_answer,
            Command.DATA_MENU: self._data_menu,
            Command.SURVEY: self._survey,
        }
        # What a button may ask: the menus' commands and the answers to the desk's questions.
        self._buttons = frozenset({*self._commands, Command.CONSENT, Command.ERASE, *INFORMATION})

    @staticmethod
    def handles(event: Event) -> bool:
        """Does the desk act on this event's type (join, beacon and new types: no)?"""
        return not isinstance(event, OtherEvent)

    def handle(self, event: Event, ticket: Ticket) -> None:
        """Act on one event, by its type."""
        match event:
            case FollowEvent():
                self.on_follow(event, ticket)
            case UnfollowEvent():
                self.on_unfollow(event, ticket)
            case TextMessageEvent():
                self.on_text(event, ticket)
            case StickerMessageEvent():
                self.on_sticker(event, ticket)
            case MediaMessageEvent():
                self.on_media(event, ticket)
            case OtherMessageEvent():
                self.on_other_message(event, ticket)
            case PostbackEvent():
                self.on_postback(event, ticket)
            case UnsendEvent():
                self.on_unsend(event, ticket)
            case OtherEvent():
                pass  # counted `unknown` by the webhook, which asks `handles` first
            case _:
                assert_never(event)

    # -- handlers -----------------------------------------------------------------------------

    def on_follow(self, event: FollowEvent, ticket: Ticket) -> None:
        """Record the follow; greet, and ask for consent unless the user holds it already."""
        meta = event.meta
        known = self._users.get(meta.source.partition)
        erased = self._last_erasure(meta, known)
        if self._before(erased, meta, ticket):
            return  # sent before the user's data was erased: changes nothing
        if known is None and self._blocked(meta, ticket, None):
            return  # erased and suspended: store nothing about them again
        if not ticket.claim():
            return
        if known is None or known.first_followed_at is None:  # counted first: idempotent
            self._statistics.new_user(meta.source.partition, meta.event_id, self._clock())
        user = self._users.save((known or self._new_user(meta, erased)).follow(self._clock()))
        if (
            meta.standby
            or self._blocked(meta, ticket, user)
            or self._closed(meta, ticket, user, remind=False)
        ):
            return
        if self._consent.gate(user) is Gate.ALLOW:
            greeting = "greeting_unblocked" if event.is_unblocked else "greeting"
            self._answer(meta, (self._replies.text(greeting), self._menu_for(user)))
            return
        self._consent.prompted(user, meta)
        self._answer(meta, (self._replies.text("greeting"), *self._consent_prompt()))

    def on_unfollow(self, event: UnfollowEvent, ticket: Ticket) -> None:
        """Record the block (idempotent: no receipt needed); nothing can be sent any more."""
        user = self._users.get(event.meta.source.partition)
        if user is not None and not self._before(user.erased_at, event.meta, ticket):
            self._users.save(user.unfollow(self._clock()))

    def on_text(self, event: TextMessageEvent, ticket: Ticket) -> None:
        """A typed command (同意内容の確認, 相談を終了, データ削除, ...) or a consultation text.
        Only a short text can be a command; a question about waiting is also consultation
        text (filed when a session is open); a crisis wording comes first of all."""
        message: StoredMessage = ("text", event.text, event.message_id)
        if self._crisis_words.matches(event.text):
            self._serve(event.meta, ticket, Command.CRISIS, {}, message)
            return
        command = command_named(command_for(event.text))
        if command is Command.ERASE:
            command = Command.ERASE_REQUEST  # typing asks; only the confirmation button erases
        if command is Command.CONSENT:
            # 「同意します」 typed after the prompt is the same explicit act as 同意する; from a
            # user who has agreed already it is consultation text like any other.
            typed = {"version": self._consent.current().version_id, "answer": "yes"}
            self._serve(event.meta, ticket, command, typed, message)
        elif command is Command.STATUS:
            self._serve(event.meta, ticket, command, {}, message)
        elif command is not None:
            self._serve(event.meta, ticket, command, {})
        else:
            self._serve(event.meta, ticket, None, {}, message)

    def on_sticker(self, event: StickerMessageEvent, ticket: Ticket) -> None:
        """A sticker is kept as the word "sticker", never its content."""
        self._serve(event.meta, ticket, None, {}, ("sticker", None, event.message_id))

    def on_media(self, event: MediaMessageEvent, ticket: Ticket) -> None:
        """Images, videos, audio and files are refused and never downloaded (§8(4))."""
        params = {"kind": event.kind.value, "id": event.message_id}
        self._serve(event.meta, ticket, Command.MEDIA, params)

    def on_other_message(self, event: OtherMessageEvent, ticket: Ticket) -> None:
        """Locations and message kinds LINE adds later: not kept; the menu is shown."""
        self._serve(event.meta, ticket, None, {})

    def on_postback(self, event: PostbackEvent, ticket: Ticket) -> None:
        """A button press; the consent answer passes the gate, the erasure answer needs none."""
        action, params = postbacks.decode(event.data)
        if action == Command.HELPLINES:  # the rich menu's 緊急のとき: help lines, as a crisis text
            self._serve(event.meta, ticket, Command.CRISIS, {})
            return
        command = command_named(action)
        self._serve(event.meta, ticket, command if command in self._buttons else None, params)

    def on_unsend(self, event: UnsendEvent, ticket: Ticket) -> None:
        """The user unsent a message: its text leaves the store (idempotent, silent)."""
        self._sessions.unsend(event.meta.source.partition, event.message_id)

    # -- the steps every user event takes -----------------------------------------------------

    def _serve(
        self,
        meta: EventMeta,
        ticket: Ticket,
        command: Command | None,
        params: dict[str, str],
        message: StoredMessage | None = None,
    ) -> None:
        if meta.standby:
            return
        known = self._users.get(meta.source.partition)
        erased = self._last_erasure(meta, known)
        if self._before(erased, meta, ticket) or self._blocked(meta, ticket, known):
            return
        if command in UNGATED:  # always honoured: whatever the desk's status or the flood
            if ticket.claim() and command is Command.DISCLOSE:
                # Where to ask for a copy of one's data; none of it is sent over LINE.
                self._answer(meta, (self._replies.disclosure(),))
            elif ticket.claimed:
                self._erasure(meta, ticket, params)
            return
        user = known or self._first_contact(meta, ticket, erased)
        if user is None:
            return
        if self._at_once(meta, ticket, user, command, message):
            return
        if self._while_closed(meta, ticket, user, command, params) or not self._admitted(
            meta, ticket, user
        ):
            return
        gate = self._consent.gate(user)
        if gate is Gate.ALLOW and message is not None and user.open_session_id:
            self._file(meta, ticket, user, message, waiting=command is Command.STATUS)
        elif message is not None and self._sessions.filed(meta):
            ticket.duplicate()  # filed by an earlier attempt; the session has moved on since
        elif ticket.claim():
            self._gated(meta, ticket, user, gate, (command, params, message), first=known is None)

    def _at_once(
        self,
        meta: EventMeta,
        ticket: Ticket,
        user: UserRecord,
        command: Command | None,
        message: StoredMessage | None,
    ) -> bool:
        """Help lines first of all, whatever the desk's status; よくある質問 (faq) and 受付時間
        (hours) from the rich menu for anyone, consent or not: the same for everyone, nothing
        stored. True if the event was one of these."""
        if command is Command.CRISIS:
            if ticket.claim():
                self._crisis(meta, user, message)
            return True
        if command not in INFORMATION:
            return False
        if ticket.claim():
            faq = command is Command.FAQ
            info = self._replies.text("faq") if faq else self._hours_notice()
            self._answer(meta, (info,))
        return True

    def _while_closed(
        self,
        meta: EventMeta,
        ticket: Ticket,
        user: UserRecord,
        command: Command | None,
        params: dict[str, str],
    ) -> bool:
        """True if the desk is not open: the state's notice, and a consent still recorded (§7)."""
        if self._status.current().is_open:
            return False
        if command is Command.CONSENT and ticket.claim():
            self._consent.answer(
                user, params.get("version", ""), params.get("answer") == "yes", meta
            )
            user = self._users.get(user.user_id) or user
        self._closed(meta, ticket, user, remind=command is not Command.CONSENT)
        return True

    def _admitted(self, meta: EventMeta, ticket: Ticket, user: UserRecord) -> bool:
        """Within the flood limits? (If not, the user is told once per window.) Should this
        attempt fail, the webhook takes its count back (`ticket.undo`): LINE's redelivery is
        counted instead, so each message counts once."""
        verdict = self._moderation.flood(user)
        if verdict.admitted:
            ticket.undo = lambda: self._moderation.uncount(user, verdict)
            return True
        if verdict.notify and ticket.claim():
            self._answer(meta, (self._replies.text("flood_notice"),))
        return False

    def _closed(
        self, meta: EventMeta, ticket: Ticket, user: UserRecord, *, remind: bool = True
    ) -> bool:
        """While the desk is not open (§7): the state's notice once per user and window, then
        a short reminder for each later message (`remind`: not for a consent, which is kept)."""
        status = self._status.current()
        if status.is_open:
            return False
        if not ticket.claim():
            return True
        if user.status_notice != status.key:
            self._users.save(replace(user, status_notice=status.key))
            self._answer(meta, self._replies.status_notice(status, self._referral))
        elif remind:  # told already in this window: a short reminder (free), never silence
            self._answer(meta, (self._replies.status_reminder(status),))
        return True

    def _gated(
        self,
        meta: EventMeta,
        ticket: Ticket,
        user: UserRecord,
        gate: Gate,
        request: tuple[Command | None, dict[str, str], StoredMessage | None],
        *,
        first: bool = False,
    ) -> None:
        """A claimed event, by the consent gate's decision (`first`: the user's first contact
        is greeted as a first follow is)."""
        command, params, message = request
        if command is Command.CONSENT and (message is None or gate is Gate.PROMPT):
            self._consent_answer(meta, user, params)
            return
        if command is Command.CONSENT:
            command = None  # typed by a user who agreed already: plain text
        if gate is Gate.PROMPT:
            if command is Command.WITHDRAW and user.consent_event_id == meta.event_id:
                self._answer(meta, (self._replies.text("withdrawn"),))  # a redelivery
            elif self._consent.may_prompt(user, meta):
                self._consent.prompted(user, meta)
                greeting = (self._replies.text("greeting"),) if first else ()
                self._answer(meta, (*greeting, *self._consent_prompt()))
            else:
                self._answer(meta, (self._replies.consent_reminder(self._consent.current()),))
            return
        notices: Messages = ()
        if gate is Gate.DEEM:
            user, version = self._consent.deem(user, meta)
            notices = (self._replies.deemed_notice(version),)
        elif user.consent_event_id == meta.event_id and user.consent_method is ConsentMethod.DEEMED:
            notices = (self._replies.deemed_notice(self._consent.current()),)  # a redelivery
        if message is not None and user.open_session_id:
            waiting = command is Command.STATUS
            self._file(meta, ticket, user, message, notices=notices, waiting=waiting)
            return
        if self._survey_comment(user, command, message):
            self._answer(meta, (*notices, self._replies.text("survey_comment_thanks")))
            return
        if command is None and message is not None and message[0] == "text" and message[1]:
            kept = self._sessions.keep_draft(user, meta, message[1], message[2])
            if kept.open_session_id:  # a topic tap opened the session meanwhile: file it there
                self._file(meta, ticket, kept, message, notices=notices)
                return
            self._answer(meta, (*notices, self._replies.draft_kept(self._topic_list())))
            return
        self._answer(meta, (*notices, *self._respond(meta, user, command, params)))

    def _blocked(self, meta: EventMeta, ticket: Ticket, user: UserRecord | None) -> bool:
        """Suspended (by record, or by keyed hash once erased): one notice, then silence."""
        if user is not None:
            if not user.suspended:
                return False
            suspension = None
            noticed = user.suspension_noticed
        else:
            suspension = self._moderation.erased_suspension(meta.source.partition)
            if suspension is None:
                return False
            noticed = suspension.noticed
        if noticed or meta.standby:
            return True
        # An erased user gets no receipt (it would store their id again): the notice mark,
        # written first, is what keeps a redelivery from repeating it.
        if user is None or ticket.claim():
            self._moderation.noticed(user, suspension)
            self._answer(meta, (self._replies.text("suspended_notice"),))
        return True

    def _file(
        self,
        meta: EventMeta,
        ticket: Ticket,
        user: UserRecord,
        message: StoredMessage,
        notices: Messages = (),
        *,
        waiting: bool = False,
    ) -> bool:
        """Put a message into the open session (True), unless a restriction keeps it out.

        The session's first message is acknowledged (place in the queue, when to expect an
        answer): the flag on the user record, read anyway, says whether it was, so only that
        message claims a receipt and costs a write more. A question about waiting is answered
        the same way, at most once per WAITING_INTERVAL."""
        kind, text, line_id = message
        restriction = self._moderation.restriction(user)
        if restriction is not None and (
            restriction.mode is RestrictionMode.READ_ONLY
            or (restriction.mode is RestrictionMode.TEXT_ONLY and kind != "text")
        ):
            if user.restriction_noticed or not ticket.claim():
                return True
            self._moderation.restriction_noticed(user)
            key = f"restricted_{restriction.mode.value}"
            self._answer(meta, (*notices, self._replies.text(key)))
            return True
        session_id = user.open_session_id or ""
        now = self._clock()
        # The flags are saved before the answer goes out and name the event they answered, so
        # a redelivery of that event answers again (by push, under the same retry key) and
        # no other event does.
        first = user.ack_event_id is None or user.ack_event_id == meta.event_id
        answer_wait = (
            first
            or user.wait_event_id == meta.event_id
            or (
                waiting
                and (
                    user.status_answered_at is None
                    or now - user.status_answered_at >= WAITING_INTERVAL
                )
            )
        )
        if answer_wait and not ticket.claim():
            return True  # handled by an earlier attempt
        # The token is kept for a free answer by the expert unless the desk answers this
        # event itself (a notice or the acknowledgement uses it).
        filed = self._sessions.add_user_message(
            session_id, meta, kind, text, line_id, keep_token=not (notices or answer_wait)
        )
        if not filed and not ticket.claimed:
            ticket.duplicate()
            return True
        if filed and text is not None:
            self._moderation.screen(meta, text, session_id)
        if answer_wait:
            if user.wait_event_id != meta.event_id:
                self._users.save(
                    replace(
                        user,
                        ack_event_id=user.ack_event_id or meta.event_id,
                        wait_event_id=meta.event_id,
                        status_answered_at=now,
                        updated_at=now,
                    )
                )
            notices = (*notices, self._waiting_answer(session_id, first=first))
        if notices:
            self._answer(meta, notices)
        return True

    def _save_quietly(self, user: UserRecord) -> None:
        """Save a user-record flag after the answer went out; a concurrent write only means the
        flag is set by the next event instead."""
        try:
            self._users.save(user)
        except PreconditionFailed:
            return

    def _waiting_answer(self, session_id: str, *, first: bool) -> OutboundMessage:
        place = self._sessions.queue_place(session_id)
        return self._replies.waiting(place, self._opening(), self._clock(), first=first)

    def _opening(self) -> BusinessHours:
        """The business hours with the days an operator closed the desk on."""
        return self._status.opening_hours(self._hours)

    def _hours_notice(self) -> OutboundMessage:
        """受付時間: the hours, open now or when next, and the closed days coming up."""
        closed = self._status.closed_ahead()
        return self._replies.hours_notice(self._opening(), self._clock(), closed)

    def _crisis(self, meta: EventMeta, user: UserRecord, message: StoredMessage | None) -> None:
        """Help lines at once, at any hour, before consent or a topic, closed by what is true
        now. Inside a consultation the message is filed whatever the desk's status (a person
        must see it: §7's "nothing is kept" yields to safety), the session is marked urgent and
        the supervisors are alerted; while the desk is open, a consented user's text before a
        topic is kept as a draft; otherwise nothing of the message is stored."""
        open_now = self._status.current().is_open
        gate = self._consent.gate(user)
        consented = gate is Gate.ALLOW and not user.suspended
        kind, text, line_id = message or ("", None, "")
        if text is not None and consented and user.open_session_id:
            session_id = user.open_session_id
            self._sessions.add_user_message(session_id, meta, kind, text, line_id, keep_token=False)
            marked = self._sessions.mark_urgent(session_id)
            alert = self._alerts.record(marked) if marked is not None else None
            self._moderation.screen(meta, text, session_id)
            try:  # the help lines first (the person comes first), the supervisors' alert then
                self._answer(meta, (self._filed_helplines(open_now),))
            finally:
                self._alerts.send(alert)
            return
        if not open_now:
            self._answer(meta, (self._replies.helplines("crisis_outro_closed"),))
            return
        if consented and user.open_session_id:  # the rich menu's 緊急のとき, in a consultation
            self._answer(meta, (self._replies.helplines("crisis_outro_session"),))
            return
        helplines = self._replies.helplines("crisis_outro_start")
        if text is not None and consented:
            kept = self._sessions.keep_draft(user, meta, text, line_id)
            if kept.open_session_id:  # opened meanwhile on another instance: filed there
                self._crisis(meta, kept, message)
                return
            self._answer(meta, (helplines, self._replies.draft_kept(self._topic_list())))
            return
        if message is not None and gate is Gate.PROMPT and self._consent.may_prompt(user, meta):
            self._consent.prompted(user, meta)
            self._answer(meta, (helplines, *self._consent_prompt()))
            return
        self._answer(meta, (helplines,))

    def _filed_helplines(self, open_now: bool) -> OutboundMessage:
        """The help lines after a crisis text reached the consultation: when an answer comes."""
        if not open_now:
            return self._replies.helplines("crisis_outro_filed_closed")
        now, hours = self._clock(), self._opening()
        if hours.is_open(now):
            return self._replies.helplines("crisis_outro_filed")
        upcoming = japan_day_and_time(hours.next_opening(now))
        return self._replies.helplines("crisis_outro_filed_after_hours", next=upcoming)

    def _respond(
        self, meta: EventMeta, user: UserRecord, command: Command | None, params: dict[str, str]
    ) -> Messages:
        if command is Command.MEDIA:
            self._moderation.media_attempt(user)
            if user.open_session_id:
                # The transcript shows that something was sent and refused (no content).
                self._sessions.add_user_message(
                    user.open_session_id,
                    meta,
                    f"{params.get('kind', 'file')}-refused",
                    None,
                    params.get("id", ""),
                    keep_token=False,  # the refusal below uses it
                )
            return (self._replies.text("media_refused"),)
        if command in self._commands:
            return self._commands[command](meta, user, params)
        return (self._menu_for(user, hint=True),)

    def _erasure(self, meta: EventMeta, ticket: Ticket, params: dict[str, str]) -> None:
        """A person's request to erase their data (§5): honoured in every desk status and over
        the flood limits, and for a user the desk holds nothing about (it erases nothing)."""
        if params.get("confirm") == "no":
            self._answer(meta, (self._replies.text("erase_cancelled"),))
        elif params.get("confirm") == "yes":
            self._eraser.erase(meta.source.partition, requested_at=event_time(meta))
            # The receipt lived in the erased partition: completing it would write the user's
            # id again. A redelivery of this event erases nothing more and says so again.
            ticket.forget()
            self._answer(meta, (self._replies.text("erased"),))
        else:
            self._answer(meta, (self._replies.erase_question(),))

    def _consent_answer(self, meta: EventMeta, user: UserRecord, params: dict[str, str]) -> None:
        outcome = self._consent.answer(
            user, params.get("version", ""), params.get("answer") == "yes", meta
        )
        if outcome.answer is Answer.STALE:
            prompt = self._replies.consent_prompt(outcome.version)
            self._consent.prompted(user, meta)
            self._answer(meta, (self._replies.text("consent_stale"), *prompt))
        elif outcome.answer is Answer.DECLINED:
            self._answer(meta, (self._replies.text("consent_declined"),))
        elif outcome.answer is Answer.ALREADY:
            version = version_label(outcome.version.version_id)
            already = self._replies.text("consent_already", version=version)
            self._answer(meta, (already, self._menu_for(outcome.user)))
        else:
            thanks = self._replies.thanks(outcome.version, self._clock())
            self._answer(meta, (thanks, self._menu_for(outcome.user)))

    # -- commands -----------------------------------------------------------------------------

    def _open_session(self, meta: EventMeta, user: UserRecord, params: dict[str, str]) -> Messages:
        topic = self._topics.get(params.get("topic", ""))
        if topic is None:
            return (self._menu_for(user, hint=True),)
        restriction = self._moderation.restriction(user)
        if restriction is not None and restriction.mode is RestrictionMode.READ_ONLY:
            return (self._replies.text("restricted_read_only"),)
        if user.open_session_id and user.session_event_id == meta.event_id:  # a redelivery
            again = self._sessions.get(user.open_session_id)
            number = again.receipt_number if again is not None else user.open_session_id
            return (
                self._replies.session_opened(topic.label, self._opening(), self._clock(), number),
            )
        if user.open_session_id:
            current = self._sessions.get(user.open_session_id)
            known = current is not None and current.topic in self._topics
            label = self._topics[current.topic].label if current and known else ""
            return (self._replies.session_menu("session_already_open", topic=label),)
        _, session = self._sessions.open(user, topic.topic_id, meta)
        opened = self._replies.session_opened(
            topic.label, self._opening(), self._clock(), session.receipt_number
        )
        return (opened,)

    def _end_session(self, meta: EventMeta, user: UserRecord, params: dict[str, str]) -> Messages:
        confirm = params.get("confirm")
        if confirm == "no":
            return (self._replies.text("end_cancelled"),)
        if confirm != "yes":
            if user.open_session_id is None:
                return (self._replies.text("no_open_session"), self._menu_for(user))
            return (self._replies.end_question(),)
        if user.open_session_id is None and user.session_event_id == meta.event_id:
            # A redelivery: the pointer went; finish the close if the rest did not happen.
            last = self._sessions.get(user.last_session_id) if user.last_session_id else None
            if last is not None:
                self._sessions.close(last, ClosedBy.USER, None, meta.event_id, follow_up=True)
            return (self._replies.text("session_ended"),)
        session = self._sessions.get(user.open_session_id) if user.open_session_id else None
        if session is None or not session.is_open:
            return (self._replies.text("no_open_session"), self._menu_for(user))
        self._sessions.close(session, ClosedBy.USER, None, meta.event_id, follow_up=True)
        return (self._replies.text("session_ended"),)

    def _survey(self, meta: EventMeta, user: UserRecord, params: dict[str, str]) -> Messages:
        """満足 / ふつう / 不満 under the closing message: an anonymous statistics entry (the
        mark in the user's partition keeps a second press from counting), thanked by reply."""
        wanted = params.get("session", "")
        session = self._sessions.get(wanted) if is_id(wanted) else None
        rating = params.get("rating", "")
        if session is None or session.user_id != user.user_id or rating not in SURVEY_RATINGS:
            return (self._menu_for(user, hint=True),)
        self._statistics.survey(user.user_id, session.session_id, rating, self._clock())
        self._sessions.rated(session, rating)
        return (self._replies.text("survey_thanks"),)

    def _survey_comment(
        self, user: UserRecord, command: Command | None, message: StoredMessage | None
    ) -> bool:
        """A plain text after rating the last session's survey, within the window: kept as that
        session's one comment (True), thanked by the caller."""
        if command is not None or message is None or user.open_session_id:
            return False
        kind, text, _ = message
        if kind != "text" or not text or not user.last_session_id:
            return False
        last = self._sessions.get(user.last_session_id)
        if last is None or last.user_id != user.user_id:
            return False
        return self._sessions.survey_comment(last, text)

    def _menu(self, meta: EventMeta, user: UserRecord, params: dict[str, str]) -> Messages:
        return (self._menu_for(user),)

    def _menu_for(self, user: UserRecord, *, hint: bool = False) -> OutboundMessage:
        if user.open_session_id:
            return self._replies.session_menu()
        return self._replies.menu(self._topic_list(), hint=hint)

    def _topic_list(self) -> tuple[Topic, ...]:
        return tuple(self._topics.values())

    def _data_menu(self, meta: EventMeta, user: UserRecord, params: dict[str, str]) -> Messages:
        return (self._replies.data_menu(),)

    def _status_answer(self, meta: EventMeta, user: UserRecord, params: dict[str, str]) -> Messages:
        """状況 (button or words) outside a consultation, or within one by button: the place in
        the queue and the hours (without a session: the hours and the topics)."""
        if not user.open_session_id:
            return (self._hours_notice(), self._menu_for(user))
        now = self._clock()
        if user.status_answered_at is not None and now - user.status_answered_at < WAITING_INTERVAL:
            return ()
        self._save_quietly(replace(user, status_answered_at=now, updated_at=now))
        return (self._waiting_answer(user.open_session_id, first=False),)

    def _receipt(self, meta: EventMeta, user: UserRecord, params: dict[str, str]) -> Messages:
        grant = self._consent.latest_grant(user)
        if grant is None or user.consent_at is None:
            return (self._replies.text("receipt_none"),)
        version, method = grant
        return (self._replies.receipt(version, method, user.consent_at),)

    def _withdraw(self, meta: EventMeta, user: UserRecord, params: dict[str, str]) -> Messages:
        if params.get("confirm") == "no":
            return (self._replies.text("withdraw_cancelled"),)
        if params.get("confirm") != "yes":
            return (self._replies.withdraw_question(),)
        session = self._sessions.get(user.open_session_id) if user.open_session_id else None
        if session is not None and session.is_open:
            self._sessions.close(session, ClosedBy.USER, None)
            user = self._users.get(user.user_id) or user
        self._consent.withdraw(user, meta)
        return (self._replies.text("withdrawn"),)

    # -- helpers ------------------------------------------------------------------------------

    def _consent_prompt(self) -> Messages:
        return self._replies.consent_prompt(self._consent.current())

    def _new_user(self, meta: EventMeta, erased_at: datetime | None) -> UserRecord:
        user = UserRecord.new(meta.source.partition, self._clock())
        return replace(user, erased_at=erased_at) if erased_at else user

    def _last_erasure(self, meta: EventMeta, known: UserRecord | None) -> datetime | None:
        """When the user's data was last erased: a known user's record carries it (no read);
        only for a user without a record is the tombstone read."""
        if known is not None:
            return known.erased_at
        return self._tombstones.erased_at(meta.source.partition)

    @staticmethod
    def _before(erased: datetime | None, meta: EventMeta, ticket: Ticket) -> bool:
        """Sent before the user's data was erased (a replay, or a redelivery of something the
        erasure already took): it changes nothing, and is counted as `erased`."""
        if erased is None or event_time(meta) >= erased:
            return False
        ticket.result = EventOutcome.ERASED
        return True

    def _first_contact(
        self, meta: EventMeta, ticket: Ticket, erased_at: datetime | None
    ) -> UserRecord | None:
        """A user the desk holds nothing about (new, or back after an erasure) writes without a
        follow event: only a follower can, so they start as after a first follow (following,
        counted as a new user, consent pending). None if this event is not ours to handle."""
        if not ticket.claim():
            return None
        self._statistics.new_user(meta.source.partition, meta.event_id, self._clock())
        return self._users.save(self._new_user(meta, erased_at).follow(self._clock()))

    def _answer(self, meta: EventMeta, messages: Messages) -> None:
        if not messages:
            return
        self._answerer.answer(meta, messages)
