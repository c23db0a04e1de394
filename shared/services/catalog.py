"""The desk's own data files: consultation topics and session outcomes."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from shared.domain.crisis import CrisisWords
from shared.domain.screening import ScreeningRules
from shared.domain.sessions import Outcome, Topic


def _load(name: str) -> Any:
    return json.loads(resources.files("shared.data").joinpath(name).read_text("utf-8"))


@cache
def load_topics() -> tuple[Topic, ...]:
    """The topics a user picks from, in menu order."""
    return tuple(Topic(t["id"], t["label"]) for t in _load("topics.json")["topics"])


@cache
def load_outcomes() -> tuple[Outcome, ...]:
    """The outcomes an expert closes a session with."""
    return tuple(Outcome(o["id"], o["label"]) for o in _load("outcomes.json")["outcomes"])


@cache
def load_referrals() -> tuple[Outcome, ...]:
    """Where an expert may refer a user when closing (紹介先), as id and label."""
    return tuple(Outcome(r["id"], r["label"]) for r in _load("referrals.json")["referrals"])


@cache
def load_canned_replies() -> dict[str, Any]:
    """Canned replies (定型文): `common` and `byTopic` lists of {id, title, text}."""
    replies: dict[str, Any] = _load("canned_replies.json")
    return replies


@cache
def unclassified_outcome() -> Outcome:
    """How statistics name a session closed without a catalogued outcome (by the user, a
    suspension, an erasure)."""
    entry = _load("outcomes.json")["unclassified"]
    return Outcome(entry["id"], entry["label"])


@cache
def automatic_outcome() -> Outcome:
    """The outcome of a session the desk closed for inactivity."""
    entry = _load("outcomes.json")["automatic"]
    return Outcome(entry["id"], entry["label"])


def load_screening_rules(
    extra_domains: tuple[str, ...] = (), extra_words: tuple[str, ...] = ()
) -> ScreeningRules:
    """The screening rules of shared/data/screening.json plus the settings' additions."""
    data = _load("screening.json")
    wording = [
        (w["clause"], w["category"], re.compile(w["pattern"], re.IGNORECASE))
        for w in data["wording"]
    ]
    wording += [("8(1)", "listed by the desk", re.compile(re.escape(w))) for w in extra_words]
    return ScreeningRules(
        shorteners=frozenset(d.lower() for d in data["shorteners"]),
        listed_domains=frozenset(d.lower() for d in (*data["listedDomains"], *extra_domains)),
        wording=tuple(wording),
    )


@cache
def load_openapi() -> dict[str, Any]:
    """The admin API's OpenAPI document."""
    document: dict[str, Any] = _load("openapi.json")
    return document


@cache
def load_crisis_words() -> CrisisWords:
    """Wording that suggests a crisis (shared/data/crisis.json)."""
    return CrisisWords.of(_load("crisis.json")["words"])


@cache
def load_helplines() -> tuple[str, ...]:
    """The help lines sent on a crisis message (shared/data/helplines.json, operator-confirmed)."""
    return tuple(_load("helplines.json")["lines"])
