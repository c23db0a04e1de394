"""The package map holds: each layer of `shared/` imports only the layers below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"

# What each top-level part of `shared/` may import from `shared` (besides itself).
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "texts": set(),
    "data": set(),  # JSON files read by the catalogue and the admin API
    "errors": {"texts"},
    "logsafe": {"errors"},
    "budget": {"errors"},
    "config": {"domain", "errors"},
    "ports": {"domain"},
    "repositories": {"domain", "errors", "ports"},
    "services": {"budget", "domain", "errors", "logsafe", "ports", "repositories", "texts"},
    "adapters": {"budget", "domain", "errors", "logsafe", "ports"},
    "wiring": {
        "adapters",
        "config",
        "domain",
        "errors",
        "logsafe",
        "ports",
        "repositories",
        "services",
        "texts",
    },
    "entrypoints": {
        "budget",
        "config",
        "domain",
        "errors",
        "logsafe",
        "ports",
        "services",
        "texts",
        "wiring",
        "repositories",
    },
    "preload": {"logsafe", "wiring"},
}


def _imports(path: Path) -> set[str]:
    """The top-level parts of `shared` that one module imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found |= {n.split(".")[1] for n in names if n.startswith("shared.") and n.count(".") >= 1}
    return found


def _part(path: Path) -> str:
    return path.relative_to(SHARED).with_suffix("").parts[0]


MODULES = sorted(p for p in SHARED.rglob("*.py") if p.name != "__init__.py" or p.parent != SHARED)


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(SHARED)))
def test_a_module_imports_only_the_layers_below_it(module: Path) -> None:
    part = _part(module)
    assert part in ALLOWED, f"{part}: a new top-level part of shared/ needs a place in the map"
    stray = _imports(module) - ALLOWED[part] - {part}
    assert not stray, f"{module.relative_to(SHARED)} imports {sorted(stray)}"


def test_services_hold_no_storage_mapping_and_no_http() -> None:
    for module in (SHARED / "services").rglob("*.py"):
        text = module.read_text(encoding="utf-8")
        assert "azure.functions" not in text, module
        assert "HttpResponse" not in text, module


def test_the_map_notices_a_stray_import(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text("from shared.adapters.sqlite_store import SqliteStore\n", encoding="utf-8")
    assert _imports(module) - ALLOWED["services"] == {"adapters"}
