"""Disclosure control for published counts (policy §5): nobody may be singled out.

Cells below a threshold k are suppressed (primary suppression), and then enough other cells
and totals are suppressed that no suppressed value can be recovered from what is published,
including by subtracting cells from totals (complementary suppression).

"Recovered" is decided exactly, and fast, from the structure of the tables we publish:
- a table with column totals only: each column is one relation (cells minus its total); a
  suppressed value is recovered when it is the only one withheld in its column;
- a table with row totals as well: extend it with the totals as a last row and column (signs
  flipped), so that every row and every column of the extended table sums to zero. The
  withheld values are the edges of a bipartite graph between its rows and columns, and one of
  them is pinned down exactly when it is a bridge of that graph (the relations' null space is
  the graph's cycle space: a value can move, keeping every total, only around a cycle).

The published unit is the calendar month (see `release`): each month is suppressed on its own,
over one joint set of tables that holds every figure any grouping shows for it, and a figure
over several months is published only when every month's figure in it is. So the union of any
set of queries is spanned by published monthly figures, and the months share no underlying
count: no withheld monthly figure can be recovered from any number of queries.
"""

from __future__ import annotations

import statistics as stats
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

Item = tuple[str, str]
"""(row, column) for a cell; ("", column) for a column total; (row, "") for a row total."""


@dataclass
class Table:
    """Counts by row and column, published with column totals and, if additive, row totals."""

    rows: list[str]
    columns: list[str]
    cells: dict[Item, int]
    row_totals: bool = False
    suppressed: set[Item] = field(default_factory=set)

    def value(self, item: Item) -> int:
        """A cell's or a total's count."""
        row, column = item
        if row and column:
            return self.cells.get(item, 0)
        if row:
            return sum(self.cells.get((row, c), 0) for c in self.columns)
        if column:
            return sum(self.cells.get((r, column), 0) for r in self.rows)
        return sum(self.cells.get((r, c), 0) for r in self.rows for c in self.columns)

    def items(self) -> list[Item]:
        """Every publishable cell and total."""
        cells = [(r, c) for r in self.rows for c in self.columns]
        totals = [("", c) for c in self.columns]
        if self.row_totals:
            totals += [(r, "") for r in self.rows] + [("", "")]
        return cells + totals

    def equations(self) -> list[dict[Item, int]]:
        """The linear relations a reader knows: each total is the sum of its cells."""
        relations: list[dict[Item, int]] = []
        for column in self.columns:
            relation = {(r, column): 1 for r in self.rows}
            relation[("", column)] = -1
            relations.append(relation)
        if self.row_totals:
            for row in self.rows:
                relation = {(row, c): 1 for c in self.columns}
                relation[(row, "")] = -1
                relations.append(relation)
            grand = {("", c): 1 for c in self.columns}
            grand[("", "")] = -1
            relations.append(grand)
        return relations


def exposed(table: Table, suppressed: set[Item] | None = None) -> list[Item]:
    """Suppressed items whose value the published ones determine exactly."""
    withheld = table.suppressed if suppressed is None else suppressed
    if table.row_totals:
        return sorted(_bridges(withheld))
    per_column: dict[str, list[Item]] = defaultdict(list)
    for item in withheld:
        per_column[item[1]].append(item)
    return sorted(items[0] for items in per_column.values() if len(items) == 1)


def _bridges(edges: Iterable[Item]) -> set[Item]:
    """The items that are bridges of the bipartite graph rows–columns (totals as "")."""
    graph: dict[tuple[str, str], list[tuple[tuple[str, str], Item]]] = defaultdict(list)
    for item in edges:
        row, column = ("r", item[0]), ("c", item[1])
        graph[row].append((column, item))
        graph[column].append((row, item))
    order: dict[tuple[str, str], int] = {}
    low: dict[tuple[str, str], int] = {}
    found: set[Item] = set()
    for start in graph:
        if start in order:
            continue
        order[start] = low[start] = len(order)
        stack: list[tuple[tuple[str, str], Item | None, int]] = [(start, None, 0)]
        while stack:
            node, via, next_edge = stack.pop()
            if next_edge < len(graph[node]):
                stack.append((node, via, next_edge + 1))
                other, item = graph[node][next_edge]
                if item == via:
                    continue
                if other in order:
                    low[node] = min(low[node], order[other])
                else:
                    order[other] = low[other] = len(order)
                    stack.append((other, item, 0))
                continue
            if via is not None:
                parent = ("c", via[1]) if node[0] == "r" else ("r", via[0])
                low[parent] = min(low[parent], low[node])
                if low[node] > order[parent]:
                    found.add(via)
    return found


def suppress(table: Table, k: int) -> Table:
    """Mark what may not be published: cells and totals from 1 to k-1, then complements."""
    table.suppressed = {item for item in table.items() if 0 < table.value(item) < k}
    while found := exposed(table):
        table.suppressed.add(_complement(table, found[0]))
    return table


def _complement(table: Table, item: Item) -> Item:
    """The published item to withhold next so that `item` is no longer exposed: one that closes
    a cycle through it (or shares its column, in a table without row totals), preferring cells
    to totals, and small counts: the least information withheld. Where no single item can,
    the one whose suppression leaves least exposed, preferring one on `item`'s lines."""
    published = [other for other in table.items() if other not in table.suppressed]

    def least(other: Item) -> tuple[bool, bool, int]:
        return ("" in other, table.value(other) == 0, table.value(other))

    if table.row_totals:
        crossing = _crossing(table.suppressed, item, published)
    else:
        crossing = [o for o in published if o[1] == item[1]]
    if crossing:
        return min(crossing, key=least)
    row, column = item
    on_line = [o for o in published if (row and o[0] == row) or (column and o[1] == column)]

    def cost(other: Item) -> tuple[int, bool, bool, int]:
        return (len(exposed(table, table.suppressed | {other})), *least(other))

    return min(on_line or published, key=cost)


def _crossing(withheld: set[Item], bridge: Item, published: list[Item]) -> list[Item]:
    """Published items joining the two sides of `bridge` (so that it lies on a cycle)."""
    graph: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for row, column in withheld - {bridge}:
        graph[("r", row)].add(("c", column))
        graph[("c", column)].add(("r", row))
    side = {("r", bridge[0])}
    frontier = [("r", bridge[0])]
    while frontier:
        for other in graph[frontier.pop()]:
            if other not in side:
                side.add(other)
                frontier.append(other)
    if ("c", bridge[1]) in side:  # not a bridge after all
        return []
    far = {("c", bridge[1])}
    frontier = [("c", bridge[1])]
    while frontier:
        for other in graph[frontier.pop()]:
            if other not in far:
                far.add(other)
                frontier.append(other)
    return [
        (row, column)
        for row, column in published
        if (("r", row) in side and ("c", column) in far)
        or (("r", row) in far and ("c", column) in side)
    ]


# -- the published unit: one calendar month ------------------------------------------------------

SINGLES = ("new_users", "consents_explicit", "consents_deemed", "suspensions", "erasures")
"""Counts that are published for the month only (no breakdown)."""

Figure = tuple[str, ...]
"""One publishable monthly figure, e.g. ("new_users",), ("opened", topic), ("opened", "")
(every session opened), ("closed", outcome, topic), ("closed", "", topic) (closed on a
topic), ("closed", "", "") (every session closed), ("survey", rating), ("survey", "") (every
survey answer)."""


@dataclass
class MonthCounts:
    """What happened in one calendar month, as counts (the statistics entries, tallied)."""

    month: str
    singles: dict[str, int] = field(default_factory=dict)
    opened: dict[str, int] = field(default_factory=dict)
    """sessions opened, by topic"""
    messages: dict[str, int] = field(default_factory=dict)
    """users' messages in closed sessions, by topic"""
    closed: dict[tuple[str, str], int] = field(default_factory=dict)
    """sessions closed, by (outcome, topic)"""
    answers: dict[str, list[int]] = field(default_factory=dict)
    """minutes to the first answer, by topic"""
    survey: dict[str, int] = field(default_factory=dict)
    """closing-survey answers, by rating"""


@dataclass(frozen=True)
class MonthRelease:
    """A month's figures as they may be published: None where withheld."""

    month: str
    figures: Mapping[Figure, int | None]
    answers: Mapping[str, tuple[int, ...]]

    def figure(self, key: Figure) -> int | None:
        """A figure's published value (0 for one the month has no line for)."""
        return self.figures.get(key, 0)


def release(
    counts: MonthCounts,
    k: int,
    topics: Sequence[str],
    outcomes: Sequence[str],
    ratings: Sequence[str] = (),
) -> MonthRelease:
    """Suppress one month on its own: every figure any grouping shows for it, jointly.

    The tables share their totals: sessions closed by topic are the column totals of the
    outcome × topic table, every session opened is the total of the opened-by-topic column, and
    so on; each figure exists once, so every grouping shows it withheld or not alike.
    """
    figures: dict[Figure, int | None] = {}
    for name in SINGLES:
        value = counts.singles.get(name, 0)
        figures[(name,)] = None if 0 < value < k else value
    for name, rows, by_row in (
        ("opened", topics, counts.opened),
        ("messages", topics, counts.messages),
        ("survey", ratings, counts.survey),
    ):
        column = suppress(Table(list(rows), [name], {(r, name): by_row.get(r, 0) for r in rows}), k)
        for row, col in column.items():
            figures[(name, row)] = (
                None if (row, col) in column.suppressed else column.value((row, col))
            )
    closed = suppress(
        Table(
            list(outcomes),
            list(topics),
            {(o, t): counts.closed.get((o, t), 0) for o in outcomes for t in topics},
            row_totals=True,
        ),
        k,
    )
    for row, col in closed.items():
        figures[("closed", row, col)] = (
            None if (row, col) in closed.suppressed else closed.value((row, col))
        )
    answers = {topic: tuple(sorted(minutes)) for topic, minutes in counts.answers.items()}
    return MonthRelease(counts.month, figures, answers)


def combined(releases: Sequence[MonthRelease], key: Figure) -> int | None:
    """A figure over several months: their sum, published only if every month's is."""
    total = 0
    for month in releases:
        value = month.figure(key)
        if value is None:
            return None
        total += value
    return total


def median_minutes(releases: Sequence[MonthRelease], topics: Sequence[str], k: int) -> float | None:
    """The median minutes to a first answer on `topics` over the months, shown only where each
    month holds none or at least k answers (and k in all), like the counts it summarises."""
    minutes: list[int] = []
    for month in releases:
        mine = [m for topic in topics for m in month.answers.get(topic, ())]
        if 0 < len(mine) < k:
            return None
        minutes += mine
    return stats.median(minutes) if len(minutes) >= k else None
