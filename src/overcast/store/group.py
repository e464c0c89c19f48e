"""Group commit: write transactions that arrive together share one durable commit.

A writer submits a function of the open transaction and awaits its result. The first submission
schedules a flush two event-loop iterations later, so that requests parsed in the same round join
it — unless no other request is in hand (core.load): then nobody is coming, and the write
commits at once, so the caller's await finds it done. The flush runs every pending function, in submission order, in one transaction — each inside
its own SAVEPOINT, so a failing one rolls back alone — commits once (one fsync for the group), and
only then answers the callers. Nobody is answered before the commit that holds their write.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from overcast.core.load import REQUESTS, Load
from overcast.store.db import Database

T = TypeVar("T")
WriteFn = Callable[[sqlite3.Connection], Any]


class GroupCommit:
    """Batches the write transactions of one database issued on the event loop."""

    def __init__(
        self, db: Database, *, savepoint: str = "group_write", load: Load = REQUESTS
    ) -> None:
        self.db = db
        self._savepoint = savepoint
        self._load = load
        self._pending: list[tuple[WriteFn, asyncio.Future[Any]]] = []
        self._scheduled = False

    def submit(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Run `fn(tx)` in the next group commit; await the returned future for its result (or
        exception) once committed. (A future, not a coroutine: one object less per write.)"""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._pending.append((fn, fut))
        if not self._scheduled:
            if self._load.in_hand <= 1 and len(self._pending) == 1:
                self._flush()  # alone: waiting would only delay this write
            else:
                self._scheduled = True
                loop.call_soon(loop.call_soon, self._flush)
        return fut

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        self._scheduled = False
        if len(batch) == 1:  # alone: no savepoint needed, the transaction is the unit
            fn, fut = batch[0]
            try:
                with self.db.transaction() as tx:
                    result = fn(tx)
            except Exception as exc:
                _fail(fut, exc)
            else:
                if not fut.done():
                    fut.set_result(result)
            return
        name = self._savepoint
        outcomes: list[tuple[asyncio.Future[Any], Any, Exception | None]] = []
        try:
            with self.db.transaction() as tx:
                for fn, fut in batch:
                    tx.execute(f"SAVEPOINT {name}")
                    try:
                        result = fn(tx)
                    except Exception as exc:
                        tx.execute(f"ROLLBACK TO {name}")
                        tx.execute(f"RELEASE {name}")
                        outcomes.append((fut, None, exc))
                        continue
                    tx.execute(f"RELEASE {name}")
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
