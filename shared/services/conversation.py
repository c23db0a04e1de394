"""What the desk does with each kind of event: a table keyed by event type, one handler each.

Every event but follow and unfollow passes the consent gate first (policy §3): until the user
has agreed to the current version, the only answer is the consent prompt (at most once every
few minutes), and nothing the user sent is stored.

A consented user picks a topic to open a session (§4); their texts and stickers then go into it
without an answer each (the common path: one point read and one write, the message itself,
whose id refuses a redelivery). Images, videos, audio and files are refused (§8(4)): nothing is
downloaded.

Events in `standby` mode (another channel serves the chat) change the follow state at most:
the desk neither answers them nor counts them as use (no prompt, no deemed consent).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.domain import postbacks
from shared.domain.consent import Gate
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
from shared.domain.hours import BusinessHours
from shared.domain.messages import OutboundMessage
from shared.domain.sessions import Topic
from shared.domain.users import UserRecord
from shared.services.answering import Answerer
from shared.services.consent import Answer, ConsentService
from shared.services.ports import Clock
from shared.services.records import Ticket, Users
from shared.services.replies import Replies
from shared.services.sessions import Sessions
from shared.texts.catalogue import command_for

Handler = Callable[[Any, Ticket], None]
Messages = tuple[OutboundMessage, ...]


class Conversation:
    """The desk's side of the chat with one user."""

    def __init__(
        self,
        *,
        users: Users,
        consent: ConsentService,
        sessions: Sessions,
        answerer: Answerer,
        replies: Replies,
        topics: tuple[Topic, ...],
        hours: BusinessHours,
        clock: Clock,
    ) -> None:
        self._users = users
        self._consent = consent
        self._sessions = sessions
        self._answerer = answerer
        self._replies = replies
        self._topics = {t.topic_id: t for t in topics}
        self._hours = hours
        self._clock = clock
        self.handlers: dict[type[Any], Handler] = {
            FollowEvent: self.on_follow,
            UnfollowEvent: self.on_unfollow,
            TextMessageEvent: self.on_text,
            StickerMessageEvent: self.on_sticker,
            MediaMessageEvent: self.on_media,
            OtherMessageEvent: self.on_other_message,
            PostbackEvent: self.on_postback,
            UnsendEvent: self.on_unsend,
        }
        self._commands: dict[str, Callable[[EventMeta, UserRecord, dict[str, str]], Messages]] = {
            "receipt": self._receipt,
            "withdraw": self._withdraw,
            "menu": self._menu,
            "topic": self._open_session,
            "end": self._end_session,
        }

    def handler_for(self, event: Event) -> Handler | None:
        """The handler for this event's type; None for types the desk does not act on."""
        if isinstance(event, OtherEvent):
            return None
        return self.handlers.get(type(event))

    # -- handlers -----------------------------------------------------------------------------

    def on_follow(self, event: FollowEvent, ticket: Ticket) -> None:
        """Record the follow; greet, and ask for consent unless the user holds it already."""
        if not ticket.claim():
            return
        user = self._users.save(self._user(event.meta).follow(self._clock()))
        if event.meta.standby:
            return
        if self._consent.gate(user) is Gate.ALLOW:
            greeting = "greeting_unblocked" if event.is_unblocked else "greeting"
            self._answer(event.meta, (self._replies.text(greeting), self._menu_for(user)))
            return
        self._consent.prompted(user)
        prompt = self._consent_prompt()
        self._answer(event.meta, (self._replies.text("greeting"), *prompt))

    def on_unfollow(self, event: UnfollowEvent, ticket: Ticket) -> None:
        """Record the block (idempotent: no receipt needed); nothing can be sent any more."""
        self._users.save(self._user(event.meta).unfollow(self._clock()))

    def on_text(self, event: TextMessageEvent, ticket: Ticket) -> None:
        """A typed command (同意内容の確認, 相談を終了, ...) or a consultation message."""
        command = command_for(event.text)
        if command is not None:
            self._serve(event.meta, ticket, command, {})
        else:
            self._serve(event.meta, ticket, None, {}, ("text", event.text, event.message_id))

    def on_sticker(self, event: StickerMessageEvent, ticket: Ticket) -> None:
        """A sticker is kept as the word "sticker", never its content."""
        self._serve(event.meta, ticket, None, {}, ("sticker", None, event.message_id))

    def on_media(self, event: MediaMessageEvent, ticket: Ticket) -> None:
        """Images, videos, audio and files are refused and never downloaded (§8(4))."""
        self._serve(event.meta, ticket, "media", {})

    def on_other_message(self, event: OtherMessageEvent, ticket: Ticket) -> None:
        """Locations and message kinds LINE adds later: not kept; the menu is shown."""
        self._serve(event.meta, ticket, None, {})

    def on_postback(self, event: PostbackEvent, ticket: Ticket) -> None:
        """A button: the consent answer passes the gate; everything else goes through it."""
        action, params = postbacks.decode(event.data)
        if event.meta.standby:
            return
        if action == "consent":
            if ticket.claim():
                self._consent_answer(event.meta, params)
        else:
            self._serve(event.meta, ticket, action if action in self._commands else None, params)

    def on_unsend(self, event: UnsendEvent, ticket: Ticket) -> None:
        """The user unsent a message: its text leaves the store (idempotent, silent)."""
        self._sessions.unsend(event.meta.source.partition, event.message_id)

    # -- steps --------------------------------------------------------------------------------

    def _serve(
        self,
        meta: EventMeta,
        ticket: Ticket,
        command: str | None,
        params: dict[str, str],
        message: tuple[str, str | None, str] | None = None,
    ) -> None:
        if meta.standby:
            return
        user = self._user(meta)
        gate = self._consent.gate(user)
        if gate is Gate.ALLOW and message is not None and user.open_session_id:
            kind, text, line_id = message
            if not self._sessions.add_user_message(user.open_session_id, meta, kind, text, line_id):
                ticket.duplicate()
            return
        if not ticket.claim():
            return
        if gate is Gate.PROMPT:
            if self._consent.may_prompt(user):
                self._consent.prompted(user)
                self._answer(meta, self._consent_prompt())
            return
        notices: Messages = ()
        if gate is Gate.DEEM:
            user, version = self._consent.deem(user, meta)
            notices = (self._replies.deemed_notice(version),)
            if message is not None and user.open_session_id:
                kind, text, line_id = message
                self._sessions.add_user_message(user.open_session_id, meta, kind, text, line_id)
                self._answer(meta, notices)
                return
        if command == "media":
            answer: Messages = (self._replies.text("media_refused"),)
        elif command in self._commands:
            answer = self._commands[command](meta, user, params)
        else:
            answer = (self._replies.text("start_hint"), self._menu_for(user))
        self._answer(meta, (*notices, *answer))

    def _consent_answer(self, meta: EventMeta, params: dict[str, str]) -> None:
        user = self._user(meta)
        outcome = self._consent.answer(
            user, params.get("version", ""), params.get("answer") == "yes", meta
        )
        if outcome.answer is Answer.STALE:
            prompt = self._replies.consent_prompt(outcome.version)
            self._consent.prompted(user)
            self._answer(meta, (self._replies.text("consent_stale"), *prompt))
        elif outcome.answer is Answer.DECLINED:
            self._answer(meta, (self._replies.text("consent_declined"),))
        elif outcome.answer is Answer.ALREADY:
            version = outcome.version.version_id
            already = self._replies.text("consent_already", version=version)
            self._answer(meta, (already, self._menu_for(outcome.user)))
        else:
            thanks = self._replies.thanks(outcome.version, self._clock())
            self._answer(meta, (thanks, self._menu_for(outcome.user)))

    def _open_session(self, meta: EventMeta, user: UserRecord, params: dict[str, str]) -> Messages:
        topic = self._topics.get(params.get("topic", ""))
        if topic is None:
            return (self._replies.text("start_hint"), self._menu_for(user))
        if user.open_session_id:
            current = self._sessions.get(user.open_session_id)
            label = (
                self._topics[current.topic].label
                if current and current.topic in self._topics
                else ""
            )
            return (
                self._replies.text("session_already_open", topic=label),
                self._replies.session_menu(),
            )
        self._sessions.open(user, topic.topic_id, meta)
        return (self._replies.session_opened(topic.label, self._hours, self._clock()),)

    def _end_session(self, meta: EventMeta, user: UserRecord, params: dict[str, str]) -> Messages:
        session = self._sessions.get(user.open_session_id) if user.open_session_id else None
        if session is None or not session.is_open:
            return (self._replies.text("no_open_session"), self._menu_for(user))
        self._sessions.close(session, by="user", outcome=None)
        return (self._replies.text("session_ended"),)

    def _menu(self, meta: EventMeta, user: UserRecord, params: dict[str, str]) -> Messages:
        return (self._menu_for(user),)

    def _menu_for(self, user: UserRecord) -> OutboundMessage:
        if user.open_session_id:
            return self._replies.session_menu()
        return self._replies.menu(tuple(self._topics.values()))

    def _receipt(self, meta: EventMeta, user: UserRecord, params: dict[str, str]) -> Messages:
        grant = self._consent.latest_grant(user)
        if grant is None or user.consent_at is None:
            return (self._replies.text("receipt_none"),)
        version, method = grant
        return (self._replies.receipt(version, method, user.consent_at),)

    def _withdraw(self, meta: EventMeta, user: UserRecord, params: dict[str, str]) -> Messages:
        session = self._sessions.get(user.open_session_id) if user.open_session_id else None
        if session is not None and session.is_open:
            self._sessions.close(session, by="user", outcome=None)
            user = self._users.get(user.user_id) or user
        self._consent.withdraw(user, meta)
        return (self._replies.text("withdrawn"),)

    def _consent_prompt(self) -> Messages:
        return self._replies.consent_prompt(self._consent.current())

    def _user(self, meta: EventMeta) -> UserRecord:
        user_id = meta.source.partition
        return self._users.get(user_id) or UserRecord.new(user_id, self._clock())

    def _answer(self, meta: EventMeta, messages: Messages) -> None:
        self._answerer.answer(meta, messages)
