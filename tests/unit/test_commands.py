"""Every command a phrase or a button can name is one of the desk's Commands."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

from shared.domain.commands import Command, command_named

ROOT = Path(__file__).resolve().parents[2]


def test_every_phrase_names_a_command() -> None:
    raw = resources.files("shared.texts").joinpath("phrases.json").read_text("utf-8")
    names = [k for k in json.loads(raw) if not k.startswith("_")]
    assert names
    assert [command_named(n) for n in names] == [Command(n) for n in names]


def test_every_button_the_desk_draws_names_a_command() -> None:
    code = "\n".join(p.read_text("utf-8") for p in (ROOT / "shared").rglob("*.py"))
    actions = set(re.findall(r'postbacks\.encode\(\s*"([a-z_]+)"', code))
    assert actions >= {"consent", "erase", "topic", "survey"}
    assert {a for a in actions if command_named(a) is None} == set()


def test_anything_else_is_no_command() -> None:
    assert command_named("") is None
    assert command_named(None) is None
    assert command_named("drop_tables") is None
    assert command_named("Receipt") is None
