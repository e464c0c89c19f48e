"""Function output to CloudWatch Logs, off the invocation's critical path.

Lines are queued per (account, region, group, stream) and written in batches by one background
task through `Dispatcher.call(ctx, "logs", ...)`, so Lambda never touches the Logs tables. The
group and stream are created on first use. If the logs service is absent, that is logged once.
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
BATCH = 5000


class LogWriter:
    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._queues: dict[Key, list[tuple[int, str]]] = defaultdict(list)
        self._known_groups: set[tuple[str, str, str]] = set()
        self._known_streams: set[Key] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._warned = False

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
        self._idle.clear()
        self._wake.set()

    async def flush(self) -> None:
        """Write everything queued now."""
        while self._queues:
            key, events = self._queues.popitem()
            await self._put(key, events)
        self._idle.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(0.02)  # let a burst of invocations batch up
            try:
                await self.flush()
            except Exception:  # the writer must keep running; the error is logged
                log.exception("writing function logs failed")

    async def _put(self, key: Key, events: list[tuple[int, str]], retry: bool = True) -> None:
        account, region, group, stream = key
        ctx = RequestContext(
            request_id=ids.request_id(), account_id=account, region=region, internal=True
        )
        try:
            if (account, region, group) not in self._known_groups:
                await self._create(ctx, "CreateLogGroup", {"logGroupName": group})
                self._known_groups.add((account, region, group))
            if key not in self._known_streams:
                await self._create(
                    ctx, "CreateLogStream", {"logGroupName": group, "logStreamName": stream}
                )
                self._known_streams.add(key)
            events.sort(key=lambda e: e[0])
            for i in range(0, len(events), BATCH):
                chunk = events[i : i + BATCH]
                await self.dispatcher.call(
                    ctx,
                    "logs",
                    "PutLogEvents",
                    {
                        "logGroupName": group,
                        "logStreamName": stream,
                        "logEvents": [{"timestamp": t, "message": m} for t, m in chunk],
                    },
                )
        except NotImplementedOperation:
            if not self._warned:
                log.warning("CloudWatch Logs is not available: function logs are not stored")
                self._warned = True
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
