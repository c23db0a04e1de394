"""Wording that suggests a crisis (safety first): a match is answered with help lines at once.

Pure matching only: the words are data (shared/data/crisis.json), the help lines too
(shared/data/helplines.json, confirmed by the operator). Nothing is blocked on a match.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class CrisisWords:
    """The listed words, normalised (NFKC, no spaces)."""

    words: tuple[str, ...]

    @classmethod
    def of(cls, words: list[str] | tuple[str, ...]) -> CrisisWords:
        """Normalise the listed words once."""
        return cls(tuple(w for w in (_normalise(x) for x in words) if w))

    def matches(self, text: str) -> bool:
        """Does `text` contain a listed word (after NFKC normalisation, spaces removed)?"""
        normalised = _normalise(text)
        return any(word in normalised for word in self.words)


def _normalise(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())
