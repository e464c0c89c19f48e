"""Internal calls and durable, at-least-once deliveries (see the package docstring).

A delivery is a row in the `_outbox` of the database whose transaction caused it. The delivery
loop finds due rows in every database of the store, runs each (a bounded number at a time) and
deletes the row once the target succeeded: that delete is the acknowledgement, and an
acknowledged delivery never runs again. A failure reschedules the row with backoff, or, when the
policy is exhausted, replaces it (in one transaction) by a delivery to its failure target.
After a crash, rows that were running are simply still there, so they run again.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from overcast.core.clock import Clock, SystemClock
from overcast.core.context import RequestContext
from overcast.dispatch import outbox, outcomes
from overcast.dispatch.outcomes import Unroutable
from overcast.dispatch.records import Delivery, GiveUp, RetryLater, RetryPolicy, Target
from overcast.dispatch.table import OperationTable
from overcast.store import Database, Store

__all__ = ["Dispatcher", "GiveUp", "Handler", "RetryLater", "RetryPolicy", "Target"]

log = logging.getLogger("overcast.dispatch")

Handler = Callable[[RequestContext, dict[str, Any]], Awaitable[None]]

# A delivery whose handler or service is not registered (yet) waits this long, uncounted.
UNROUTABLE_RETRY = 5.0


class Dispatcher:
    """Runs operations for other services (`call`) and owns the durable delivery loop."""

    def __init__(
        self,
        table: OperationTable,
        store: Store | None = None,
        clock: Clock = SystemClock(),
        *,
        max_in_flight: int = 64,
        poll_interval: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        self.table = table
        self.store = store
        self.clock = clock
        self.max_in_flight = max_in_flight
        # The longest the loop sleeps: it bounds how late a row written by another process is seen.
        self.poll_interval = poll_interval
        self._rng = rng or random.Random()
        self._handlers: dict[str, Handler] = {}
        self._seen: dict[str, Database] = {}  # databases met through enqueue/cancel, by path
        self._inflight: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- internal calls ----------------------------------------------------------------------

    async def call(
        self, ctx: RequestContext, service: str, operation: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        """Run an operation of another service, through the same table as outside requests."""
        handler = self.table.resolve(service, operation)
        child = ctx.child(service, operation)
        if handler.is_async:
            result = await handler.fn(child, params)
        else:
            result = handler.fn(child, params)
        return result or {}

    # -- enqueueing ----------------------------------------------------------------------------

    def register_handler(self, name: str, fn: Handler) -> None:
        """Make `Target(kind="handler", name=name)` deliver to `await fn(ctx, payload)`.

        Register in the provider's constructor, before the loop starts, so rows left from a
        previous run find their handler.
        """
        if name in self._handlers and self._handlers[name] is not fn:
            raise ValueError(f"a delivery handler named {name!r} is already registered")
        self._handlers[name] = fn

    def enqueue(
        self,
        db: Database,
        target: Target,
        payload: dict[str, Any],
        *,
        ctx: RequestContext,
        policy: RetryPolicy = RetryPolicy(),
        on_failure: Target | None = None,
        delay: float = 0.0,
        dedup_key: str | None = None,
    ) -> int:
        """Write a delivery into `db`'s outbox inside the caller's open `db.transaction()`;
        return its id. It commits or vanishes with the caller's change.

        `ctx` gives the account, region, request id and endpoint the target will run with.
        `delay` makes it a durable timer. With `dedup_key`, a delivery already pending under the
        same key (in the same account and region) is kept and its id returned.
        """
        conn = db.conn
        if not conn.in_transaction:
            raise RuntimeError("Dispatcher.enqueue must be called inside db.transaction()")
        now = self.clock.now()
        delivery_id, created = outbox.insert(
            conn,
            account_id=ctx.account_id,
            region=ctx.region,
            request_id=ctx.request_id,
            endpoint=ctx.endpoint,
            target=target,
            payload=payload,
            policy=policy,
            on_failure=on_failure,
            now=now,
            due=now + max(0.0, delay),
            dedup_key=dedup_key,
        )
        self._seen.setdefault(str(db.path), db)
        if created:
            db.after_commit(self.poke)
        return delivery_id

    def cancel(
        self, db: Database, id_or_dedup_key: int | str, *, ctx: RequestContext | None = None
    ) -> bool:
        """Remove a pending delivery or timer by id, or by dedup key (then `ctx` names the
        account and region). True if one was removed. Joins the caller's transaction if open.
        A delivery already running finishes, but is neither retried nor dead-lettered."""
        with db.transaction() as conn:
            if isinstance(id_or_dedup_key, int):
                return outbox.delete(conn, id_or_dedup_key)
            if ctx is None:
                raise ValueError("cancelling by dedup key needs the ctx (account and region)")
            return outbox.delete_by_key(conn, ctx.account_id, ctx.region, id_or_dedup_key)

    def pending(self, db: Database) -> list[Delivery]:
        """The deliveries and timers of `db` not yet acknowledged (for tests and inspection)."""
        return outbox.pending(db)

    # -- the delivery loop ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the delivery loop. Whatever is in the outboxes and due runs now, including
        deliveries a previous process had started but not acknowledged."""
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="overcast-dispatch")

    async def stop(self, grace: float = 5.0) -> None:
        """Stop the loop; give running deliveries `grace` seconds, then cancel them (their rows
        stay, so they run again on the next start)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        running = set(self._inflight.values())
        if running:
            _, late = await asyncio.wait(running, timeout=grace)
            for t in late:
                t.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._loop = None

    def poke(self) -> None:
        """Wake the loop to look for due rows now. Safe from any thread (after_commit hooks run
        in whichever thread committed)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is loop:
            self._wake.set()
        else:
            with suppress(RuntimeError):  # the loop closed in between
                loop.call_soon_threadsafe(self._wake.set)

    async def run_due(self, now: float | None = None) -> int:
        """Deliver everything due at `now` (default: the clock's now) and wait for it, including
        deliveries that become due meanwhile (dead letters); each row at most once per call.
        Returns how many attempts ran. Lets tests drive the loop with a FakeClock."""
        tried: set[tuple[str, int]] = set()
        while True:
            at = self.clock.now() if now is None else now
            launched, _ = self._launch_due(at, tried)
            if not launched:
                return len(tried)
            tried.update(launched)
            await asyncio.gather(*(launched.values()))

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            next_due: float | None = None
            try:
                _, next_due = self._launch_due(self.clock.now(), set())
            except Exception:
                log.exception("dispatch: scanning the outboxes failed")
            sleep = self.poll_interval
            if next_due is not None:
                sleep = min(sleep, max(0.0, next_due - self.clock.now()))
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            # that arrives as the event is set, and stop() would then wait forever.
            with suppress(TimeoutError):
                async with asyncio.timeout(sleep):
                    await self._wake.wait()

    def _databases(self) -> dict[str, Database]:
        dbs = dict(self._seen)
        if self.store is not None:
            for db in self.store.databases().values():
                dbs.setdefault(str(db.path), db)
        return dbs

    def _launch_due(
        self, now: float, exclude: set[tuple[str, int]]
    ) -> tuple[dict[tuple[str, int], asyncio.Task[None]], float | None]:
        """Start a task for each due row not running (nor in `exclude`), up to the in-flight
        bound; return them and the earliest due time after `now`."""
        launched: dict[tuple[str, int], asyncio.Task[None]] = {}
        earliest: float | None = None
        for key, db in self._databases().items():
            skip = {i for (k, i) in (*self._inflight, *exclude) if k == key}
            free = self.max_in_flight - len(self._inflight)
            for d in outbox.due_rows(db, now, free, skip):
                task = asyncio.create_task(self._deliver(key, db, d))
                self._inflight[(key, d.id)] = launched[(key, d.id)] = task
            later = outbox.next_due_after(db, now)
            if later is not None and (earliest is None or later < earliest):
                earliest = later
        return launched, earliest

    async def _deliver(self, key: str, db: Database, d: Delivery) -> None:
        try:
            await self._attempt(db, d)
        except Exception:
            # Only the outbox bookkeeping can land here; the row stays and is seen on a later scan.
            log.exception(
                "dispatch: delivery %d to %s: recording its outcome failed", d.id, d.target
            )
            return
        finally:
            self._inflight.pop((key, d.id), None)
        self._wake.set()  # a slot is free, and what we wrote may be due

    async def _attempt(self, db: Database, d: Delivery) -> None:
        ctx = RequestContext(
            request_id=d.request_id,
            account_id=d.account_id,
            region=d.region,
            endpoint=d.endpoint,
            internal=True,
        )
        try:
            await self._invoke(ctx, d)
        except RetryLater as e:
            outcomes.defer(db, d, e, self.clock.now(), e.delay)
        except Unroutable as e:
            log.error("dispatch: delivery %d: %s; retrying in %ss", d.id, e, UNROUTABLE_RETRY)
            outcomes.defer(db, d, e, self.clock.now(), UNROUTABLE_RETRY)
        except Exception as e:
            outcomes.failed(db, d, e, self.clock.now(), self._rng)
        else:
            with db.transaction() as conn:
                outbox.delete(conn, d.id)  # the acknowledgement

    async def _invoke(self, ctx: RequestContext, d: Delivery) -> None:
        t = d.target
        if t.kind == "handler":
            fn = self._handlers.get(t.name)
            if fn is None:
                raise Unroutable(f"no delivery handler is registered as {t.name!r}")
            await fn(ctx, d.payload)
        else:
            if self.table.provider(t.name) is None:
                raise Unroutable(f"no provider is registered for service {t.name!r}")
            await self.call(ctx, t.name, t.operation, d.payload)
