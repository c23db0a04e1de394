"""DocumentStore on SQLite (standard library): the embedded default for `make run` and tests.

It mirrors the Cosmos DB adapter's semantics (partitioned ids, ETags, per-item TTL) so the
same contract tests hold for both. One connection per process, serialised by a lock: SQLite
allows one writer at a time anyway, and the desk's operations are single-row.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.budget import seconds_left
from shared.errors import AlreadyExists, PreconditionFailed, StoreUnavailable
from shared.ports import PARTITION_KEYS, Document, Filters, add_counts, field_name

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    container  TEXT NOT NULL,
    partition  TEXT NOT NULL,
    id         TEXT NOT NULL,
    body       TEXT NOT NULL,
    etag       TEXT NOT NULL,
    ts         INTEGER NOT NULL,
    expires_at REAL,
    PRIMARY KEY (container, partition, id)
);
CREATE INDEX IF NOT EXISTS documents_expiry ON documents (expires_at)
    WHERE expires_at IS NOT NULL;
-- A user's documents in a desk-wide partition (their sessions among all sessions: the
-- console's history panel, erasure), found as Cosmos DB finds them, through an index.
CREATE INDEX IF NOT EXISTS documents_user
    ON documents (container, partition, json_extract(body, '$.userId'), id);
-- The queue and the tab counts (sessions by status, in id order among every session ever
-- opened), a 受付番号 typed into the console, and an erasure's scrub of the audit trail.
CREATE INDEX IF NOT EXISTS documents_status
    ON documents (container, partition, json_extract(body, '$.status'), id);
CREATE INDEX IF NOT EXISTS documents_reference
    ON documents (container, partition, json_extract(body, '$.reference'), id);
CREATE INDEX IF NOT EXISTS documents_user_key
    ON documents (container, partition, json_extract(body, '$.userKey'), id);
-- Who has a conversation open (presence beats: expired ones wait for the housekeeping timer)
-- and a session's messages and notes.
CREATE INDEX IF NOT EXISTS documents_session
    ON documents (container, partition, json_extract(body, '$.sessionId'), id);
"""


# How long a call waits for the file at most, outside any budget (timers, scripts).
BUSY_SECONDS = 5.0


def _system_now() -> datetime:
    return datetime.now(UTC)


class SqliteStore:
    """A DocumentStore in one SQLite file (or `:memory:`)."""

    def __init__(self, path: str, clock: Callable[[], datetime] = _system_now) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.Lock()
        self._busy_ms = int(BUSY_SECONDS * 1000)
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL with NORMAL sync: no corruption on a crash, one fsync per checkpoint instead
            # of one per commit (the embedded store serves local runs, not production).
            self._db.execute("PRAGMA synchronous=NORMAL")
            # Erasure must really erase: deleted rows are overwritten, not left in free pages.
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite store cannot be opened: {type(exc).__name__}") from None

    def close(self) -> None:
        """Close the connection (tests; a Functions worker keeps it for its lifetime)."""
        with self._hold():
            self._db.close()

    # -- DocumentStore -------------------------------------------------------------------

    def read(self, container: str, partition: str, doc_id: str) -> Document | None:
        """Point read; None when absent or expired."""
        row = self._one(
            "SELECT body, etag, ts FROM documents WHERE container = ? AND partition = ? AND id = ?"
            " AND (expires_at IS NULL OR expires_at > ?)",
            (container, partition, doc_id, self._now()),
        )
        return None if row is None else _document(row)

    def create(self, container: str, doc: Document) -> Document:
        """Insert; AlreadyExists when a live document has that id (an expired one is replaced)."""
        partition, doc_id = _key(container, doc)
        with self._transaction() as db:
            try:
                return self._write(db, "INSERT", container, doc)
            except sqlite3.IntegrityError:
                pass
            # Taken: by a live document (a conflict), or by an expired one (Cosmos DB would
            # have removed it already, so its id is free).
            expired = db.execute(
                "DELETE FROM documents WHERE container = ? AND partition = ? AND id = ?"
                " AND expires_at IS NOT NULL AND expires_at <= ?",
                (container, partition, doc_id, self._now()),
            ).rowcount
            if not expired:
                raise AlreadyExists(None, "store_exists")
            return self._write(db, "INSERT", container, doc)

    def increment(
        self,
        container: str,
        doc: Document,
        deltas: Mapping[str, int],
        sets: Mapping[str, Any] | None = None,
    ) -> Document:
        """Read, add and write back in one transaction (the file's write lock holds it)."""
        partition, doc_id = _key(container, doc)
        with self._transaction() as db:
            row = db.execute(
                "SELECT body, etag, ts FROM documents WHERE container = ? AND partition = ?"
                " AND id = ? AND (expires_at IS NULL OR expires_at > ?)",
                (container, partition, doc_id, self._now()),
            ).fetchone()
            current = _document(row) if row is not None else dict(doc)
            changed = add_counts(current, deltas, sets)
            return self._write(db, "INSERT OR REPLACE", container, changed)

    def upsert(self, container: str, doc: Document) -> Document:
        """Insert or overwrite."""
        with self._transaction() as db:
            return self._write(db, "INSERT OR REPLACE", container, doc)

    def replace(self, container: str, doc: Document, *, etag: str) -> Document:
        """Overwrite only if the stored ETag is still `etag`."""
        partition, doc_id = _key(container, doc)
        with self._transaction() as db:
            row = db.execute(
                "SELECT etag FROM documents WHERE container = ? AND partition = ? AND id = ?"
                " AND (expires_at IS NULL OR expires_at > ?)",
                (container, partition, doc_id, self._now()),
            ).fetchone()
            if row is None or row[0] != etag:
                raise PreconditionFailed(None, "store_changed")
            return self._write(db, "INSERT OR REPLACE", container, doc)

    def delete(self, container: str, partition: str, doc_id: str) -> bool:
        """Remove one document; False when it was not there."""
        key = (container, partition, doc_id)
        where = "WHERE container = ? AND partition = ? AND id = ?"
        with self._transaction() as db:
            row = db.execute(f"SELECT expires_at FROM documents {where}", key).fetchone()  # noqa: S608 -- constant SQL
            db.execute(f"DELETE FROM documents {where}", key)  # noqa: S608 -- constant SQL
        return row is not None and (row[0] is None or row[0] > self._now())

    def query_partition(
        self,
        container: str,
        partition: str,
        *,
        doc_type: str | None = None,
        where: Filters | None = None,
        after_id: str | None = None,
        limit: int | None = None,
    ) -> list[Document]:
        """Live documents of one partition, filtered, ordered by id, paged by id."""
        sql, params = self._select("body, etag, ts", container, partition, doc_type, where)
        if after_id is not None:
            sql += " AND id > ?"
            params += (after_id,)
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params += (int(limit),)
        with self._hold():
            rows = self._guard(lambda: self._db.execute(sql, params).fetchall())
        return [_document(row) for row in rows]

    def count_partition(
        self,
        container: str,
        partition: str,
        *,
        doc_type: str | None = None,
        where: Filters | None = None,
        before_id: str | None = None,
    ) -> int:
        """How many live documents match (ids before `before_id`, when given)."""
        sql, params = self._select("COUNT(*)", container, partition, doc_type, where)
        if before_id is not None:
            sql += " AND id < ?"
            params += (before_id,)
        row = self._one(sql, params)
        return int(row[0]) if row else 0

    def _select(
        self,
        columns: str,
        container: str,
        partition: str,
        doc_type: str | None,
        where: Filters | None,
    ) -> tuple[str, tuple[Any, ...]]:
        sql = (
            f"SELECT {columns} FROM documents WHERE container = ? AND partition = ?"  # noqa: S608 -- columns are literals of this module
            " AND (expires_at IS NULL OR expires_at > ?)"
        )
        params: tuple[Any, ...] = (container, partition, self._now())
        filters = {**({"type": doc_type} if doc_type is not None else {}), **(where or {})}
        for name, value in filters.items():
            sql += f" AND json_extract(body, '$.{field_name(name)}') = ?"
            params += (int(value) if isinstance(value, bool) else value,)
        return sql, params

    def delete_partition(self, container: str, partition: str, *, keep: str | None = None) -> int:
        """Remove a partition's documents (all but `keep`) in one statement."""
        with self._transaction() as db:
            cursor = db.execute(
                "DELETE FROM documents WHERE container = ? AND partition = ? AND id != ?",
                (container, partition, keep if keep is not None else ""),
            )
            return cursor.rowcount

    def compact(self) -> None:
        """Rebuild the file and empty the write-ahead log, so that no copy of a deleted or
        overwritten document is left in either file. secure_delete alone is not enough: it
        zeroes freed cells, but a page rebuilt when a write rebalances the tree can keep
        stale bytes of an earlier cell in its unallocated space. VACUUM writes every page
        afresh (a cost proportional to the store, paid once an erasure, or once a purge run)."""
        with self._hold():
            self._guard(lambda: self._db.execute("VACUUM"))
            self._guard(lambda: self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)"))

    def purge_expired(self) -> int:
        """Delete expired rows (Cosmos DB does this itself; SQLite needs the housekeeping timer)."""
        with self._transaction() as db:
            cursor = db.execute(
                "DELETE FROM documents WHERE expires_at IS NOT NULL AND expires_at <= ?",
                (self._now(),),
            )
            return cursor.rowcount

    def busy_timeout_ms(self) -> int:
        """How long the last call let SQLite wait for another process's write lock."""
        return self._busy_ms

    def count(self) -> int:
        """How many rows the file holds, expired or not (tests: "nothing was stored")."""
        row = self._one("SELECT COUNT(*) FROM documents", ())
        return int(row[0]) if row else 0

    # -- internals -----------------------------------------------------------------------

    def _now(self) -> float:
        return self._clock().timestamp()

    def _write(self, db: sqlite3.Connection, verb: str, container: str, doc: Document) -> Document:
        partition, doc_id = _key(container, doc)
        now = self._now()
        ttl = doc.get("ttl")
        expires_at = now + ttl if isinstance(ttl, int) and ttl > 0 else None
        stored = {k: v for k, v in doc.items() if not k.startswith("_")}
        etag = uuid.uuid4().hex
        db.execute(
            f"{verb} INTO documents (container, partition, id, body, etag, ts, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                container,
                partition,
                doc_id,
                json.dumps(stored, ensure_ascii=False),
                etag,
                int(now),
                expires_at,
            ),
        )
        return {**stored, "_etag": etag, "_ts": int(now)}

    @contextmanager
    def _hold(self) -> Iterator[None]:
        """The connection, for as long as the call's budget allows: the process's lock is
        waited for at most that long, and SQLite's busy timeout (another process holding
        the file's write lock) is cut to what is left."""
        if not self._lock.acquire(timeout=seconds_left(BUSY_SECONDS)):
            raise StoreUnavailable("SQLite store busy: the call's time budget is spent")
        try:
            busy_ms = max(1, int(seconds_left(BUSY_SECONDS) * 1000))
            if busy_ms != self._busy_ms:
                self._db.execute(f"PRAGMA busy_timeout={busy_ms}")
                self._busy_ms = busy_ms
            yield
        finally:
            self._lock.release()

    def _one(self, sql: str, params: tuple[Any, ...]) -> Any:
        with self._hold():
            return self._guard(lambda: self._db.execute(sql, params).fetchone())

    def _guard(self, operation: Callable[[], Any]) -> Any:
        try:
            return operation()
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"SQLite store failed: {type(exc).__name__}") from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE .. COMMIT under the store's lock; any failure rolls back."""
        with self._hold():
            self._guard(lambda: self._db.execute("BEGIN IMMEDIATE"))
            try:
                yield self._db
            except sqlite3.OperationalError as exc:
                self._db.execute("ROLLBACK")
                raise StoreUnavailable(f"SQLite store failed: {type(exc).__name__}") from None
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")


def _key(container: str, doc: Document) -> tuple[str, str]:
    field = PARTITION_KEYS[container]
    partition, doc_id = doc.get(field), doc.get("id")
    if not isinstance(partition, str) or not partition:
        raise ValueError(f"a {container} document needs a string {field}")
    if not isinstance(doc_id, str) or not doc_id:
        raise ValueError("a document needs a string id")
    return partition, doc_id


def _document(row: tuple[str, str, int]) -> Document:
    body: Document = json.loads(row[0])
    body["_etag"] = row[1]
    body["_ts"] = row[2]
    return body
