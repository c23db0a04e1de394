"""Keyset paging shared by the admin listings: ids as cursors, one extra item to see a next page."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from shared.errors import ValidationError

T = TypeVar("T")

# Session, flag and audit ids: what a cursor or a path segment naming one may look like.
_ID = re.compile(r"[0-9A-Za-z:_-]{1,80}")


def is_id(value: str) -> bool:
    """Could `value` be a record id (checked before it reaches a store)?"""
    return bool(_ID.fullmatch(value))  # whole value: `$` would let a trailing newline pass


def page_of(
    fetch: Callable[[str | None, int], list[T]],
    cursor: str | None,
    limit: int,
    key: Callable[[T], str],
) -> tuple[list[T], str | None]:
    """One page after `cursor` and the cursor of the next page (None at the end)."""
    if cursor is not None and not is_id(cursor):
        raise ValidationError("cursor", "cursor")
    items = fetch(cursor, limit + 1)
    shown = items[:limit]
    return shown, key(shown[-1]) if len(items) > limit else None
