"""The day's counter behind the short 受付番号 (`251104-012`).

One document per JST day in the `references` partition holds the last number given; taking the
next one is an ETag-guarded replace, so two instances opening sessions at the same moment never
get the same number (the loser reads again and takes the one after). A number taken by an
attempt that then failed is never reused: the numbers are unique, not always consecutive.
"""

from __future__ import annotations

from datetime import date, timedelta

from shared.errors import AlreadyExists, PreconditionFailed
from shared.ports import DESK, DocumentStore

REFERENCE_PARTITION = "references"
_TTL = int(timedelta(days=3).total_seconds())  # the day is over long before
_ATTEMPTS = 20


class ReferenceCounter:
    """Hands out each JST day's numbers, 1, 2, 3, ..."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def next(self, day: date) -> int:
        """The next number of `day` (PreconditionFailed after many lost races in a row)."""
        doc_id = f"day-{day:%Y%m%d}"
        for _ in range(_ATTEMPTS):
            found = self._store.read(DESK, REFERENCE_PARTITION, doc_id)
            if found is None:
                try:
                    doc = {"id": doc_id, "pk": REFERENCE_PARTITION, "type": "references"}
                    self._store.create(DESK, {**doc, "last": 1, "ttl": _TTL})
                except AlreadyExists:
                    continue
                return 1
            number = int(found.get("last", 0)) + 1
            try:
                self._store.replace(DESK, {**found, "last": number}, etag=str(found["_etag"]))
            except PreconditionFailed:
                continue
            return number
        raise PreconditionFailed(None, "record_race")
