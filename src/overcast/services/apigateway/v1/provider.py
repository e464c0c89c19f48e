"""The apigateway provider: REST API operations plus the REST API invoke-URL data plane."""

from __future__ import annotations

import logging
from typing import Any

from overcast.core.clock import Clock
from overcast.dispatch import Dispatcher
from overcast.engines.apigw.throttle import TokenBucket
from overcast.services.apigateway.accesslogs import AccessLogWriter, BackgroundFlush
from overcast.services.apigateway.v1.account import Account
from overcast.services.apigateway.v1.authz import Authz
from overcast.services.apigateway.v1.compiled import CompiledStage
from overcast.services.apigateway.v1.config import Config
from overcast.services.apigateway.v1.dataplane import DataPlane
from overcast.services.apigateway.v1.integrations import Integrations
from overcast.services.apigateway.v1.keys import Keys
from overcast.services.apigateway.v1.methods import Methods
from overcast.services.apigateway.v1.restapis import RestApis
from overcast.services.apigateway.v1.stages import Stages
from overcast.services.apigateway.v1.state import ApiState
from overcast.services.apigateway.v1.testinvoke import TestInvoke
from overcast.services.apigateway.v1.validation import Validation
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
    BackgroundFlush,
):
    """API Gateway REST APIs. Construct with the store, the clock and the dispatcher."""

    SERVICE = "apigateway"
    FLUSH_SECONDS = USAGE_FLUSH_SECONDS
    FLUSH_FAILED = "writing API usage or access logs failed"
    flush_log = log

    def __init__(self, store: Store, clock: Clock, dispatcher: Dispatcher) -> None:
        self.state = ApiState(store)
        self.clock = clock
        self.dispatcher = dispatcher
        self._compiled: dict[tuple[str, str], tuple[int, CompiledStage | None]] = {}
        self._buckets: dict[tuple[str, ...], TokenBucket] = {}
        self._auth_cache: dict[tuple[str, ...], tuple[float, dict[str, Any]]] = {}
        self._pending_usage: dict[tuple[str, str, str, str, str], int] = {}
        self._quota_used: dict[tuple[str, str, str], int] = {}
        self._flusher = None
        self._domains: dict[str, tuple[str, str, dict[str, dict[str, Any]]]] = {}
        self._domains_version = -1
        self.access_logs = AccessLogWriter(dispatcher)

    async def flush_buffers(self) -> None:
        """Write usage counts and access logs (every second, and on stop)."""
        self.flush_usage()
        await self.access_logs.flush()

    def flush_stage_authorizers_cache(self, ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        """Drop cached authorizer results for a stage."""
        Stages.flush_stage_authorizers_cache(self, ctx, params)
        self._auth_cache = {
            k: v
            for k, v in self._auth_cache.items()
            if k[:2] != (params.get("restApiId"), params.get("stageName"))
        }
        return {}
