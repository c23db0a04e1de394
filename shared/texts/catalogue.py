"""The message catalogue: every string a LINE user sees comes from a JSON file in this folder."""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from importlib import resources
from typing import Any


class Catalogue:
    """Looks up a message by key and fills its `{placeholders}`."""

    def __init__(self, entries: dict[str, str]) -> None:
        self._entries = entries

    @property
    def keys(self) -> frozenset[str]:
        """Every message key (not the catalogue's own `_comment`)."""
        return frozenset(k for k in self._entries if not k.startswith("_"))

    def text(self, key: str, **params: Any) -> str:
        """The message `key` with `desk_name` and `params` substituted; KeyError if unknown."""
        template = self._entries[key]
        return template.format(desk_name=self._entries.get("desk_name", ""), **params)


@cache
def load_catalogue(language: str = "ja") -> Catalogue:
    """The catalogue for `language`, read once per process."""
    raw = resources.files("shared.texts").joinpath(f"{language}.json").read_text("utf-8")
    entries: dict[str, str] = json.loads(raw)
    return Catalogue(entries)


@cache
def load_phrases() -> dict[str, str]:
    """Typed command phrases (normalised) mapped to their command name."""
    raw = resources.files("shared.texts").joinpath("phrases.json").read_text("utf-8")
    table: dict[str, list[str]] = json.loads(raw)
    return {
        normalise(phrase): command
        for command, phrases in table.items()
        if not command.startswith("_")
        for phrase in phrases
    }


# Only a message this short can be a command: a consultation text is never taken for one.
MAX_COMMAND_LENGTH = 15
_TRAILING = "。、．，.,!?！？…‥〜~ーっッ"


@cache
def load_waiting_words() -> tuple[str, ...]:
    """Words that make a short message a question about waiting (normalised)."""
    raw = resources.files("shared.texts").joinpath("phrases.json").read_text("utf-8")
    words: list[str] = json.loads(raw).get("_waiting", [])
    return tuple(normalise(w) for w in words)


def normalise(text: str) -> str:
    """NFKC, without white space: how typed commands are compared."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def command_for(text: str) -> str | None:
    """The command a typed text names (`receipt`, `withdraw`, `status`, ...), or None.

    Compared after NFKC normalisation, without spaces and trailing punctuation; a text longer
    than MAX_COMMAND_LENGTH characters is never a command."""
    normalised = normalise(text)
    if len(normalised) > MAX_COMMAND_LENGTH:
        return None
    phrases = load_phrases()
    exact = phrases.get(normalised) or phrases.get(normalised.rstrip(_TRAILING))
    if exact is not None:
        return exact
    if any(word in normalised for word in load_waiting_words()):
        return "status"
    return None


def clause_name(catalogue: Catalogue, clause: str) -> str:
    """A stored clause (`8(3)`) as people read it (「第8条（3）」); another form as it is."""
    found = re.fullmatch(r"(\d+)\((\d+)\)", clause)
    if found is None:
        return clause
    return catalogue.text("export_clause", article=found.group(1), item=found.group(2))


def code_name(catalogue: Catalogue, prefix: str, code: object) -> str:
    """The catalogue's name for a stored code (`prefix` + the code in snake case: `link
    shortener` → `flag_reason_link_shortener`); a code it does not know yet, as it is."""
    key = prefix + re.sub(r"[^a-z0-9]+", "_", str(code).lower()).strip("_")
    return catalogue.text(key) if key in catalogue.keys else str(code)
