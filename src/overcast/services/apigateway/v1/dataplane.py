"""The REST API data plane: one invoke-URL request through the stage's pipeline.

address → stage → size → route → throttle → authorizer → API key / usage plan → validation →
integration → response. Each step either fills the `Call` or answers with a gateway response.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from overcast.core.context import RequestContext
from overcast.core.http import HttpRequest, HttpResponse
from overcast.engines.apigw.address import first_segment, split_address
from overcast.engines.apigw.policy import resource_policy_decision
from overcast.engines.apigw.proxy import ProxyRequest, clf_time
from overcast.engines.apigw.throttle import TokenBucket
from overcast.engines.apigw.uris import execute_api_arn
from overcast.services.apigateway import pipeline
from overcast.services.apigateway.accesslogs import AccessLogWriter
from overcast.services.apigateway.pipeline import (
    MAX_PAYLOAD,
    answer,
    compiled_stage,
    internal_context,
    log_access,
    take_token,
)
from overcast.services.apigateway.v1.compiled import CompiledStage, RouteEntry, compile_stage
from overcast.services.apigateway.v1.gateway_responses import render_gateway_response
from overcast.services.apigateway.v1.state import ApiState

log = logging.getLogger("overcast.apigateway")


class GatewayAnswer(Exception):
    """Stop the pipeline with a gateway response of `rtype`."""

    def __init__(
        self, rtype: str, message: str | None, status: int | None = None, detail: str = ""
    ) -> None:
        super().__init__(rtype)
        self.rtype = rtype
        self.message = message
        self.status = status
        self.detail = detail


@dataclass
class Call:
    """One data-plane request as it moves through the pipeline."""

    cs: CompiledStage
    req: ProxyRequest
    http: HttpRequest
    entry: RouteEntry | None = None
    path_params: dict[str, str] = field(default_factory=dict)
    authorizer: dict[str, Any] | None = None
    authorizer_policy: Any = None
    usage_key: str | None = None
    api_key: dict[str, Any] | None = None
    started: float = 0.0

    @property
    def method(self) -> dict[str, Any]:
        assert self.entry is not None
        return self.entry.method

    def headers(self) -> dict[str, str]:
        return {k: v for k, v in self.req.header_list}

    def ctx(self) -> RequestContext:
        """The context for internal calls (Lambda, other services) on behalf of this request."""
        return internal_context(self.req, self.cs)

    def context_variables(self) -> dict[str, Any]:
        """$context for mapping templates and gateway responses."""
        identity = {
            "sourceIp": self.req.source_ip,
            "userAgent": self.req.user_agent,
            "apiKey": (self.api_key or {}).get("value", ""),
            "apiKeyId": (self.api_key or {}).get("id", ""),
        }
        resource_path = self.entry.resource_path if self.entry else ""
        return {
            "accountId": self.cs.account,
            "apiId": self.cs.api_id,
            "httpMethod": self.req.method,
            "path": f"/{self.cs.stage_name}{self.req.path}",
            "protocol": "HTTP/1.1",
            "requestId": self.req.request_id,
            "extendedRequestId": self.req.request_id,
            "requestTime": clf_time(self.req.time_epoch_ms),
            "requestTimeEpoch": self.req.time_epoch_ms,
            "resourceId": self.entry.resource_id if self.entry else "",
            "resourcePath": resource_path,
            "stage": self.cs.stage_name,
            "domainName": self.req.domain_name,
            "domainPrefix": self.req.domain_name.split(".", 1)[0],
            "identity": identity,
            "authorizer": dict(self.authorizer or {}),
        }


class DataPlane:
    """The `data_plane(req)` entry point and the pipeline; steps come from the mixins."""

    state: ApiState
    _compiled: dict[tuple[str, str], tuple[int, CompiledStage | None]]
    _buckets: dict[tuple[str, ...], TokenBucket]
    _domains: dict[str, tuple[str, str, dict[str, dict[str, Any]]]]
    _domains_version: int
    access_logs: AccessLogWriter

    async def data_plane(self, req: HttpRequest) -> HttpResponse | None:
        """Answer an invoke-URL request for a REST API this provider owns, else None."""
        host = req.headers.get("host", "")
        addr = split_address(host, req.path)
        if addr is None:
            return await self._custom_domain(req, host)
        api_id, rest = addr
        owner = self.state.owner(api_id)
        if owner is None:
            return None
        stage_name, path_raw = first_segment(rest)
        cs = self._stage(owner[0], owner[1], api_id, unquote(stage_name))
        if cs is None or cs.api.get("disableExecuteApiEndpoint"):
            return answer(403, "Forbidden")
        return await self._serve_stage(req, cs, path_raw)

    async def _custom_domain(self, req: HttpRequest, host: str) -> HttpResponse | None:
        """A request whose Host is a custom domain name: its base path mapping picks the stage."""
        name = host.rsplit(":", 1)[0].lower() if host else ""
        if not name or "." not in name or name[0].isdigit():
            return None
        if self._domains_version != self.state.version:
            self._domains = self.state.domain_mappings()
            self._domains_version = self.state.version
        found = self._domains.get(name)
        if found is None:
            return None
        account, region, mappings = found
        first, tail = first_segment(req.path)
        mapping = mappings.get(unquote(first))
        path_raw = tail
        if mapping is None:
            mapping = mappings.get("(none)")
            path_raw = req.path or "/"
        if mapping is None:
            return answer(403, "Forbidden")
        stage = mapping.get("stage") or ""
        if not stage:
            # A mapping without a stage takes the stage as the next path segment.
            stage, path_raw = first_segment(path_raw)
        cs = self._stage(account, region, mapping["restApiId"], stage)
        if cs is None:
            return answer(403, "Forbidden")
        return await self._serve_stage(req, cs, path_raw)

    async def _serve_stage(
        self, req: HttpRequest, cs: CompiledStage, path_raw: str
    ) -> HttpResponse:
        preq = proxy_request(req, cs, path_raw)
        call = Call(cs=cs, req=preq, http=req, started=time.perf_counter())
        error: dict[str, Any] = {}
        try:
            resp = await self.serve(call)
        except GatewayAnswer as ans:
            resp = self.gateway_response(call, ans.rtype, ans.message, ans.status, ans.detail)
            error = {"message": ans.message, "responseType": ans.rtype}
        resp.headers.append(("x-amzn-RequestId", preq.request_id))
        resp.headers.append(("x-amz-apigw-id", preq.request_id[:16]))
        settings = cs.stage.get("accessLogSettings")
        if settings:
            context = call.context_variables()
            context["error"] = error
            destination, fmt = settings.get("destinationArn"), settings.get("format")
            log_access(self.access_logs, cs, str(destination or ""), str(fmt or ""), context,
                       resp, call.started)  # fmt: skip
        return resp

    def _stage(self, account: str, region: str, api_id: str, stage: str) -> CompiledStage | None:
        owner = (account, region)
        return compiled_stage(self._compiled, self.state, owner, api_id, stage, compile_stage)

    async def serve(self, call: Call) -> HttpResponse:
        """Run the pipeline for one request."""
        if len(call.req.body) > MAX_PAYLOAD:
            raise GatewayAnswer("REQUEST_TOO_LARGE", "Request Too Long")
        # REST APIs hand the function the path and its parameters still percent-encoded.
        match = call.cs.router.match(call.req.raw_path, call.req.method, decode=False)
        if match is None or not match.method_found:
            raise GatewayAnswer("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
        call.entry = match.value
        call.path_params = match.params
        self.throttle(call)
        self.resource_policy(call)
        await self.authorize(call)
        self.check_api_key(call)
        self.validate(call)
        return await self.integrate(call)

    def throttle(self, call: Call) -> None:
        """Stage and method throttling as token buckets (429 when empty)."""
        assert call.entry is not None
        settings = call.cs.method_settings(call.entry.resource_path, call.req.method)
        rate = settings.get("throttlingRateLimit")
        burst = settings.get("throttlingBurstLimit")
        if rate is None and burst is None:
            return
        key = (
            call.cs.api_id,
            call.cs.stage_name,
            call.entry.resource_path,
            call.req.method,
            str(rate),
            str(burst),
        )
        if not take_token(self._buckets, key, rate, burst):
            raise GatewayAnswer("THROTTLED", "Too Many Requests")

    def resource_policy(self, call: Call) -> None:
        """The API's resource policy, when it has one, for an anonymous caller."""
        policy = call.cs.api.get("policy")
        if not policy:
            return
        arn = call_arn(call)
        text = policy if isinstance(policy, str) else json.dumps(policy)
        # "execute-api:/*" is shorthand for this API's ARN, as API Gateway expands it.
        prefix = f"arn:aws:execute-api:{call.cs.region}:{call.cs.account}:{call.cs.api_id}/"
        text = text.replace('"execute-api:/', '"' + prefix)
        decision = resource_policy_decision(text, arn, {"aws:sourceip": call.req.source_ip})
        if decision == "allow":
            return
        if decision == "implicit" and call.method.get("authorizationType", "NONE") != "NONE":
            return  # neither allowed nor denied: the authorizer decides
        suffix = " with an explicit deny" if decision == "deny" else ""
        raise GatewayAnswer(
            "ACCESS_DENIED",
            f"User: anonymous is not authorized to perform: execute-api:Invoke on resource: "
            f"{arn}{suffix}",
        )

    def gateway_response(
        self,
        call: Call,
        rtype: str,
        message: str | None,
        status: int | None = None,
        detail: str = "",
    ) -> HttpResponse:
        """A gateway response, customised by the API if it says so."""
        return render_gateway_response(
            call.cs.gateway_responses,
            rtype,
            message if message is not None else "",
            context=call.context_variables(),
            request_headers=call.headers(),
            stage_variables=call.cs.variables,
            status_override=status,
            null_message=message is None,
            validation_error=detail,
        )

    # Steps supplied by the mixins.
    async def authorize(self, call: Call) -> None:
        raise NotImplementedError

    def check_api_key(self, call: Call) -> None:
        raise NotImplementedError

    def validate(self, call: Call) -> None:
        raise NotImplementedError

    async def integrate(self, call: Call) -> HttpResponse:
        raise NotImplementedError


def proxy_request(req: HttpRequest, cs: CompiledStage, path_raw: str) -> ProxyRequest:
    """The normalised request the pipeline works on."""
    return pipeline.proxy_request(req, path_raw, api_id=cs.api_id, stage=cs.stage_name,
                                  account=cs.account, variables=cs.variables,
                                  is_base64=cs.is_binary(req.headers.get("content-type")))  # fmt: skip


def call_arn(call: Call) -> str:
    """The execute-api ARN of the request's method, as policies see it."""
    path = call.req.path.lstrip("/")
    return execute_api_arn(call.cs.region, call.cs.account, call.cs.api_id, call.cs.stage_name,
                           call.req.method, path)  # fmt: skip
