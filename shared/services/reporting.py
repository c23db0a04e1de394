"""Anonymous statistics the prefecture may publish (§5), from the statistics entries.

`GET /api/admin/stats?from=YYYY-MM&to=YYYY-MM&by=month|topic|outcome|satisfaction` and
`make report` both use this. The published unit is the calendar month (Japan time): each
month is suppressed on its own (shared/domain/disclosure.release), and a figure over several
months is published only when every month's figure in it is, so no query, and no set of
queries, can be differenced into a withheld value. A month that ended long enough ago no
longer changes, so its suppressed figures are kept in memory; a request reads at most
`MAX_MONTHS` months.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from shared.domain.consent import JST
from shared.domain.disclosure import (
    Figure,
    MonthCounts,
    MonthRelease,
    combined,
    median_minutes,
    release,
)
from shared.domain.sessions import SURVEY_RATINGS
from shared.errors import ValidationError
from shared.services.catalog import (
    automatic_outcome,
    load_outcomes,
    load_topics,
    unclassified_outcome,
)
from shared.services.desk_records import StatEntries, StatSummaries
from shared.services.ports import Document
from shared.texts.catalogue import load_catalogue

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)
MAX_MONTHS = 60
FIRST_YEAR = 2000
LAST_YEAR = 2999
GROUPINGS = ("month", "topic", "outcome", "satisfaction")

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
SATISFACTION = "survey_answers"
"""The one column of the by-satisfaction table."""
OTHER_TOPIC = "other"
"""A topic no longer in the catalogue counts here."""


def _month_figure(column: str) -> Figure:
    """The monthly figure behind a column of the by-month table."""
    if column == "sessions_opened":
        return ("opened", "")
    if column == "sessions_closed":
        return ("closed", "", "")
    if column == "messages":
        return ("messages", "")
    return (column,)


def _topic_figure(column: str, topic: str) -> Figure:
    """The monthly figure behind a cell of the by-topic table ("" for every topic)."""
    if column == "sessions_opened":
        return ("opened", topic)
    if column == "sessions_closed":
        return ("closed", "", topic)
    return ("messages", topic)


class Reports:
    """Builds suppressed tables over a range of calendar months."""

    def __init__(
        self,
        entries: StatEntries,
        k: int,
        clock: Callable[[], datetime],
        settle_after: timedelta = timedelta(days=8),
    ) -> None:
        self._entries = entries
        self._k = k
        self._clock = clock
        self._settle_after = settle_after
        self._settled: dict[str, MonthRelease] = {}
        self._summaries = StatSummaries(entries.store)

    # -- the figures --------------------------------------------------------------------------

    def table(self, start: str | None, end: str | None, by: str | None) -> dict[str, Any]:
        """The published table: rows, columns, totals; withheld values are null."""
        months = self.months(start, end)
        grouping = "month" if by is None else by
        if grouping not in GROUPINGS:
            raise ValidationError("by", "one_of", choices=", ".join(GROUPINGS))
        releases = self._releases(months)
        if grouping == "month":
            result = self._by_month(releases)
        elif grouping == "topic":
            result = self._by_topic(releases)
        elif grouping == "satisfaction":
            result = self._by_satisfaction(releases)
        else:
            result = self._by_outcome(releases)
        suppressed = sorted(
            f"{row['key']}/{column}"
            for row in result["rows"]
            for column, value in row["cells"].items()
            if value is None
        )
        suppressed += sorted(
            f"{row['key']}/*" for row in result["rows"] if row.get("total", 0) is None
        )
        suppressed += sorted(f"*/{c}" for c, value in result["totals"].items() if value is None)
        if result.get("grandTotal", 0) is None:
            suppressed.append("*/*")
        now = self._now_month()
        return {
            "from": months[0],
            "to": months[-1],
            "by": grouping,
            "k": self._k,
            "provisional": [m for m in months if m >= now],
            **result,
            "suppressed": suppressed,
        }

    def sessions_by_month_and_topic(self, start: str | None, end: str | None) -> dict[str, Any]:
        """Sessions opened by month (rows) and topic (columns), withheld like the rest."""
        months = self.months(start, end)
        topics = [t.topic_id for t in load_topics()]
        releases = dict(zip(months, self._releases(months), strict=True))
        return {
            "from": months[0],
            "to": months[-1],
            "k": self._k,
            "months": months,
            "topics": topics,
            "labels": {t.topic_id: t.label for t in load_topics()},
            "cells": {m: {t: releases[m].figure(("opened", t)) for t in topics} for m in months},
        }

    def months(self, start: str | None, end: str | None) -> list[str]:
        """The calendar months from `start` to `end` (`YYYY-MM`, inclusive; the current month in
        Japan time where absent), at most `MAX_MONTHS`."""
        now = self._now_month()
        first = _month(start, "from") if start is not None else _parse(now)
        last = _month(end, "to") if end is not None else _parse(now)
        if last < first:
            raise ValidationError("to", "month_order")
        span = (last[0] - first[0]) * 12 + last[1] - first[1] + 1
        if span > MAX_MONTHS:
            raise ValidationError("to", "month_span", max=MAX_MONTHS)
        months = []
        year, month = first
        for _ in range(span):
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months

    # -- one month ----------------------------------------------------------------------------

    def _releases(self, months: list[str]) -> list[MonthRelease]:
        """Each month's suppressed figures. A month that can no longer change is tallied once
        (then kept in the store) and suppressed once (then kept in memory)."""
        kept = self._summaries.all() if any(m not in self._settled for m in months) else {}
        releases = []
        for month in months:
            released = self._settled.get(month)
            if released is None:
                settled = self._settled_by(month) <= self._clock()
                if settled and month in kept:
                    counts = _counts_from(month, kept[month])
                else:
                    counts = self._tally(month)
                    if settled:
                        self._summaries.put(month, _counts_doc(counts))
                released = release(
                    counts, self._k, self._topics(), self._outcomes(), SURVEY_RATINGS
                )
                if settled:
                    self._settled[month] = released
            releases.append(released)
        return releases

    def _settled_by(self, month: str) -> datetime:
        year, number = _parse(month)
        following = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
        return datetime(following.year, following.month, 1, tzinfo=JST) + self._settle_after

    def _tally(self, month: str) -> MonthCounts:
        counts = MonthCounts(month)
        topics = set(self._topics())
        outcomes = self._outcome_ids()
        for entry in self._entries.month(month):
            _add(counts, entry, topics, outcomes)
        return counts

    def _now_month(self) -> str:
        return self._clock().astimezone(JST).strftime("%Y-%m")

    @staticmethod
    def _topics() -> list[str]:
        return [t.topic_id for t in load_topics()]

    @staticmethod
    def _outcomes() -> list[str]:
        return [o.outcome_id for o in load_outcomes()] + [
            automatic_outcome().outcome_id,
            unclassified_outcome().outcome_id,
        ]

    @staticmethod
    def _outcome_ids() -> dict[str, str]:
        """An entry's outcome (label or id) to the outcome's id."""
        known = [*load_outcomes(), automatic_outcome()]
        return {o.label: o.outcome_id for o in known} | {o.outcome_id: o.outcome_id for o in known}

    # -- the groupings ------------------------------------------------------------------------

    def _by_month(self, releases: list[MonthRelease]) -> dict[str, Any]:
        everything = self._topics()
        rows = [
            {
                "key": month.month,
                "label": month.month,
                "cells": {c: month.figure(_month_figure(c)) for c in COUNTS},
                "medianFirstAnswerMinutes": median_minutes([month], everything, self._k),
            }
            for month in releases
        ]
        return {
            "columns": list(COUNTS),
            "rows": rows,
            "totals": {c: combined(releases, _month_figure(c)) for c in COUNTS},
        }

    def _by_topic(self, releases: list[MonthRelease]) -> dict[str, Any]:
        rows = [
            {
                "key": topic.topic_id,
                "label": topic.label,
                "cells": {
                    c: combined(releases, _topic_figure(c, topic.topic_id)) for c in BY_TOPIC
                },
                "medianFirstAnswerMinutes": median_minutes(releases, [topic.topic_id], self._k),
            }
            for topic in load_topics()
        ]
        return {
            "columns": list(BY_TOPIC),
            "rows": rows,
            "totals": {c: combined(releases, _topic_figure(c, "")) for c in BY_TOPIC},
        }

    def _by_satisfaction(self, releases: list[MonthRelease]) -> dict[str, Any]:
        """Closing-survey answers by rating (満足 / ふつう / 不満), one column with its total."""
        texts = load_catalogue()
        rows = [
            {
                "key": rating,
                "label": texts.text(f"survey_{rating}"),
                "cells": {SATISFACTION: combined(releases, ("survey", rating))},
            }
            for rating in SURVEY_RATINGS
        ]
        return {
            "columns": [SATISFACTION],
            "rows": rows,
            "totals": {SATISFACTION: combined(releases, ("survey", ""))},
        }

    def _by_outcome(self, releases: list[MonthRelease]) -> dict[str, Any]:
        topics = load_topics()
        known = [*load_outcomes(), automatic_outcome(), unclassified_outcome()]
        labels = {o.outcome_id: o.label for o in known}
        rows = [
            {
                "key": outcome,
                "label": labels[outcome],
                "cells": {
                    t.topic_id: combined(releases, ("closed", outcome, t.topic_id)) for t in topics
                },
                "total": combined(releases, ("closed", outcome, "")),
            }
            for outcome in self._outcomes()
        ]
        return {
            "columns": [t.topic_id for t in topics],
            "columnLabels": {t.topic_id: t.label for t in topics},
            "rows": rows,
            "totals": {t.topic_id: combined(releases, ("closed", "", t.topic_id)) for t in topics},
            "grandTotal": combined(releases, ("closed", "", "")),
        }


def _add(counts: MonthCounts, entry: Document, topics: set[str], outcomes: dict[str, str]) -> None:
    """What one entry adds to its month."""
    kind = entry.get("kind")
    topic = str(entry.get("topic") or OTHER_TOPIC)
    topic = topic if topic in topics else OTHER_TOPIC
    singles = {"user_new": "new_users", "suspension": "suspensions", "erasure": "erasures"}
    if kind in singles:
        name = singles[str(kind)]
        counts.singles[name] = counts.singles.get(name, 0) + 1
    elif kind == "consent" and entry.get("method") in ("explicit", "deemed"):
        name = f"consents_{entry['method']}"
        counts.singles[name] = counts.singles.get(name, 0) + 1
    elif kind == "session_open":
        counts.opened[topic] = counts.opened.get(topic, 0) + 1
    elif kind == "session_close":
        outcome = outcomes.get(str(entry.get("outcome") or ""), unclassified_outcome().outcome_id)
        counts.closed[(outcome, topic)] = counts.closed.get((outcome, topic), 0) + 1
        counts.messages[topic] = counts.messages.get(topic, 0) + int(entry.get("messages") or 0)
    elif kind == "first_answer":
        counts.answers.setdefault(topic, []).append(int(entry.get("minutes") or 0))
    elif kind == "survey" and entry.get("rating") in SURVEY_RATINGS:
        rating = str(entry["rating"])
        counts.survey[rating] = counts.survey.get(rating, 0) + 1


def _counts_doc(counts: MonthCounts) -> dict[str, Any]:
    return {
        "singles": counts.singles,
        "opened": counts.opened,
        "messages": counts.messages,
        "closed": [[outcome, topic, n] for (outcome, topic), n in sorted(counts.closed.items())],
        "answers": counts.answers,
        "survey": counts.survey,
    }


def _counts_from(month: str, doc: dict[str, Any]) -> MonthCounts:
    return MonthCounts(
        month,
        singles={k: int(v) for k, v in doc["singles"].items()},
        opened={k: int(v) for k, v in doc["opened"].items()},
        messages={k: int(v) for k, v in doc["messages"].items()},
        closed={(str(o), str(t)): int(n) for o, t, n in doc["closed"]},
        answers={k: [int(m) for m in v] for k, v in doc["answers"].items()},
        survey={k: int(v) for k, v in (doc.get("survey") or {}).items()},
    )


def _parse(month: str) -> tuple[int, int]:
    year, number = month.split("-")
    return int(year), int(number)


def _month(raw: str, name: str) -> tuple[int, int]:
    """A calendar month `YYYY-MM` (full match, ASCII digits), or a reason naming the field."""
    found = _MONTH.fullmatch(raw)
    if found is None:
        raise ValidationError(name, "month_format")
    year, month = int(found[1]), int(found[2])
    if not 1 <= month <= 12:
        raise ValidationError(name, "month_number")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError(name, "month_year", first=FIRST_YEAR, last=LAST_YEAR)
    return year, month
