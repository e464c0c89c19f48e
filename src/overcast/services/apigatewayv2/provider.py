"""The apigatewayv2 provider: HTTP API operations plus the HTTP API data plane."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from overcast.core.clock import Clock
from overcast.dispatch import Dispatcher
from overcast.engines.apigw.throttle import TokenBucket
from overcast.services.apigatewayv2.accesslogs import AccessLogWriter
from overcast.services.apigatewayv2.apis import Apis
from overcast.services.apigatewayv2.authz import HttpAuthz
from overcast.services.apigatewayv2.dataplane import CompiledHttpStage, HttpDataPlane
from overcast.services.apigatewayv2.domains import Domains
from overcast.services.apigatewayv2.parts import Parts
from overcast.services.apigatewayv2.state import HttpApiState
from overcast.store import Store

log = logging.getLogger("overcast.apigatewayv2")


class ApiGatewayV2Provider(Apis, Parts, Domains, HttpAuthz, HttpDataPlane):
    """API Gateway HTTP APIs. Construct with the store, the clock and the dispatcher."""

    SERVICE = "apigatewayv2"

    def __init__(self, store: Store, clock: Clock, dispatcher: Dispatcher) -> None:
        self.state = HttpApiState(store)
        self.clock = clock
        self.dispatcher = dispatcher
        self._compiled: dict[tuple[str, str], tuple[int, CompiledHttpStage | None]] = {}
        self._buckets: dict[tuple[str, ...], TokenBucket] = {}
        self._jwks: dict[str, tuple[float, dict[str, Any]]] = {}
        self._auth_cache: dict[tuple[str, ...], tuple[float, dict[str, Any] | None]] = {}
        self.access_logs = AccessLogWriter(dispatcher)
        self._flusher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start sending access logs in the background."""
        self._flusher = asyncio.create_task(self._flush_loop())

    async def stop(self) -> None:
        """Stop the background sender and send what is left."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.access_logs.flush()

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                await self.access_logs.flush()
            except Exception:
                log.exception("writing access logs failed")
