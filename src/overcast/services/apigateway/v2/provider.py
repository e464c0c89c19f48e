"""The apigatewayv2 provider: HTTP API operations plus the HTTP API data plane."""

from __future__ import annotations

import logging
from typing import Any

from overcast.core.clock import Clock
from overcast.dispatch import Dispatcher
from overcast.engines.apigw.throttle import TokenBucket
from overcast.services.apigateway.accesslogs import AccessLogWriter, BackgroundFlush
from overcast.services.apigateway.v2.apis import Apis
from overcast.services.apigateway.v2.authz import HttpAuthz
from overcast.services.apigateway.v2.dataplane import CompiledHttpStage, HttpDataPlane
from overcast.services.apigateway.v2.domains import Domains
from overcast.services.apigateway.v2.parts import Parts
from overcast.services.apigateway.v2.state import HttpApiState
from overcast.store import Store

log = logging.getLogger("overcast.apigatewayv2")


class ApiGatewayV2Provider(Apis, Parts, Domains, HttpAuthz, HttpDataPlane, BackgroundFlush):
    """API Gateway HTTP APIs. Construct with the store, the clock and the dispatcher."""

    SERVICE = "apigatewayv2"
    flush_log = log

    def __init__(self, store: Store, clock: Clock, dispatcher: Dispatcher) -> None:
        self.state = HttpApiState(store)
        self.clock = clock
        self.dispatcher = dispatcher
        self._compiled: dict[tuple[str, str], tuple[int, CompiledHttpStage | None]] = {}
        self._buckets: dict[tuple[str, ...], TokenBucket] = {}
        self._jwks: dict[str, tuple[float, dict[str, Any]]] = {}
        self._auth_cache: dict[tuple[str, ...], tuple[float, dict[str, Any] | None]] = {}
        self.access_logs = AccessLogWriter(dispatcher, "overcast.apigatewayv2")
        self._flusher = None

    async def flush_buffers(self) -> None:
        """Send buffered access logs (every second, and on stop)."""
        await self.access_logs.flush()
