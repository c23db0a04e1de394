"""Suppression: no count below k is published, and none can be recovered from the rest."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.disclosure import Table, suppress

K = 10


def recoverable(table: Table) -> set[tuple[str, str]]:
    """Independent check: a suppressed value is recoverable when no change of the suppressed
    values alone keeps every published total right while moving it. Solve for the space of
    such changes (integer elimination, written apart from the production code)."""
    unknowns = sorted(table.suppressed)
    rows = []
    for relation in table.equations():
        row = [relation.get(u, 0) for u in unknowns]
        if any(row):
            rows.append([Fraction(v) for v in row])
    # Reduce to echelon form, remembering pivot columns.
    pivots: list[int] = []
    r = 0
    for c in range(len(unknowns)):
        pivot = next((i for i in range(r, len(rows)) if rows[i][c] != 0), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        rows[r] = [v / rows[r][c] for v in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][c] != 0:
                rows[i] = [a - rows[i][c] * b for a, b in zip(rows[i], rows[r], strict=True)]
        pivots.append(c)
        r += 1
    free = [c for c in range(len(unknowns)) if c not in pivots]
    # A pivot variable is pinned down when it depends on no free variable.
    return {unknowns[c] for i, c in enumerate(pivots) if all(rows[i][f] == 0 for f in free)}


tables = st.builds(
    lambda rows, cols, values, totals: (rows, cols, values, totals),
    st.integers(1, 5),
    st.integers(1, 4),
    st.lists(st.integers(0, 40), min_size=20, max_size=20),
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(spec=tables)
def test_random_tables_publish_nothing_below_k_and_nothing_recoverable(spec) -> None:
    n_rows, n_cols, values, row_totals = spec
    rows = [f"r{i}" for i in range(n_rows)]
    cols = [f"c{j}" for j in range(n_cols)]
    cells = {(r, c): values[i * n_cols + j] for i, r in enumerate(rows) for j, c in enumerate(cols)}
    table = suppress(Table(rows, cols, cells, row_totals=row_totals), K)
    for item in table.items():
        if 0 < table.value(item) < K:
            assert item in table.suppressed
    assert recoverable(table) == set()


def test_a_single_small_cell_takes_a_partner_so_the_total_cannot_give_it_away() -> None:
    table = suppress(
        Table(["m1", "m2", "m3"], ["n"], {("m1", "n"): 5, ("m2", "n"): 50, ("m3", "n"): 60}), K
    )
    assert table.suppressed == {("m1", "n"), ("m2", "n")}


def test_a_table_without_small_counts_is_published_whole() -> None:
    table = suppress(
        Table(
            ["a", "b"],
            ["x", "y"],
            {("a", "x"): 10, ("a", "y"): 0, ("b", "x"): 12, ("b", "y"): 30},
            row_totals=True,
        ),
        K,
    )
    assert table.suppressed == set()


def test_the_independent_checker_sees_what_primary_suppression_alone_leaves_open() -> None:
    table = Table(["a", "b"], ["x"], {("a", "x"): 3, ("b", "x"): 40})
    table.suppressed = {("a", "x")}  # total minus b gives it away
    assert recoverable(table) == {("a", "x")}
    table.suppressed = {("a", "x"), ("b", "x")}
    assert recoverable(table) == set()
