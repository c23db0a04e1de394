"""Keyset paging shared by the admin listings: ids as cursors, one extra item to see a next page."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from shared.errors import ValidationError

T = TypeVar("T")

# Session, flag and audit ids: what a cursor or a path segment naming one may look like.
_ID = re.compile(r"[0-9A-Za-z:_-]{1,80}")


def is_id(value: str) -> bool:
    """Could `value` be a record id (checked before it reaches a store)?"""
    return bool(_ID.fullmatch(value))  # whole value: `$` would let a trailing newline pass


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing and the cursor of the next (None at the end)."""

    items: list[T]
    next_cursor: str | None


def page_of(
    fetch: Callable[[str | None, int], list[T]],
    cursor: str | None,
    limit: int,
    key: Callable[[T], str],
) -> Page[T]:
    """One page after `cursor`, fetching one item more to see whether there is a next."""
    if cursor is not None and not is_id(cursor):
        raise ValidationError("cursor", "cursor")
    items = fetch(cursor, limit + 1)
    shown = items[:limit]
    return Page(shown, key(shown[-1]) if len(items) > limit else None)
