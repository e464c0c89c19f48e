"""Stage access logs (REST and HTTP APIs) written to CloudWatch Logs: lines are buffered per log group and sent by a
background task once a second, through the dispatcher (logs CreateLogStream + PutLogEvents)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from overcast.core import ids
from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.dispatch import Dispatcher
from overcast.engines.apigw.accesslog import log_group_of, render_access_log

# (account, region, log group, log stream) → [(epoch ms, message)]
Pending = dict[tuple[str, str, str, str], list[tuple[int, str]]]


class AccessLogWriter:
    """Buffers access-log lines and writes them to CloudWatch Logs."""

    def __init__(self, dispatcher: Dispatcher, logger: str = "overcast.apigateway") -> None:
        self.dispatcher = dispatcher
        self.log = logging.getLogger(logger)
        self.pending: Pending = {}
        self.streams: set[tuple[str, str, str, str]] = set()

    def add(
        self,
        account: str,
        region: str,
        destination_arn: str,
        fmt: str,
        stream: str,
        context: dict[str, Any],
    ) -> None:
        """Queue one line, if the stage logs to a log group."""
        group = log_group_of(destination_arn or "")
        if not group or not fmt:
            return
        key = (account, region, group, stream)
        self.pending.setdefault(key, []).append(
            (int(time.time() * 1000), render_access_log(str(fmt), context))
        )

    async def flush(self) -> None:
        """Send what is queued (a missing log group drops its lines, as AWS does)."""
        pending, self.pending = self.pending, {}
        for (account, region, group, stream), events in pending.items():
            ctx = RequestContext(request_id=ids.request_id(), account_id=account, region=region,
                                 internal=True)  # fmt: skip
            try:
                if (account, region, group, stream) not in self.streams:
                    try:
                        await self.dispatcher.call(ctx, "logs", "CreateLogStream",
                                                   {"logGroupName": group,
                                                    "logStreamName": stream})  # fmt: skip
                    except ServiceError as err:
                        if err.code != "ResourceAlreadyExistsException":
                            raise
                    self.streams.add((account, region, group, stream))
                await self.dispatcher.call(ctx, "logs", "PutLogEvents", {
                    "logGroupName": group, "logStreamName": stream,
                    "logEvents": [{"timestamp": t, "message": m} for t, m in events],
                })  # fmt: skip
            except ServiceError as err:
                self.log.warning("access log to %s dropped: %s", group, err.message)


class BackgroundFlush:
    """start()/stop() for a provider that writes buffered data (access logs, usage) once a second.

    The provider says what to write in `flush_buffers`; stop() writes what is left.
    """

    FLUSH_SECONDS = 1.0
    FLUSH_FAILED = "writing access logs failed"
    flush_log: logging.Logger
    _flusher: asyncio.Task[None] | None = None

    async def flush_buffers(self) -> None:
        """Write whatever is buffered."""
        raise NotImplementedError

    async def start(self) -> None:
        """Start writing in the background."""
        self._flusher = asyncio.create_task(self._flush_loop())

    async def stop(self) -> None:
        """Stop the background writer and write what is left."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.flush_buffers()

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.FLUSH_SECONDS)
            try:
                await self.flush_buffers()
            except Exception:
                self.flush_log.exception(self.FLUSH_FAILED)
