"""Group commit: item writes that arrive together share one durable commit.

A write operation submits a function of the open transaction and awaits its result. The first
submission schedules a flush two loop iterations later, so that requests parsed in the same round
join it; the flush runs every pending function in one transaction (each inside a SAVEPOINT, so a
failing one rolls back alone), commits once — one fsync for the batch — and only then answers
each caller. Nothing is acknowledged before it is durable.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any

from overcast.store import Database

WriteFn = Callable[[sqlite3.Connection], Any]


class WriteBatcher:
    """Batches write transactions of one database on the event loop."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: list[tuple[WriteFn, asyncio.Future[Any]]] = []
        self._scheduled = False

    async def submit(self, fn: WriteFn) -> Any:
        """Run `fn(tx)` in the next group commit and return its result once committed."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self._pending.append((fn, fut))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(loop.call_soon, self._flush)
        return await fut

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        self._scheduled = False
        if len(batch) == 1:
            fn, fut = batch[0]
            try:
                with self.db.transaction() as tx:
                    result = fn(tx)
            except Exception as exc:
                _fail(fut, exc)
            else:
                _succeed(fut, result)
            return
        outcomes: list[tuple[asyncio.Future[Any], Any, Exception | None]] = []
        try:
            with self.db.transaction() as tx:
                for fn, fut in batch:
                    tx.execute("SAVEPOINT ddb_write")
                    try:
                        result = fn(tx)
                    except Exception as exc:
                        tx.execute("ROLLBACK TO ddb_write")
                        tx.execute("RELEASE ddb_write")
                        outcomes.append((fut, None, exc))
                        continue
                    tx.execute("RELEASE ddb_write")
                    outcomes.append((fut, result, None))
        except Exception as exc:  # the commit itself failed: nobody's write is durable
            for _, fut in batch:
                _fail(fut, exc)
            return
        for fut, result, error in outcomes:
            if error is not None:
                _fail(fut, error)
            else:
                _succeed(fut, result)


def _succeed(fut: asyncio.Future[Any], result: Any) -> None:
    if not fut.done():
        fut.set_result(result)


def _fail(fut: asyncio.Future[Any], exc: Exception) -> None:
    if not fut.done():
        fut.set_exception(exc)
