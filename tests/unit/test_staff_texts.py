"""The staff catalogue (shared/texts/staff_ja.json) against the code that raises staff errors.

Every raise site names a key the catalogue holds, with exactly the parameters its template
needs; the StaffKey literal mypy checks holds the same keys as the catalogue; the messages are
Japanese and name the field first.
"""

from __future__ import annotations

import ast
import re
import string
import typing
from pathlib import Path

import pytest

from shared import errors
from shared.texts.staff import StaffKey, load_staff_texts, staff_message

ROOT = Path(__file__).resolve().parents[2]
STAFF_ERRORS = {
    name
    for name, value in vars(errors).items()
    if isinstance(value, type) and issubclass(value, errors.StaffError)
}
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _raise_sites() -> list[tuple[str, str, set[str]]]:
    """(where, key, keyword names) of every staff error built in shared/ and devtools/."""
    sites = []
    for path in sorted([*ROOT.glob("shared/**/*.py"), *ROOT.glob("devtools/**/*.py")]):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in STAFF_ERRORS:
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            assert len(node.args) == 2, f"{where}: a staff error takes (field, key, **params)"
            key = node.args[1]
            assert isinstance(key, ast.Constant), f"{where}: the key must be a literal"
            assert isinstance(key.value, str), f"{where}: the key must be a string"
            assert all(k.arg is not None for k in node.keywords), f"{where}: no **params"
            sites.append((where, key.value, {str(k.arg) for k in node.keywords}))
    return sites


def test_the_key_type_and_the_catalogue_hold_the_same_keys() -> None:
    assert set(typing.get_args(StaffKey)) == set(load_staff_texts())


def test_every_raise_site_names_a_key_and_fills_its_placeholders() -> None:
    sites = _raise_sites()
    assert len(sites) > 50  # the scan found the raise sites
    texts = load_staff_texts()
    for where, key, params in sites:
        assert key in texts, f"{where}: {key} is not in staff_ja.json"
        assert params == _placeholders(texts[key]), f"{where}: {key} needs exactly these"


def test_every_key_is_used() -> None:
    used = {key for _, key, _ in _raise_sites()}
    assert set(load_staff_texts()) - used == set()


@pytest.mark.parametrize("key", sorted(load_staff_texts()))
def test_every_template_is_short_polite_japanese(key: str) -> None:
    template = load_staff_texts()[key]
    assert _JAPANESE.search(template)
    assert template.endswith("。")
    assert len(template) <= 80
    assert "(" not in template.replace("§8(3)", "")  # full-width （） as in ja.json


def test_a_message_names_the_field_first() -> None:
    error = errors.ValidationError("limit", "whole_number_range", low=1, high=200)
    assert error.message == "limit：1〜200の整数で指定してください。"
    assert (error.field, error.code, error.status) == ("limit", "invalid_request", 400)
    assert staff_message(None, "session_closed", {}) == "この相談は終了しています。"
