"""Outbound messages in the desk's own terms; the LINE adapter converts them to SDK models."""

from __future__ import annotations

from dataclasses import dataclass

# LINE's limits: at most 5 messages per reply or push, at most 5,000 characters per text.
MAX_MESSAGES_PER_CALL = 5
MAX_TEXT_LENGTH = 5000


@dataclass(frozen=True)
class QuickReplyButton:
    """A quick-reply chip that sends a postback (`data`) and shows `label` (max 20 chars)."""

    label: str
    data: str
    display_text: str | None = None


@dataclass(frozen=True)
class TextMessage:
    """A text bubble, optionally with quick-reply chips under it."""

    text: str
    quick_replies: tuple[QuickReplyButton, ...] = ()

    def __post_init__(self) -> None:
        if not self.text or len(self.text) > MAX_TEXT_LENGTH:
            raise ValueError(f"text must be 1..{MAX_TEXT_LENGTH} characters")


OutboundMessage = TextMessage


def check_batch(messages: tuple[OutboundMessage, ...]) -> None:
    """Refuse a batch LINE would refuse: empty or more than five bubbles."""
    if not 1 <= len(messages) <= MAX_MESSAGES_PER_CALL:
        raise ValueError(f"a reply or push carries 1..{MAX_MESSAGES_PER_CALL} messages")
