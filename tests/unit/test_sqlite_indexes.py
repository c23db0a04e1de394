"""SQLite serves the desk's big-partition queries from an index, not a scan (issue 21)."""

from __future__ import annotations

import pytest

from shared.adapters.sqlite_store import SqliteStore
from shared.ports import DESK


@pytest.mark.parametrize(
    ("partition", "doc_type", "where", "index"),
    [
        ("sessions:open", "session", {"status": "waiting"}, "documents_status"),
        (
            "sessions:open",
            "session",
            {"status": "active", "assignedTo": "田中"},
            "documents_status",
        ),
        ("sessions:202511", "session", {"reference": "251104-012"}, "documents_reference"),
        ("sessions:202511", "session", {"userId": "U" + "0" * 32}, "documents_user"),
        ("audit:202511", "audit", {"userKey": "k" * 64}, "documents_user_key"),
        ("viewing", "viewing", {"sessionId": "20251104T100000-abcdef"}, "documents_session"),
    ],
)
def test_the_query_uses_its_index(tmp_path, partition, doc_type, where, index) -> None:
    store = SqliteStore(str(tmp_path / "desk.sqlite3"))
    for n in range(50):  # enough rows for the planner to care
        store.create(DESK, {"id": f"d{n:03d}", "pk": partition, "type": doc_type, "status": "x"})
    sql, params = store._select("body", DESK, partition, doc_type, where)  # the real statement
    plan = " ".join(
        str(row[-1]) for row in store._db.execute(f"EXPLAIN QUERY PLAN {sql} ORDER BY id", params)
    )
    assert index in plan, plan
