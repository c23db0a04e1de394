"""Reading the Bicep files offline: tree-sitter-bicep for syntax, pycep-parser for structure.

pycep keeps values as unevaluated strings (a parameter reference is its name), which is
enough to assert the structure and the wiring between modules.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))


@functools.cache
def parsed(relative: str) -> Mapping[str, Any]:
    """pycep's JSON tree of `infra/<relative>`."""
    from pycep import BicepParser  # noqa: PLC0415

    return BicepParser().parse(text=(INFRA / relative).read_text("utf-8"))


def resource(relative: str, name: str) -> dict[str, Any]:
    """One resource's `config` (its body), with `type` and `api_version` added."""
    entry = parsed(relative)["resources"][name]
    return {**entry["config"], "type": entry["type"], "api_version": entry["api_version"]}


def all_resources() -> list[tuple[str, str, dict[str, Any]]]:
    """(file, symbolic name, pycep entry) of every resource in every file."""
    found = []
    for path in BICEP_FILES:
        relative = str(path.relative_to(INFRA))
        for name, entry in parsed(relative).get("resources", {}).items():
            found.append((relative, name, entry))
    return found


def variable(relative: str, name: str) -> Any:
    """A variable's (unevaluated) value."""
    return parsed(relative)["variables"][name]["value"]


def parameter_defaults(relative: str) -> dict[str, Any]:
    """Declared parameters and their defaults (None when there is none)."""
    return {
        name: entry.get("default") for name, entry in parsed(relative).get("parameters", {}).items()
    }


def parameters_file() -> dict[str, Any]:
    """infra/main.parameters.json's `parameters`."""
    data: dict[str, Any] = json.loads((INFRA / "main.parameters.json").read_text("utf-8"))
    return data["parameters"]
