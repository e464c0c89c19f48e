"""Bucket rows and their configuration, kept in memory for the request path.

Every S3 request names a bucket, and every object write reads the bucket's versioning state, its
default encryption and its notification configuration: from the database that is four
statements per PutObject. This process is the only writer of `buckets` and `bucket_config`, and
it writes them only inside `BucketCache.writing()`, which brackets each such transaction:

- entering counts the writer in and moves the generation on; leaving (after the commit, or the
  rollback) drops every entry, moves the generation on again and counts the writer out;
- a reader uses an entry only if it was stored in the current generation; on a miss it reads
  the database and keeps what it read only if no writer was in flight when it started and the
  generation has not moved since, so nothing read before a commit outlives it.

A request that starts after a configuration write was answered therefore sees that write; one
that runs alongside it sees the state before or after it, as with the database alone. Inside an
object write transaction an entry is as good as a read: it is the committed state, and no
configuration write can commit while that transaction holds the writer lock. Cached values are
shared: callers must not change them.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from overcast.core.memo import Memo
from overcast.services.s3.records import Bucket
from overcast.store import Database

MAX_ENTRIES = 4096
"""Entries kept before the cache starts over (requests may name any number of missing buckets)."""


class _Entry:
    __slots__ = ("bucket", "configs", "generation")

    def __init__(self, generation: int, bucket: Bucket | None, configs: dict[str, Any]) -> None:
        self.generation = generation
        self.bucket = bucket
        self.configs = configs


class BucketCache:
    """Buckets by name (or their absence) with every configuration kind they have."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._generation = 0
        self._writers = 0
        self._lock = threading.Lock()
        self._entries: Memo[str, _Entry] = Memo(MAX_ENTRIES)

    def bucket(self, name: str) -> Bucket | None:
        """The bucket row, or None if there is no such bucket."""
        return self._entry(name).bucket

    def config(self, name: str, kind: str) -> Any | None:
        """One configuration value of a bucket (None if unset or no such bucket)."""
        return self._entry(name).configs.get(kind)

    def _entry(self, name: str) -> _Entry:
        generation = self._generation
        entry = self._entries.get(name)
        if entry is not None and entry.generation == generation:
            return entry
        idle = self._writers == 0  # read after the generation: see writing()
        entry = self._load(name, generation)
        if idle and self._generation == generation:
            self._entries.remember(name, entry)
        return entry

    def _load(self, name: str, generation: int) -> _Entry:
        # One statement, so the row and its configuration come from one snapshot. Through this
        # thread's connection: inside a write transaction, that is the transaction's view.
        rows = (
            self._db.read()
            .execute(
                "SELECT b.name, b.account_id, b.region, b.created, b.versioning, c.kind, c.value"
                " FROM buckets b LEFT JOIN bucket_config c ON c.bucket = b.name WHERE b.name = ?",
                (name,),
            )
            .fetchall()
        )
        if not rows:
            return _Entry(generation, None, {})
        configs = {r[5]: orjson.loads(r[6]) for r in rows if r[5] is not None}
        return _Entry(generation, Bucket.from_row(rows[0]), configs)

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that may change `buckets` or `bucket_config` (every such write
        must use it). Not nested in another transaction: its end must be the commit."""
        if self._db.conn.in_transaction:
            raise RuntimeError("bucket configuration is written in a transaction of its own")
        with self._lock:
            # The writer count first: a reader that sees the new generation sees the writer.
            self._writers += 1
            self._generation += 1
            self._entries.clear()
        try:
            with self._db.transaction() as conn:
                yield conn
        finally:
            with self._lock:
                self._entries.clear()
                self._generation += 1
                self._writers -= 1
