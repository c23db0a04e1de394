"""The desk's own data files: consultation topics and session outcomes."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

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
def automatic_outcome() -> Outcome:
    """The outcome of a session the desk closed for inactivity."""
    entry = _load("outcomes.json")["automatic"]
    return Outcome(entry["id"], entry["label"])
