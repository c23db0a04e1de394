"""Routine upkeep run by a timer: expire what the store does not expire itself."""

from __future__ import annotations

import logging

from shared.services.ports import DocumentStore

log = logging.getLogger("desk.housekeeping")


def run_housekeeping(store: DocumentStore) -> int:
    """Remove expired documents (event receipts); returns how many. Idempotent."""
    removed = store.purge_expired()
    log.info("housekeeping expired_removed=%d", removed)
    return removed
