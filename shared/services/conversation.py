"""What the desk does with each kind of event: a table keyed by event type, one handler each.

Every event but follow and unfollow passes the consent gate first (policy §3): until the user
has agreed to the current version, the only answer is the consent prompt (at most once every
few minutes), and nothing the user sent is stored.

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
from shared.domain.messages import OutboundMessage
from shared.domain.users import UserRecord
from shared.services.answering import Answerer
from shared.services.consent import Answer, ConsentService
from shared.services.ports import Clock
from shared.services.records import Users
from shared.services.replies import Replies
from shared.texts.catalogue import command_for

Handler = Callable[[Any], None]
Messages = tuple[OutboundMessage, ...]


class Conversation:
    """The desk's side of the chat with one user."""

    def __init__(
        self,
        users: Users,
        consent: ConsentService,
        answerer: Answerer,
        replies: Replies,
        clock: Clock,
    ) -> None:
        self._users = users
        self._consent = consent
        self._answerer = answerer
        self._replies = replies
        self._clock = clock
        self.handlers: dict[type[Any], Handler] = {
            FollowEvent: self.on_follow,
            UnfollowEvent: self.on_unfollow,
            TextMessageEvent: self.on_text,
            StickerMessageEvent: self.on_message,
            MediaMessageEvent: self.on_message,
            OtherMessageEvent: self.on_message,
            PostbackEvent: self.on_postback,
            UnsendEvent: self.ignore,
        }
        self._commands: dict[str, Callable[[EventMeta, UserRecord], Messages]] = {
            "receipt": self._receipt,
            "withdraw": self._withdraw,
            "menu": lambda meta, user: (self._replies.menu(),),
        }

    def handler_for(self, event: Event) -> Handler | None:
        """The handler for this event's type; None for types the desk does not act on."""
        if isinstance(event, OtherEvent):
            return None
        return self.handlers.get(type(event))

    # -- handlers -----------------------------------------------------------------------------

    def on_follow(self, event: FollowEvent) -> None:
        """Record the follow; greet, and ask for consent unless the user holds it already."""
        user = self._users.save(self._user(event.meta).follow(self._clock()))
        if event.meta.standby:
            return
        if self._consent.gate(user) is Gate.ALLOW:
            greeting = "greeting_unblocked" if event.is_unblocked else "greeting"
            self._answer(event.meta, (self._replies.text(greeting), self._replies.menu()))
            return
        self._consent.prompted(user)
        prompt = self._consent_prompt()
        self._answer(event.meta, (self._replies.text("greeting"), *prompt))

    def on_unfollow(self, event: UnfollowEvent) -> None:
        """Record the block; nothing can be sent to the user any more."""
        self._users.save(self._user(event.meta).unfollow(self._clock()))

    def on_text(self, event: TextMessageEvent) -> None:
        """A typed command (同意内容の確認, 同意を撤回, ...) or a message."""
        self._serve(event.meta, command_for(event.text))

    def on_message(self, event: Event) -> None:
        """Stickers, media and other messages (their content is never stored)."""
        self._serve(event.meta, None)

    def on_postback(self, event: PostbackEvent) -> None:
        """A button: the consent answer passes the gate; everything else goes through it."""
        action, params = postbacks.decode(event.data)
        if event.meta.standby:
            return
        if action == "consent":
            self._consent_answer(event.meta, params)
        else:
            self._serve(event.meta, action if action in self._commands else None)

    def ignore(self, event: Event) -> None:
        """Events the desk acknowledges but has nothing to do for (yet)."""

    # -- steps --------------------------------------------------------------------------------

    def _serve(self, meta: EventMeta, command: str | None) -> None:
        if meta.standby:
            return
        user = self._user(meta)
        gate = self._consent.gate(user)
        if gate is Gate.PROMPT:
            if self._consent.may_prompt(user):
                self._consent.prompted(user)
                self._answer(meta, self._consent_prompt())
            return
        notices: Messages = ()
        if gate is Gate.DEEM:
            user, version = self._consent.deem(user, meta)
            notices = (self._replies.deemed_notice(version),)
        handle = self._commands.get(command or "")
        answer = handle(meta, user) if handle else (self._replies.text("not_available_yet"),)
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
            self._answer(meta, (already, self._replies.menu()))
        else:
            thanks = self._replies.thanks(outcome.version, self._clock())
            self._answer(meta, (thanks, self._replies.menu()))

    def _receipt(self, meta: EventMeta, user: UserRecord) -> Messages:
        grant = self._consent.latest_grant(user)
        if grant is None or user.consent_at is None:
            return (self._replies.text("receipt_none"),)
        version, method = grant
        return (self._replies.receipt(version, method, user.consent_at),)

    def _withdraw(self, meta: EventMeta, user: UserRecord) -> Messages:
        self._consent.withdraw(user, meta)
        return (self._replies.text("withdrawn"),)

    def _consent_prompt(self) -> Messages:
        return self._replies.consent_prompt(self._consent.current())

    def _user(self, meta: EventMeta) -> UserRecord:
        user_id = meta.source.partition
        return self._users.get(user_id) or UserRecord.new(user_id, self._clock())

    def _answer(self, meta: EventMeta, messages: Messages) -> None:
        self._answerer.answer(meta, messages)
