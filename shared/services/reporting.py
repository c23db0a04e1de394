"""Anonymous statistics the prefecture may publish (§5), from the statistics entries.

`GET /api/admin/stats?from=&to=&by=month|topic|outcome` and `make report` both use this.
Every count below k is suppressed, with complementary suppression (shared/domain/disclosure),
and a median is shown only where it summarises at least k answers.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from datetime import date
from typing import Any

from shared.domain.disclosure import Table, suppress
from shared.errors import ValidationError
from shared.services.catalog import load_outcomes, load_topics
from shared.services.desk_records import StatEntries
from shared.services.ports import Document

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_DAYS = 3 * 366

COUNTS = (
    "new_users",
    "consents_explicit",
    "consents_deemed",
    "sessions_opened",
    "sessions_closed",
    "messages",
    "suspensions",
    "erasures",
)
BY_TOPIC = ("sessions_opened", "sessions_closed", "messages")


_ONE_EACH = {
    "user_new": "new_users",
    "session_open": "sessions_opened",
    "suspension": "suspensions",
    "erasure": "erasures",
}


def _count(entry: Document) -> dict[str, int]:
    """What one entry adds to which column."""
    kind = entry["kind"]
    if kind in _ONE_EACH:
        return {_ONE_EACH[kind]: 1}
    if kind == "consent":
        return {f"consents_{entry.get('method')}": 1}
    if kind == "session_close":
        return {"sessions_closed": 1, "messages": int(entry.get("messages") or 0)}
    return {}


class Reports:
    """Builds suppressed tables over a date range."""

    def __init__(self, entries: StatEntries, k: int) -> None:
        self._entries = entries
        self._k = k

    def table(self, start: str | None, end: str | None, by: str | None) -> dict[str, Any]:
        """The published table: rows, columns, totals; suppressed values are null."""
        first, last = _day(start, "from"), _day(end, "to")
        if last < first or (last - first).days > MAX_DAYS:
            raise ValidationError("to", "date_range", max_days=MAX_DAYS)
        grouping = by or "month"
        if grouping not in ("month", "topic", "outcome"):
            raise ValidationError("by", "one_of", choices="month, topic, outcome")
        entries = [
            e
            for e in self._month_entries(first, last)
            if first.isoformat() <= e["day"] <= last.isoformat()
        ]
        table, answers = self._tabulate(grouping, entries, first, last)
        suppress(table, self._k)
        return self._publish(grouping, table, answers, first, last)

    def sessions_by_month_and_topic(self, start: str, end: str) -> dict[str, Any]:
        """Sessions opened by month (rows) and topic (columns), suppressed like the rest."""
        first, last = _day(start, "from"), _day(end, "to")
        topics = [t.topic_id for t in load_topics()]
        cells: dict[tuple[str, str], int] = defaultdict(int)
        for e in self._month_entries(first, last):
            in_range = first.isoformat() <= e["day"] <= last.isoformat()
            if in_range and e["kind"] == "session_open" and e.get("topic") in topics:
                cells[(e["day"][:7], e["topic"])] += 1
        table = suppress(Table(_months(first, last), topics, dict(cells), row_totals=True), self._k)
        return {
            "months": table.rows,
            "topics": topics,
            "cells": {
                row: {
                    c: None if (row, c) in table.suppressed else table.value((row, c))
                    for c in topics
                }
                for row in table.rows
            },
        }

    def _month_entries(self, first: date, last: date) -> list[Document]:
        return [entry for month in _months(first, last) for entry in self._entries.month(month)]

    def _tabulate(
        self, grouping: str, entries: list[Document], first: date, last: date
    ) -> tuple[Table, dict[str, list[int]]]:
        cells: dict[tuple[str, str], int] = defaultdict(int)
        answers: dict[str, list[int]] = defaultdict(list)
        if grouping == "outcome":
            outcomes = [o.label for o in load_outcomes()]
            rows = [*outcomes, "その他の終了"]
            columns = [t.topic_id for t in load_topics()]
            for e in entries:
                if e["kind"] == "session_close" and e.get("topic") in columns:
                    outcome = str(e.get("outcome"))
                    cells[(outcome if outcome in outcomes else "その他の終了", e["topic"])] += 1
            return Table(rows, columns, dict(cells), row_totals=True), answers
        if grouping == "topic":
            rows = [t.topic_id for t in load_topics()]
            for e in entries:
                if e.get("topic") in rows:
                    for column, n in _count(e).items():
                        if column in BY_TOPIC:
                            cells[(e["topic"], column)] += n
                    if e["kind"] == "first_answer":
                        answers[e["topic"]].append(int(e["minutes"]))
            return Table(rows, list(BY_TOPIC), dict(cells)), answers
        rows = _months(first, last)
        for e in entries:
            for column, n in _count(e).items():
                cells[(e["day"][:7], column)] += n
            if e["kind"] == "first_answer":
                answers[e["day"][:7]].append(int(e["minutes"]))
        return Table(rows, list(COUNTS), dict(cells)), answers

    def _publish(
        self, grouping: str, table: Table, answers: dict[str, list[int]], first: date, last: date
    ) -> dict[str, Any]:
        def shown(item: tuple[str, str]) -> int | None:
            return None if item in table.suppressed else table.value(item)

        rows = []
        for row in table.rows:
            published: dict[str, Any] = {
                "key": row,
                "cells": {c: shown((row, c)) for c in table.columns},
            }
            if table.row_totals:
                published["total"] = shown((row, ""))
            if grouping != "outcome":
                minutes = answers.get(row, [])
                published["medianFirstAnswerMinutes"] = (
                    statistics.median(minutes) if len(minutes) >= self._k else None
                )
            rows.append(published)
        result: dict[str, Any] = {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "by": grouping,
            "k": self._k,
            "columns": table.columns,
            "rows": rows,
            "totals": {c: shown(("", c)) for c in table.columns},
            "suppressed": sorted(f"{r or '*'}/{c or '*'}" for r, c in table.suppressed),
        }
        if table.row_totals:
            result["grandTotal"] = shown(("", ""))
        return result


def _day(raw: str | None, name: str) -> date:
    if raw is None or not _DATE.match(raw):
        raise ValidationError(name, "date_format")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(name, "date_invalid") from None


def _months(first: date, last: date) -> list[str]:
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
