"""Routine upkeep run by a timer: expire what the store does not expire itself, and read
LINE's monthly push quota (an alert fires above 80 %; experts' answers are pushes)."""

from __future__ import annotations

import logging

from shared.domain.runs import RunSummary
from shared.errors import LineApiError
from shared.services.ports import DocumentStore, PushQuotaSource

log = logging.getLogger("desk.housekeeping")


def run_housekeeping(store: DocumentStore, quota: PushQuotaSource | None = None) -> RunSummary:
    """Remove expired documents (event receipts) and log LINE's push quota. Idempotent; a
    LINE failure is logged and does not fail the run.

    The store removes what it finds expired in one statement, so what was examined is what
    was removed; stores with native TTL (Cosmos DB) find nothing.
    """
    removed = store.purge_expired()
    if quota is not None:
        log_push_quota(quota)
    return RunSummary("housekeeping", "removed", removed, removed)


def log_push_quota(source: PushQuotaSource) -> None:
    """One line with this month's push limit, consumption and percentage (counts only)."""
    try:
        quota = source.push_quota()
    except LineApiError as exc:
        log.warning("line quota unavailable: %s", exc.message)
        return
    if quota.percent is None:
        log.info("line quota type=none used=%d", quota.used)
    else:
        log.info(
            "line quota type=limited limit=%d used=%d percent=%.1f",
            quota.limit,
            quota.used,
            quota.percent,
        )
