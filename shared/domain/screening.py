"""Screening of inbound text against policy §8: links (advertising, §8(3)) and listed wording
(defamation §8(1), rights §8(2), impersonation §8(6)).

Screening only raises flags for people to review: nothing is blocked on wording alone. A
finding names its clause and a category, never the text or the matched words, so flags carry
no copy of what the user wrote.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'「」]+"
    r"|(?<![@A-Za-z0-9.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:com|net|org|jp|info|biz|io|co|me|ly|to|gl|gd|cc|xyz|shop|site|online|link|app)(?![A-Za-z0-9-])(?:/[^\s<>\"'「」]*)?",
    re.IGNORECASE,
)
_TRACKING = re.compile(
    r"^(?:utm_[a-z]+|aff(?:iliate)?(?:_?id)?|ref(?:erral)?|tag|a8mat|fbclid|gclid|yclid|msclkid|irclickid|clickid)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Finding:
    """One reason to flag a message: the clause of §8 and a category (no content)."""

    clause: str
    reason: str


@dataclass(frozen=True)
class ScreeningRules:
    """What to look for (data: shared/data/screening.json, extended by settings)."""

    shorteners: frozenset[str]
    listed_domains: frozenset[str]
    wording: tuple[tuple[str, str, re.Pattern[str]], ...]  # (clause, category, pattern)


def screen(text: str, rules: ScreeningRules) -> list[Finding]:
    """Every finding in `text`, one per clause and reason."""
    normalised = unicodedata.normalize("NFKC", text)
    findings: list[Finding] = []
    for match in _URL.finditer(normalised):
        findings.extend(_link_findings(match.group(0), rules))
    lowered = normalised.lower()
    if any(domain in lowered for domain in rules.listed_domains):
        findings.append(Finding("8(3)", "listed domain"))
    for clause, category, pattern in rules.wording:
        if pattern.search(normalised):
            findings.append(Finding(clause, f"listed wording ({category})"))
    return list(dict.fromkeys(findings))


def _link_findings(raw: str, rules: ScreeningRules) -> list[Finding]:
    url = raw if "://" in raw else f"http://{raw}"
    parts = urlsplit(url.rstrip(".,、。)）"))
    host = (parts.hostname or "").lower().removeprefix("www.")
    findings = [Finding("8(3)", "link")]
    if any(host == d or host.endswith("." + d) for d in rules.shorteners):
        findings.append(Finding("8(3)", "link shortener"))
    if any(host == d or host.endswith("." + d) for d in rules.listed_domains):
        findings.append(Finding("8(3)", "listed domain"))
    if any(_TRACKING.match(key) for key, _ in parse_qsl(parts.query, keep_blank_values=True)):
        findings.append(Finding("8(3)", "affiliate or tracking parameter"))
    return findings
