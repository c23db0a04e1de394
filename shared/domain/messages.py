"""Outbound messages in the desk's own terms; the LINE adapter converts them to SDK models."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

# LINE's limits: at most 5 messages per reply or push, at most 5,000 characters per text;
# a confirm template's text holds 240 characters, its alt text 400, a button label 20, and a
# message takes at most 13 quick-reply chips; a postback's data and display text hold 300.
# LINE counts characters in UTF-16 code units (an emoji outside the Basic Multilingual Plane
# counts 2), so every check here does too.
MAX_MESSAGES_PER_CALL = 5
MAX_TEXT_LENGTH = 5000
MAX_CONFIRM_TEXT = 240
MAX_ALT_TEXT = 400
MAX_LABEL = 20
MAX_POSTBACK_DATA = 300
MAX_QUICK_REPLIES = 13
# A buttons template (shown on LINE for PC too, unlike quick replies): at most 4 actions, a
# text of at most 160 characters (60 with a title), a title of at most 40.
MAX_BUTTONS = 4
MAX_BUTTONS_TEXT = 160
MAX_BUTTONS_TEXT_WITH_TITLE = 60
MAX_BUTTONS_TITLE = 40
# A policy link the desk puts into its messages: short enough that every message carrying it
# stays far inside LINE's limits.
MAX_POLICY_URL = 1000


def utf16_length(text: str) -> int:
    """The length of `text` as LINE counts it: UTF-16 code units (2 for U+10000 and above)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def policy_url_problem(url: str) -> str | None:
    """Why `url` cannot be the policy's link in LINE messages, or None when it can: `https`
    with a host, no whitespace, control or format characters, at most 1,000 characters."""
    if utf16_length(url) > MAX_POLICY_URL:
        return f"must be at most {MAX_POLICY_URL} characters"
    if any(char.isspace() or unicodedata.category(char) in ("Cc", "Cf") for char in url):
        return "must not hold whitespace or control characters"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "must be an https address"
    if parts.scheme != "https" or not parts.hostname:
        return "must be an https address with a host"
    return None


@dataclass(frozen=True)
class PostbackButton:
    """A button or quick-reply chip that sends `data` back and shows `label`."""

    label: str
    data: str
    display_text: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= utf16_length(self.label) <= MAX_LABEL:
            raise ValueError(f"a button label holds 1..{MAX_LABEL} characters")
        if utf16_length(self.data) > MAX_POSTBACK_DATA or (
            self.display_text is not None and utf16_length(self.display_text) > MAX_POSTBACK_DATA
        ):
            raise ValueError(f"postback data and display text hold {MAX_POSTBACK_DATA} characters")


@dataclass(frozen=True)
class TextMessage:
    """A text bubble, optionally with quick-reply chips under it."""

    text: str
    quick_replies: tuple[PostbackButton, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= utf16_length(self.text) <= MAX_TEXT_LENGTH:
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
        if not 1 <= utf16_length(self.text) <= MAX_CONFIRM_TEXT:
            raise ValueError(f"confirm text must be 1..{MAX_CONFIRM_TEXT} characters")
        if not 1 <= utf16_length(self.alt_text) <= MAX_ALT_TEXT:
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
        if not 1 <= utf16_length(self.text) <= limit:
            raise ValueError(f"buttons text must be 1..{limit} characters")
        if self.title is not None and not 1 <= utf16_length(self.title) <= MAX_BUTTONS_TITLE:
            raise ValueError(f"buttons title must be 1..{MAX_BUTTONS_TITLE} characters")
        if not 1 <= len(self.buttons) <= MAX_BUTTONS:
            raise ValueError(f"a buttons template holds 1..{MAX_BUTTONS} buttons")
        if not 1 <= utf16_length(self.alt_text) <= MAX_ALT_TEXT:
            raise ValueError(f"alt text must be 1..{MAX_ALT_TEXT} characters")


OutboundMessage = TextMessage | ConfirmMessage | ButtonsMessage


def as_plain_text(messages: tuple[OutboundMessage, ...]) -> str:
    """What a user saw of these bubbles, as text for the transcript: each bubble's text, the
    buttons as ［label］ (one bubble a paragraph)."""
    parts: list[str] = []
    for message in messages:
        match message:
            case TextMessage():
                parts.append(message.text)
            case ConfirmMessage():
                parts.append(f"{message.text}\n［{message.yes.label}］［{message.no.label}］")
            case ButtonsMessage():
                labels = "".join(f"［{b.label}］" for b in message.buttons)
                parts.append(f"{message.text}\n{labels}")
    return "\n\n".join(parts)


def check_batch(messages: tuple[OutboundMessage, ...]) -> None:
    """Refuse a batch LINE would refuse: empty or more than five bubbles."""
    if not 1 <= len(messages) <= MAX_MESSAGES_PER_CALL:
        raise ValueError(f"a reply or push carries 1..{MAX_MESSAGES_PER_CALL} messages")
