"""Routine upkeep run by a timer: expire what the store does not expire itself, and read
LINE's monthly push quota (an alert fires above 80 %; experts' answers are pushes)."""

from __future__ import annotations

import logging

from shared.errors import LineApiError
from shared.services.ports import DocumentStore, PushQuotaSource

log = logging.getLogger("desk.housekeeping")


def run_housekeeping(store: DocumentStore, quota: PushQuotaSource | None = None) -> int:
    """Remove expired documents (event receipts) and log LINE's push quota; returns how many
    documents were removed. Idempotent; a LINE failure is logged and does not fail the run."""
    removed = store.purge_expired()
    log.info("housekeeping expired_removed=%d", removed)
    if quota is not None:
        log_push_quota(quota)
    return removed


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
