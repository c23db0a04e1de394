"""No set of statistics queries can be differenced into a withheld count (issue 11).

The reader of this test asks the published API for every range of months (overlapping,
nested, single) in every grouping, and collects every figure it publishes as a linear
equation over the true monthly counts. An independent solver (written here, apart from the
production code) then decides whether any count from 1 to k-1 that was withheld, or any
withheld figure of a query, is pinned down by the union of all those equations.
"""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.services.catalog import automatic_outcome, load_outcomes, load_topics
from shared.services.desk_records import StatEntries
from shared.services.reporting import Reports
from tests.kit.fakes import FakeClock, MemoryStore

K = 4
MONTHS = ("2025-09", "2025-10", "2025-11")
TOPICS = [t.topic_id for t in load_topics()]
OUTCOMES = [o.outcome_id for o in load_outcomes()] + [
    automatic_outcome().outcome_id,
    "unclassified",
]
LABELS = {o.outcome_id: o.label for o in load_outcomes()} | {
    automatic_outcome().outcome_id: automatic_outcome().label,
    "unclassified": "",
}
SINGLES = {
    "new_users": ("user_new", {}),
    "consents_explicit": ("consent", {"method": "explicit"}),
    "consents_deemed": ("consent", {"method": "deemed"}),
    "suspensions": ("suspension", {}),
    "erasures": ("erasure", {}),
}

BY_TOPIC = ("sessions_opened", "sessions_closed", "messages")

Leaf = tuple[str, ...]
"""One true count of one month: (month, "single", name), (month, "opened", topic),
(month, "messages", topic), (month, "closed", outcome, topic)."""


def leaves(month: str) -> list[Leaf]:
    found: list[Leaf] = [(month, "single", name) for name in SINGLES]
    found += [(month, "opened", t) for t in TOPICS] + [(month, "messages", t) for t in TOPICS]
    found += [(month, "closed", o, t) for o in OUTCOMES for t in TOPICS]
    return found


def meaning(by: str, months: list[str], row: str, column: str) -> set[Leaf]:
    """Which true counts a published figure adds up ("" row or column: a total), as the
    README documents the tables, independently of the code that builds them."""
    found: set[Leaf] = set()
    for month in months:
        if by == "month":
            if column in SINGLES:
                found.add((month, "single", column))
            elif column == "sessions_opened":
                found |= {(month, "opened", t) for t in TOPICS}
            elif column == "messages":
                found |= {(month, "messages", t) for t in TOPICS}
            else:
                found |= {(month, "closed", o, t) for o in OUTCOMES for t in TOPICS}
        elif by == "topic":
            topics = TOPICS if row == "" else [row]
            if column == "sessions_opened":
                found |= {(month, "opened", t) for t in topics}
            elif column == "messages":
                found |= {(month, "messages", t) for t in topics}
            else:
                found |= {(month, "closed", o, t) for o in OUTCOMES for t in topics}
        else:
            outcomes = OUTCOMES if row == "" else [row]
            topics = TOPICS if column == "" else [column]
            found |= {(month, "closed", o, t) for o in outcomes for t in topics}
    return found


def published(body: dict) -> list[tuple[str, str, int | None]]:
    """Every figure of one answer: (row, column, value); "" for totals."""
    figures = []
    by = body["by"]
    for row in body["rows"]:
        key = "" if by == "month" else row["key"]
        for column, value in row["cells"].items():
            figures.append((row["key"] if by == "month" else key, column, value))
        if "total" in row:
            figures.append((key, "", row["total"]))
    for column, value in body["totals"].items():
        figures.append(("", column, value))
    if "grandTotal" in body:
        figures.append(("", "", body["grandTotal"]))
    return figures


def span_contains(equations: list[set[Leaf]], targets: list[set[Leaf]]) -> list[bool]:
    """For each target sum, whether the known sums determine it (exact rational elimination)."""
    basis: dict[Leaf, dict[Leaf, Fraction]] = {}  # pivot -> row with 1 at the pivot

    def reduce(vector: dict[Leaf, Fraction]) -> dict[Leaf, Fraction]:
        # A row's other leaves all come after its pivot, so one pass in pivot order is enough.
        vector = dict(vector)
        for pivot in sorted(basis):
            factor = vector.get(pivot)
            if factor:
                for leaf, value in basis[pivot].items():
                    updated = vector.get(leaf, Fraction(0)) - factor * value
                    if updated:
                        vector[leaf] = updated
                    else:
                        vector.pop(leaf, None)
        return vector

    for equation in dict.fromkeys(frozenset(e) for e in equations):
        rest = reduce({leaf: Fraction(1) for leaf in equation})
        if rest:
            pivot = min(rest)
            scale = rest[pivot]
            basis[pivot] = {leaf: value / scale for leaf, value in rest.items()}
    return [not reduce({leaf: Fraction(1) for leaf in target}) for target in targets]


month_counts = st.fixed_dictionaries(
    {
        "singles": st.lists(st.integers(0, 2 * K), min_size=5, max_size=5),
        "opened": st.lists(st.sampled_from([0, 0, 1, 2, K, K + 3, 3 * K]), min_size=6, max_size=6),
        "closed": st.dictionaries(
            st.tuples(st.sampled_from(OUTCOMES[:4] + OUTCOMES[-2:]), st.sampled_from(TOPICS[:3])),
            st.integers(1, 2 * K),
            max_size=6,
        ),
    }
)


def write_months(entries: StatEntries, data: list[dict]) -> dict[Leaf, int]:
    """Write each month's entries as the desk would; the true counts."""
    truth: dict[Leaf, int] = {}
    serial = 0

    def write(month: str, kind: str, **dims: str | int) -> None:
        nonlocal serial
        serial += 1
        entries.add(kind, str(serial), datetime.fromisoformat(f"{month}-10T03:00:00+00:00"), **dims)

    for month, counts in zip(MONTHS, data, strict=True):
        truth |= dict.fromkeys(leaves(month), 0)
        for (name, (kind, dims)), n in zip(SINGLES.items(), counts["singles"], strict=True):
            truth[(month, "single", name)] = n
            for _ in range(n):
                write(month, kind, **dims)
        for topic, n in zip(TOPICS, counts["opened"], strict=True):
            truth[(month, "opened", topic)] = n
            for _ in range(n):
                write(month, "session_open", topic=topic)
        for (outcome, topic), n in counts["closed"].items():
            truth[(month, "closed", outcome, topic)] = n
            truth[(month, "messages", topic)] += 2 * n
            for _ in range(n):
                write(month, "session_close", topic=topic, outcome=LABELS[outcome], messages=2)
    return truth


def small_figures(truth: dict[Leaf, int]) -> list[set[Leaf]]:
    """Every count of one month from 1 to k-1, whatever line of whichever table it is on."""
    small: list[set[Leaf]] = [{leaf} for leaf, value in truth.items() if 0 < value < K]
    lines = [("topic", row, column) for row in ["", *TOPICS] for column in BY_TOPIC]
    lines += [("outcome", row, column) for row in ["", *OUTCOMES] for column in ["", *TOPICS]]
    for month in MONTHS:
        for by, row, column in lines:
            figure = meaning(by, [month], row, column)
            if 0 < sum(truth[leaf] for leaf in figure) < K:
                small.append(figure)
    return small


@settings(max_examples=25, deadline=None)
@given(data=st.lists(month_counts, min_size=len(MONTHS), max_size=len(MONTHS)))
def test_no_set_of_queries_recovers_a_withheld_value(data) -> None:
    store = MemoryStore(FakeClock(datetime(2026, 3, 1, tzinfo=UTC)))
    entries = StatEntries(store)
    truth = write_months(entries, data)
    reports = Reports(entries, K, store.clock)
    equations: list[set[Leaf]] = []
    withheld: list[set[Leaf]] = []
    for i in range(len(MONTHS)):  # every range: single months, overlapping, nested
        for j in range(i, len(MONTHS)):
            months = list(MONTHS[i : j + 1])
            for by in ("month", "topic", "outcome"):
                body = reports.table(months[0], months[-1], by)
                for row, column, value in published(body):
                    span = [row] if by == "month" and row else months
                    figure = meaning(by, span, row, column)
                    if value is None:
                        withheld.append(figure)
                        continue
                    assert value == sum(truth[leaf] for leaf in figure)
                    assert value == 0 or value >= K
                    equations.append(figure)
    targets = small_figures(truth) + withheld
    recovered = span_contains(equations, targets)
    leaked = [sorted(t) for t, found in zip(targets, recovered, strict=True) if found]
    assert leaked == []


def test_the_solver_sees_the_differencing_the_issue_describes() -> None:
    # 1-30 November = 30, 1-29 November = 28: the 30th alone is pinned down.
    days: list[Leaf] = [("2025-11", "d", str(n)) for n in range(1, 31)]
    whole, but_last = set(days), set(days[:-1])
    assert span_contains([whole, but_last], [{days[-1]}]) == [True]
    assert span_contains([whole], [{days[-1]}]) == [False]
