"""The apigateway provider: REST API operations plus the invoke-URL data plane."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from overcast.core.clock import Clock
from overcast.dispatch import Dispatcher
from overcast.engines.apigw.throttle import TokenBucket
from overcast.services.apigateway.accesslogs import AccessLogWriter
from overcast.services.apigateway.account import Account
from overcast.services.apigateway.authz import Authz
from overcast.services.apigateway.compiled import CompiledStage
from overcast.services.apigateway.config import Config
from overcast.services.apigateway.dataplane import DataPlane
from overcast.services.apigateway.integrations import Integrations
from overcast.services.apigateway.keys import Keys
from overcast.services.apigateway.methods import Methods
from overcast.services.apigateway.restapis import RestApis
from overcast.services.apigateway.stages import Stages
from overcast.services.apigateway.state import ApiState
from overcast.services.apigateway.testinvoke import TestInvoke
from overcast.services.apigateway.validation import Validation
from overcast.store import Store

log = logging.getLogger("overcast.apigateway")

USAGE_FLUSH_SECONDS = 1.0


class ApiGatewayProvider(
    RestApis,
    Methods,
    Config,
    Stages,
    Keys,
    Account,
    Authz,
    Validation,
    Integrations,
    TestInvoke,
    DataPlane,
):
    """API Gateway REST APIs. Construct with the store, the clock and the dispatcher."""

    SERVICE = "apigateway"

    def __init__(self, store: Store, clock: Clock, dispatcher: Dispatcher) -> None:
        self.state = ApiState(store)
        self.clock = clock
        self.dispatcher = dispatcher
        self._compiled: dict[tuple[str, str], tuple[int, CompiledStage | None]] = {}
        self._buckets: dict[tuple[str, ...], TokenBucket] = {}
        self._auth_cache: dict[tuple[str, ...], tuple[float, dict[str, Any]]] = {}
        self._pending_usage: dict[tuple[str, str, str, str, str], int] = {}
        self._quota_used: dict[tuple[str, str, str], int] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._domains: dict[str, tuple[str, str, dict[str, dict[str, Any]]]] = {}
        self._domains_version = -1
        self.access_logs = AccessLogWriter(dispatcher)

    async def start(self) -> None:
        """Start writing usage counts in the background."""
        self._flusher = asyncio.create_task(self._flush_loop())

    async def stop(self) -> None:
        """Stop the background writer and write what is left."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        self.flush_usage()
        await self.access_logs.flush()

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(USAGE_FLUSH_SECONDS)
            try:
                self.flush_usage()
                await self.access_logs.flush()
            except Exception:
                log.exception("writing API usage or access logs failed")

    def flush_stage_authorizers_cache(self, ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        """Drop cached authorizer results for a stage."""
        Stages.flush_stage_authorizers_cache(self, ctx, params)
        self._auth_cache = {
            k: v
            for k, v in self._auth_cache.items()
            if k[:2] != (params.get("restApiId"), params.get("stageName"))
        }
        return {}
