"""Routine upkeep run by a timer: expire what the store does not expire itself."""

from __future__ import annotations

from shared.domain.runs import RunSummary
from shared.services.ports import DocumentStore


def run_housekeeping(store: DocumentStore) -> RunSummary:
    """Remove expired documents (event receipts). Idempotent.

    The store removes what it finds expired in one statement, so what was examined is what
    was removed; stores with native TTL (Cosmos DB) find nothing.
    """
    removed = store.purge_expired()
    return RunSummary("housekeeping", "removed", removed, removed)
