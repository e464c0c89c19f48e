"""SQLite databases, one per service, with named append-only migrations."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from overcast.store.blobs import BlobStore


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step. Its name is recorded once applied; never edit or reorder an applied one."""

    name: str
    sql: str


# Tables every service database carries: the durable outbox that dispatch delivers from.
_COMMON = [
    Migration(
        "0000_outbox",
        """
        CREATE TABLE _outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            request_id TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            target TEXT NOT NULL,
            payload BLOB NOT NULL,
            policy TEXT NOT NULL,
            on_failure TEXT,
            created REAL NOT NULL,
            first_due REAL NOT NULL,
            due REAL NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            dedup_key TEXT,
            UNIQUE (account_id, region, dedup_key)
        );
        CREATE INDEX _outbox_due ON _outbox(due);
        """,
    ),
]


class Database:
    """One service's SQLite file. Writes go through `transaction()`, which holds the writer lock
    (BEGIN IMMEDIATE) and commits durably; reads through `read()`. Each thread gets its own
    connection; within the event-loop thread, calls are simply serial.
    """

    def __init__(self, path: Path, blobs: BlobStore, *, durable: bool = True) -> None:
        self.path = path
        self.blobs = blobs
        self.durable = durable
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._after_commit: list[Callable[[], None]] = []

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30.0
        )
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'FULL' if self.durable else 'OFF'}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def migrate(self, migrations: Sequence[Migration]) -> None:
        """Apply, in order, every migration not yet recorded."""
        conn = self.conn
        conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied REAL)")
        done = {r[0] for r in conn.execute("SELECT name FROM _migrations")}
        for m in [*_COMMON, *migrations]:
            if m.name in done:
                continue
            with self.transaction() as tx:
                for stmt in _split_sql(m.sql):
                    tx.execute(stmt)
                tx.execute(
                    "INSERT INTO _migrations(name, applied) VALUES (?, julianday('now'))",
                    (m.name,),
                )

    def transaction(self) -> _Transaction:
        """A write transaction; committed (durably) on normal exit, rolled back on an exception.

        Nested use joins the outer transaction. (A small class rather than a generator-based
        context manager: it runs for every write.)
        """
        return _Transaction(self)

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run `hook` once the current transaction has committed (e.g. wake the dispatcher)."""
        self._after_commit.append(hook)

    def read(self) -> sqlite3.Connection:
        """The connection for reads (WAL: readers never wait for the writer)."""
        return self.conn

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, args).fetchall()

    def query_one(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(sql, args).fetchone()
        return row

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class _Transaction:
    """`Database.transaction()`: BEGIN IMMEDIATE under the writer lock; COMMIT (then the
    after-commit hooks) or ROLLBACK on the way out."""

    __slots__ = ("conn", "db", "outer")

    def __init__(self, db: Database) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        db = self.db
        conn = self.conn = db.conn
        self.outer = not conn.in_transaction
        if self.outer:
            db._write_lock.acquire()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except BaseException:
                db._write_lock.release()
                raise
        return conn

    def __exit__(self, exc_type: type[BaseException] | None, exc: object, tb: object) -> None:
        if not self.outer:
            return
        db = self.db
        try:
            if exc_type is not None:
                self.conn.execute("ROLLBACK")
                db._after_commit.clear()
                return
            self.conn.execute("COMMIT")
            hooks, db._after_commit = db._after_commit, []
        finally:
            db._write_lock.release()
        for hook in hooks:
            hook()


def _split_sql(sql: str) -> list[str]:
    """Split a migration into statements (sqlite3.complete_statement keeps triggers whole)."""
    out: list[str] = []
    buf = ""
    for piece in sql.split(";"):
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n\t;"):
                out.append(buf.strip())
            buf = ""
    return out


class Store:
    """The data directory: one `Database` (and one blob folder) per service."""

    def __init__(self, data_dir: Path | str, *, durable: bool = True) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.durable = durable
        self._dbs: dict[str, Database] = {}

    def open(self, name: str, migrations: Sequence[Migration] = ()) -> Database:
        """The database of one service (created and migrated on first open)."""
        db = self._dbs.get(name)
        if db is None:
            blobs = BlobStore(self.data_dir / "blobs" / name, durable=self.durable)
            db = Database(self.data_dir / f"{name}.db", blobs, durable=self.durable)
            db.migrate(migrations)
            self._dbs[name] = db
        return db

    def databases(self) -> dict[str, Database]:
        return dict(self._dbs)

    def close(self) -> None:
        for db in self._dbs.values():
            db.close()
