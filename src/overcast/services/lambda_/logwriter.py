"""Function output to CloudWatch Logs, off the invocation's critical path.

Lines are queued in memory per (account, region, group, stream) and written in batches by one
background task through `Dispatcher.call(ctx, "logs", ...)`, so Lambda never touches the Logs
tables. The group and stream are created on first use. If the logs service is absent, that is
logged once.

Durability: a line is held in memory for at most `FLUSH_DELAY` (200 ms) after the invocation
that printed it returned — or less, once `FLUSH_EVENTS` lines are queued — and everything queued
is written on shutdown (`stop`). Streams of an account and region go together in internal
`PutLogEventsBatch` calls: one durable commit per slice of about `SLICE_EVENTS` events, not one
per stream (with many warm environments, one commit per stream made each flush block the event
loop for long: throughput fell as concurrency rose), yielding to the loop between slices.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict

from overcast.core import ids
from overcast.core.context import RequestContext
from overcast.core.errors import NotImplementedOperation, ServiceError
from overcast.dispatch import Dispatcher

log = logging.getLogger("overcast.lambda")

Key = tuple[str, str, str, str]  # account, region, group, stream
Chunk = list[tuple[int, str]]  # (epoch ms, message)
BATCH = 5000  # events per PutLogEvents (AWS allows 10,000 and 1 MB)
FLUSH_DELAY = 0.2  # seconds a burst may gather before it is written
FLUSH_EVENTS = 4000  # ... or this many queued events, whichever comes first
SLICE_EVENTS = 100  # events per transaction (under 1 ms of SQLite) before yielding to the loop


class LogWriter:
    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._queues: dict[Key, list[tuple[int, str]]] = defaultdict(list)
        self._queued = 0
        self._known_groups: set[tuple[str, str, str]] = set()
        self._known_streams: set[Key] = set()
        self._wake = asyncio.Event()
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._warned = False
        self._no_batch = False  # the logs service has no PutLogEventsBatch: one call per stream

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def write(self, key: Key, events: list[tuple[int, str]]) -> None:
        """Queue events (epoch ms, message) for a stream."""
        if not events:
            return
        self._queues[key].extend(events)
        self._queued += len(events)
        self._idle.clear()
        self._wake.set()
        if self._queued >= FLUSH_EVENTS:
            self._full.set()

    async def flush(self) -> None:
        """Write everything queued now."""
        while self._queues:
            queues, self._queues = self._queues, defaultdict(list)
            self._queued = 0
            self._full.clear()
            by_place: dict[tuple[str, str], list[tuple[Key, list[tuple[int, str]]]]] = {}
            for key, events in queues.items():
                by_place.setdefault((key[0], key[1]), []).append((key, events))
            for (account, region), items in by_place.items():
                await self._put_many(account, region, items)
        self._idle.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            # Let a burst of invocations batch up (bounded in time and in size).
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            # that arrives as the event is set, and stop() would then wait forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FLUSH_DELAY):
                    await self._full.wait()
            try:
                await self.flush()
            except Exception:  # the writer must keep running; the error is logged
                log.exception("writing function logs failed")

    def _ctx(self, account: str, region: str) -> RequestContext:
        return RequestContext(
            request_id=ids.request_id(), account_id=account, region=region, internal=True
        )

    async def _put_many(
        self, account: str, region: str, items: list[tuple[Key, list[tuple[int, str]]]]
    ) -> None:
        """Write several streams of one account and region: one call (one commit) per slice of
        about `SLICE_EVENTS` events when the logs service offers the batch operation, yielding
        to the loop between slices so that a large flush does not stall invocations."""
        if self._no_batch:
            for key, events in items:
                await self._put(key, events)
            return
        ctx = self._ctx(account, region)
        chunks: list[tuple[Key, list[tuple[int, str]]]] = []
        size = 0
        for n, (key, events) in enumerate(items):
            events.sort(key=lambda e: e[0])
            for i in range(0, len(events), BATCH):
                chunks.append((key, events[i : i + BATCH]))
                size += len(chunks[-1][1])
            if size >= SLICE_EVENTS or n == len(items) - 1:
                if not await self._put_slice(ctx, chunks):
                    return
                chunks, size = [], 0
                if n < len(items) - 1:
                    await asyncio.sleep(0)

    async def _put_slice(self, ctx: RequestContext, chunks: list[tuple[Key, Chunk]]) -> bool:
        """One PutLogEventsBatch; False if the logs service cannot take batches at all."""
        try:
            for key, _ in chunks:
                await self._ensure(ctx, key)
            out = await self.dispatcher.call(
                ctx,
                "logs",
                "PutLogEventsBatch",
                {"batches": [_put_params(key, chunk) for key, chunk in chunks]},
            )
        except NotImplementedOperation as exc:
            if "PutLogEventsBatch" not in exc.message:
                self._unavailable()
                return False
            self._no_batch = True
            for key, chunk in chunks:
                await self._put(key, chunk)
            return True
        except ServiceError as err:
            log.error("could not write function logs: %s", err)
            return True
        for (key, chunk), result in zip(chunks, out.get("results") or [], strict=False):
            code = result.get("errorCode")
            if code is None:
                continue
            if code == "ResourceNotFoundException":
                # The group or stream was deleted meanwhile: create them again, as AWS does.
                self._known_groups.discard(key[:3])  # type: ignore[arg-type]
                self._known_streams.discard(key)
                await self._put(key, chunk, retry=False)
            else:
                log.error("could not write function logs to %s/%s: %s", key[2], key[3], result)
        return True

    async def _ensure(self, ctx: RequestContext, key: Key) -> None:
        """Create the stream's group and the stream unless known to exist."""
        account, region, group, stream = key
        if (account, region, group) not in self._known_groups:
            await self._create(ctx, "CreateLogGroup", {"logGroupName": group})
            self._known_groups.add((account, region, group))
        if key not in self._known_streams:
            await self._create(
                ctx, "CreateLogStream", {"logGroupName": group, "logStreamName": stream}
            )
            self._known_streams.add(key)

    def _unavailable(self) -> None:
        if not self._warned:
            log.warning("CloudWatch Logs is not available: function logs are not stored")
            self._warned = True

    async def _put(self, key: Key, events: list[tuple[int, str]], retry: bool = True) -> None:
        account, region, group, stream = key
        ctx = self._ctx(account, region)
        try:
            await self._ensure(ctx, key)
            events.sort(key=lambda e: e[0])
            for i in range(0, len(events), BATCH):
                chunk = events[i : i + BATCH]
                await self.dispatcher.call(ctx, "logs", "PutLogEvents", _put_params(key, chunk))
        except NotImplementedOperation:
            self._unavailable()
        except ServiceError as err:
            if err.code == "ResourceNotFoundException" and retry:
                # The group or stream was deleted meanwhile: create them again, as AWS does.
                self._known_groups.discard((account, region, group))
                self._known_streams.discard(key)
                await self._put(key, events, retry=False)
                return
            log.error("could not write function logs to %s/%s: %s", group, stream, err)

    async def _create(self, ctx: RequestContext, op: str, params: dict[str, str]) -> None:
        try:
            await self.dispatcher.call(ctx, "logs", op, params)
        except ServiceError as err:
            if err.code != "ResourceAlreadyExistsException":
                raise

    def forget(self, account: str, region: str, group: str) -> None:
        """Forget what we know exists for a group (it may have been deleted)."""
        self._known_groups.discard((account, region, group))
        self._known_streams = {k for k in self._known_streams if k[:3] != (account, region, group)}


def _put_params(key: Key, events: list[tuple[int, str]]) -> dict[str, object]:
    return {
        "logGroupName": key[2],
        "logStreamName": key[3],
        "logEvents": [{"timestamp": t, "message": m} for t, m in events],
    }
