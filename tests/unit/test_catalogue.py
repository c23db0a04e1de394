"""The message catalogue: every key the code uses exists, and every message is polite and short."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.domain.messages import MAX_LABEL, MAX_TEXT_LENGTH
from shared.texts.catalogue import load_catalogue

CATALOGUE = load_catalogue()
SHARED = Path(__file__).resolve().parents[2] / "shared"


def keys_used_in_code() -> set[str]:
    pattern = re.compile(r"""\.text\(\s*["']([a-z_]+)["']""")
    used: set[str] = set()
    for path in SHARED.rglob("*.py"):
        used.update(pattern.findall(path.read_text("utf-8")))
    return used


def test_every_key_used_in_the_code_is_in_the_catalogue() -> None:
    used = keys_used_in_code()
    assert used, "the scan found no keys: the pattern is broken"
    assert used <= CATALOGUE.keys


def render(key: str) -> str:
    """The message with every placeholder filled by a dummy value."""
    return CATALOGUE.text(key, **placeholders(key))


def placeholders(key: str) -> dict[str, str]:
    found = re.findall(r"\{([a-z_]+)\}", CATALOGUE._entries[key])
    return {name: "x" for name in found if name != "desk_name"}


LABELS = {key for key in CATALOGUE.keys if len(CATALOGUE._entries[key]) <= MAX_LABEL}


@pytest.mark.parametrize("key", sorted(CATALOGUE.keys - LABELS))
def test_every_message_is_polite_japanese_and_fits_a_bubble(key: str) -> None:
    text = render(key)
    assert re.search(r"(です|ます|ました|ません|ください|ございます)", text), text
    assert 0 < len(text) <= MAX_TEXT_LENGTH
    assert "{" not in text


@pytest.mark.parametrize("key", sorted(LABELS))
def test_labels_fit_a_button(key: str) -> None:
    assert 0 < len(render(key)) <= MAX_LABEL


def test_the_desk_name_is_filled_in() -> None:
    assert CATALOGUE.text("greeting").startswith(CATALOGUE.text("desk_name"))


def test_the_greeting_says_the_desk_is_free_but_communication_costs_are_the_users() -> None:
    greeting = CATALOGUE.text("greeting")
    assert "無料" in greeting
    assert "通信料" in greeting
