"""The `desk` container's partition layout: which logical partition holds what, and its version.

Records that only accumulate (closed sessions, audit records, the activity directory, the
statistics entries) live in partitions that roll over by month (`sessions:202612`), so no
logical partition grows without bound; what the consoles poll (open sessions) lives in one
small partition of its own (`sessions:open`). One `layout` document holds the layout's version
and the span of months written so far: a read that spans months (the closed tab, an erasure,
the retention timer) reads it once and queries only those months. A later change of layout
raises the version; a desk whose stored version differs from the code's refuses to run until
it is migrated, rather than reading half of its data from the wrong partitions.
"""

from __future__ import annotations

from collections.abc import Callable

from shared.errors import AlreadyExists, ConfigurationError, PreconditionFailed
from shared.ports import DESK, Document, DocumentStore, Filters

LAYOUT_VERSION = 2
"""1: everything of a kind in one partition (`sessions`, `audit`, `activity`). 2: monthly."""
LAYOUT_PARTITION = "layout"
_DOC_ID = "layout"
_ATTEMPTS = 20


def month_key(year: int, month: int) -> str:
    """The `YYYYMM` key of a month."""
    return f"{year:04d}{month:02d}"


def months_from(first: str, last: str) -> list[str]:
    """Every month key from `first` to `last`, both included, in order."""
    year, month = int(first[:4]), int(first[4:])
    found: list[str] = []
    while (key := month_key(year, month)) <= last:
        found.append(key)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


class Layout:
    """The stored layout: its version, checked, and the months written so far."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._span: tuple[str, str] | None = None  # only ever grows, so a stale copy is safe

    def months(self) -> list[str]:
        """Every month that may hold a record, oldest first (read from the store each time,
        so a month another instance opened a moment ago is included)."""
        doc = self._read()
        if doc is None:
            return []
        self._span = (doc["since"], doc["until"])
        return months_from(doc["since"], doc["until"])

    def note(self, month: str) -> None:
        """A record is about to be written into `month`: widen the stored span to include it.
        Costs nothing when this instance already knows the span covers it."""
        if self._span is not None and self._span[0] <= month <= self._span[1]:
            return
        for _ in range(_ATTEMPTS):
            doc = self._read()
            if doc is None:
                fresh = {"id": _DOC_ID, "pk": LAYOUT_PARTITION, "type": "layout"}
                try:
                    stored = self._store.create(
                        DESK, {**fresh, "version": LAYOUT_VERSION, "since": month, "until": month}
                    )
                except AlreadyExists:
                    continue
            elif doc["since"] <= month <= doc["until"]:
                stored = doc
            else:
                wider = {
                    **doc,
                    "since": min(doc["since"], month),
                    "until": max(doc["until"], month),
                }
                try:
                    stored = self._store.replace(DESK, wider, etag=str(doc["_etag"]))
                except PreconditionFailed:
                    continue
            self._span = (stored["since"], stored["until"])
            return
        raise PreconditionFailed(None, "record_race")

    def _read(self) -> Document | None:
        doc = self._store.read(DESK, LAYOUT_PARTITION, _DOC_ID)
        if doc is not None and doc.get("version") != LAYOUT_VERSION:
            raise ConfigurationError(
                f"the desk container holds layout version {doc.get('version')}, this code reads"
                f" version {LAYOUT_VERSION}: migrate the data before serving"
            )
        return doc


def query_months(
    store: DocumentStore,
    months: list[str],
    partition_of: Callable[[str], str],
    *,
    doc_type: str,
    where: Filters | None = None,
    after: str | None = None,
    after_month: str | None = None,
    limit: int | None = None,
) -> list[Document]:
    """Documents of monthly partitions in id order, as if they were one partition: months
    before the cursor's (`after_month`) are skipped, and querying stops at `limit`."""
    found: list[Document] = []
    for month in months:
        if after_month is not None and month < after_month:
            continue
        left = None if limit is None else limit - len(found)
        if left is not None and left <= 0:
            break
        found += store.query_partition(
            DESK, partition_of(month), doc_type=doc_type, where=where, after_id=after, limit=left
        )
    return found
