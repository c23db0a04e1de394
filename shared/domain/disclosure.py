"""Disclosure control for published counts (policy §5): nobody may be singled out.

Cells below a threshold k are suppressed (primary suppression), and then enough other cells
and totals are suppressed that no suppressed value can be recovered from what is published,
including by subtracting cells from totals (complementary suppression). "Recovered" is decided
exactly: a suppressed value is exposed when the published cells and totals pin it down by
linear combination, which is checked with rational Gaussian elimination.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

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
        return sum(self.cells.values())

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


def exposed(table: Table) -> list[Item]:
    """Suppressed items whose value the published ones determine exactly."""
    unknowns = sorted(table.suppressed)
    if not unknowns:
        return []
    index = {item: i for i, item in enumerate(unknowns)}
    matrix = [
        [Fraction(relation.get(item, 0)) for item in unknowns]
        for relation in table.equations()
        if any(item in index for item in relation)
    ]
    basis = _row_echelon(matrix)
    rank = len(basis)
    found = []
    for item, i in index.items():
        unit = [Fraction(int(j == i)) for j in range(len(unknowns))]
        if len(_row_echelon([*basis, unit])) == rank:
            found.append(item)
    return found


def _row_echelon(rows: list[list[Fraction]]) -> list[list[Fraction]]:
    """The non-zero rows of a reduced row echelon form (exact)."""
    matrix = [row[:] for row in rows]
    pivots: list[list[Fraction]] = []
    width = len(matrix[0]) if matrix else 0
    for column in range(width):
        pivot = next((r for r in matrix if r[column] != 0), None)
        if pivot is None:
            continue
        matrix.remove(pivot)
        scale = pivot[column]
        pivot = [v / scale for v in pivot]
        matrix = [
            [a - r[column] * b for a, b in zip(r, pivot, strict=True)] if r[column] else r
            for r in matrix
        ]
        pivots = [
            [a - p[column] * b for a, b in zip(p, pivot, strict=True)] if p[column] else p
            for p in pivots
        ]
        pivots.append(pivot)
    return pivots


def suppress(table: Table, k: int) -> Table:
    """Mark what may not be published: cells and totals from 1 to k-1, then complements."""
    table.suppressed = {item for item in table.items() if 0 < table.value(item) < k}
    while found := exposed(table):
        table.suppressed.add(_complement(table, found[0]))
    return table


def _complement(table: Table, item: Item) -> Item:
    """The published item whose suppression exposes least, preferring one on `item`'s lines,
    cells to totals, and small counts: the least information withheld."""
    row, column = item
    published = [other for other in table.items() if other not in table.suppressed]
    on_line = [o for o in published if (row and o[0] == row) or (column and o[1] == column)]

    def cost(other: Item) -> tuple[int, bool, bool, int]:
        trial = Table(
            table.rows, table.columns, table.cells, table.row_totals, table.suppressed | {other}
        )
        return (len(exposed(trial)), "" in other, table.value(other) == 0, table.value(other))

    return min(on_line or published, key=cost)
