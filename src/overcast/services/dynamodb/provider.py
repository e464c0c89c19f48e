"""The DynamoDB provider: one method per operation, assembled from the mixins by concern, plus the
background sweeper that deletes expired (TTL) items and trims stream records past 24 hours."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from overcast.core.clock import Clock
from overcast.services.dynamodb.partiql_ops import PartiqlMixin
from overcast.services.dynamodb.storage import SERVICE_IDENTITY, STREAM_RETENTION, loads
from overcast.services.dynamodb.tables import TablesMixin
from overcast.store import Store

log = logging.getLogger("overcast.dynamodb")

# AWS leaves items whose TTL lies more than five years in the past alone.
_TTL_HORIZON = 5 * 365 * 24 * 3600.0


class DynamodbProvider(TablesMixin, PartiqlMixin):
    """DynamoDB (botocore "dynamodb")."""

    SERVICE = "dynamodb"

    def __init__(
        self, store: Store, clock: Clock, sweep_interval: float = 1.0, *, raw_json: bool = False
    ) -> None:
        super().__init__(store, clock, raw_json=raw_json)
        self.sweep_interval = sweep_interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the TTL and stream-retention sweeper."""
        self._task = asyncio.create_task(self._sweeper())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _sweeper(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_interval)
            try:
                self.sweep()
            except Exception:
                log.exception("DynamoDB TTL sweep failed")

    def sweep(self, batch: int = 200) -> int:
        """Delete up to `batch` expired items (stream records as service deletions) and trim
        stream records older than 24 hours. Returns the number of items deleted."""
        if not self._loaded:
            self._load()
        now = self.clock.now()
        by_tid = {t.tid: t for t in self._tables.values()}
        rows = self.db.query(
            "SELECT tid, pk, sk, item FROM items WHERE expires IS NOT NULL AND expires <= ? "
            "AND expires >= ? LIMIT ?",
            (now, now - _TTL_HORIZON, batch),
        )
        deleted = 0
        if rows:
            with self.db.transaction() as tx:
                for tid, pk, sk, blob in rows:
                    table = by_tid.get(tid)
                    if table is None or table.ttl_status != "ENABLED":
                        continue
                    # Re-read inside the transaction: the item may have changed since.
                    current = self.items.get(tx, tid, pk, sk)
                    if current is None or current != loads(blob):
                        continue
                    self.items.write_item(tx, table, pk, sk, current, None, now,
                                          identity=SERVICE_IDENTITY)  # fmt: skip
                    deleted += 1
        horizon = now - STREAM_RETENTION
        if self.db.query_one("SELECT 1 FROM stream_records WHERE created < ? LIMIT 1", (horizon,)):
            with self.db.transaction() as tx:
                tx.execute("DELETE FROM stream_records WHERE created < ?", (horizon,))
        return deleted
