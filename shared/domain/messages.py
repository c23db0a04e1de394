"""Outbound messages in the desk's own terms; the LINE adapter converts them to SDK models."""

from __future__ import annotations

from dataclasses import dataclass

# LINE's limits: at most 5 messages per reply or push, at most 5,000 characters per text;
# a confirm template's text holds 240 characters, its alt text 400, a button label 20, and a
# message takes at most 13 quick-reply chips.
MAX_MESSAGES_PER_CALL = 5
MAX_TEXT_LENGTH = 5000
MAX_CONFIRM_TEXT = 240
MAX_ALT_TEXT = 400
MAX_LABEL = 20
MAX_QUICK_REPLIES = 13
# A buttons template (shown on LINE for PC too, unlike quick replies): at most 4 actions, a
# text of at most 160 characters (60 with a title), a title of at most 40.
MAX_BUTTONS = 4
MAX_BUTTONS_TEXT = 160
MAX_BUTTONS_TEXT_WITH_TITLE = 60
MAX_BUTTONS_TITLE = 40


@dataclass(frozen=True)
class PostbackButton:
    """A button or quick-reply chip that sends `data` back and shows `label`."""

    label: str
    data: str
    display_text: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= len(self.label) <= MAX_LABEL:
            raise ValueError(f"a button label holds 1..{MAX_LABEL} characters")


@dataclass(frozen=True)
class TextMessage:
    """A text bubble, optionally with quick-reply chips under it."""

    text: str
    quick_replies: tuple[PostbackButton, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= len(self.text) <= MAX_TEXT_LENGTH:
            raise ValueError(f"text must be 1..{MAX_TEXT_LENGTH} characters")
        if len(self.quick_replies) > MAX_QUICK_REPLIES:
            raise ValueError(f"at most {MAX_QUICK_REPLIES} quick replies")


@dataclass(frozen=True)
class ConfirmMessage:
    """A two-button question (LINE's confirm template)."""

    alt_text: str
    text: str
    yes: PostbackButton
    no: PostbackButton

    def __post_init__(self) -> None:
        if not 1 <= len(self.text) <= MAX_CONFIRM_TEXT:
            raise ValueError(f"confirm text must be 1..{MAX_CONFIRM_TEXT} characters")
        if not 1 <= len(self.alt_text) <= MAX_ALT_TEXT:
            raise ValueError(f"alt text must be 1..{MAX_ALT_TEXT} characters")


@dataclass(frozen=True)
class ButtonsMessage:
    """A question with up to four buttons (LINE's buttons template): works on every LINE
    client, PC included."""

    alt_text: str
    text: str
    buttons: tuple[PostbackButton, ...]
    title: str | None = None

    def __post_init__(self) -> None:
        limit = MAX_BUTTONS_TEXT_WITH_TITLE if self.title else MAX_BUTTONS_TEXT
        if not 1 <= len(self.text) <= limit:
            raise ValueError(f"buttons text must be 1..{limit} characters")
        if self.title is not None and not 1 <= len(self.title) <= MAX_BUTTONS_TITLE:
            raise ValueError(f"buttons title must be 1..{MAX_BUTTONS_TITLE} characters")
        if not 1 <= len(self.buttons) <= MAX_BUTTONS:
            raise ValueError(f"a buttons template holds 1..{MAX_BUTTONS} buttons")
        if not 1 <= len(self.alt_text) <= MAX_ALT_TEXT:
            raise ValueError(f"alt text must be 1..{MAX_ALT_TEXT} characters")


OutboundMessage = TextMessage | ConfirmMessage | ButtonsMessage


def check_batch(messages: tuple[OutboundMessage, ...]) -> None:
    """Refuse a batch LINE would refuse: empty or more than five bubbles."""
    if not 1 <= len(messages) <= MAX_MESSAGES_PER_CALL:
        raise ValueError(f"a reply or push carries 1..{MAX_MESSAGES_PER_CALL} messages")
