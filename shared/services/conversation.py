"""What the desk does with each kind of event: a table keyed by event type, one handler each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.domain.events import (
    Event,
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
from shared.domain.messages import TextMessage
from shared.domain.users import UserRecord
from shared.services.answering import Answerer
from shared.services.ports import Clock
from shared.services.records import Users
from shared.texts.catalogue import Catalogue

Handler = Callable[[Any], None]


class Conversation:
    """The desk's side of the chat with one user."""

    def __init__(self, users: Users, answerer: Answerer, texts: Catalogue, clock: Clock) -> None:
        self._users = users
        self._answerer = answerer
        self._texts = texts
        self._clock = clock
        self.handlers: dict[type[Any], Handler] = {
            FollowEvent: self.on_follow,
            UnfollowEvent: self.on_unfollow,
            TextMessageEvent: self.on_message,
            StickerMessageEvent: self.on_message,
            MediaMessageEvent: self.on_message,
            OtherMessageEvent: self.on_message,
            PostbackEvent: self.on_message,
            UnsendEvent: self.ignore,
        }

    def handler_for(self, event: Event) -> Handler | None:
        """The handler for this event's type; None for types the desk does not act on."""
        if isinstance(event, OtherEvent):
            return None
        return self.handlers.get(type(event))

    def on_follow(self, event: FollowEvent) -> None:
        """Record the follow, then greet."""
        user = self._user(event.meta.source.partition)
        self._users.save(user.follow(self._clock()))
        greeting = (
            self._texts.text("greeting_unblocked")
            if event.is_unblocked
            else self._texts.text("greeting")
        )
        self._answerer.answer(event.meta, (TextMessage(greeting),))

    def on_unfollow(self, event: UnfollowEvent) -> None:
        """Record the block; nothing can be sent to the user any more."""
        user = self._user(event.meta.source.partition)
        self._users.save(user.unfollow(self._clock()))

    def on_message(self, event: Event) -> None:
        """Until consultations open, every message gets a polite "not available yet"."""
        self._answerer.answer(event.meta, (TextMessage(self._texts.text("not_available_yet")),))

    def ignore(self, event: Event) -> None:
        """Events the desk acknowledges but has nothing to do for (yet)."""

    def _user(self, user_id: str) -> UserRecord:
        return self._users.get(user_id) or UserRecord.new(user_id, self._clock())
