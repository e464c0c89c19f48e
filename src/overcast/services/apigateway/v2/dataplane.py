"""The HTTP API data plane: address → stage → CORS preflight → route → throttle → authorizer →
integration → CORS headers."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.core.http import HttpRequest, HttpResponse
from overcast.dispatch import Dispatcher
from overcast.engines.apigw.address import first_segment, split_address
from overcast.engines.apigw.proxy import (
    MalformedProxyResponse,
    ProxyRequest,
    clf_time,
    http_event,
    parse_http_response,
    parse_rest_response,
    rest_event,
)
from overcast.engines.apigw.routing import Router, route_key_parts
from overcast.engines.apigw.throttle import TokenBucket
from overcast.engines.apigw.uris import function_of, substitute_stage_variables
from overcast.services.apigateway.accesslogs import AccessLogWriter
from overcast.services.apigateway.outbound import (
    IntegrationFailure,
    IntegrationTimeout,
    http_call,
    invoke_function,
    payload_bytes,
    strip_hop_headers,
)
from overcast.services.apigateway.pipeline import (
    MAX_PAYLOAD,
    answer,
    compiled_stage,
    deployed_snapshot,
    internal_context,
    log_access,
    proxy_request,
    take_token,
)
from overcast.services.apigateway.v2.mapping import map_request, map_response
from overcast.services.apigateway.v2.service_integrations import SUBTYPES, build_params, jsonable
from overcast.services.apigateway.v2.state import HttpApiState

log = logging.getLogger("overcast.apigatewayv2")

__all__ = ["CompiledHttpStage", "HttpCall", "HttpDataPlane", "Refused", "answer"]


class Refused(Exception):
    """Stop the pipeline with this response."""

    def __init__(self, resp: HttpResponse) -> None:
        super().__init__(resp.status)
        self.resp = resp


@dataclass
class CompiledHttpStage:
    account: str
    region: str
    api_id: str
    stage_name: str
    stage: dict[str, Any]
    router: Router[dict[str, Any]]
    default_route: dict[str, Any] | None
    integrations: dict[str, dict[str, Any]]
    authorizers: dict[str, dict[str, Any]]
    cors: dict[str, Any] | None
    variables: dict[str, str]
    disabled: bool = False


def compile_http_stage(
    account: str, region: str, doc: dict[str, Any], stage_name: str
) -> CompiledHttpStage | None:
    found = deployed_snapshot(doc, stage_name, "DeploymentId")
    if found is None:
        return None
    stage, snap = found
    router: Router[dict[str, Any]] = Router()
    default = None
    for r in snap["routes"].values():
        parts = route_key_parts(r["RouteKey"])
        if parts is None:
            default = r
        else:
            router.add(parts[1], parts[0], r)
    return CompiledHttpStage(
        account=account,
        region=region,
        api_id=doc["api"]["ApiId"],
        stage_name=stage_name,
        stage=stage,
        router=router,
        default_route=default,
        integrations=snap["integrations"],
        authorizers=snap["authorizers"],
        cors=snap.get("cors"),
        variables=dict(stage.get("StageVariables") or {}),
        disabled=bool(doc["api"].get("DisableExecuteApiEndpoint")),
    )


@dataclass
class HttpCall:
    cs: CompiledHttpStage
    req: ProxyRequest
    route: dict[str, Any] | None = None
    path_params: dict[str, str] = field(default_factory=dict)
    authorizer: dict[str, Any] | None = None

    def ctx(self) -> RequestContext:
        """The context for internal calls (Lambda, other services) on behalf of this request."""
        return internal_context(self.req, self.cs)


class HttpDataPlane:
    """`data_plane(req)` for HTTP APIs."""

    state: HttpApiState
    dispatcher: Dispatcher
    _compiled: dict[tuple[str, str], tuple[int, CompiledHttpStage | None]]
    _buckets: dict[tuple[str, ...], TokenBucket]
    access_logs: AccessLogWriter

    async def data_plane(self, req: HttpRequest) -> HttpResponse | None:
        """Answer an invoke-URL request for an HTTP API this provider owns, else None."""
        addr = split_address(req.headers.get("host", ""), req.path)
        if addr is None:
            return None
        api_id, rest = addr
        owner = self.state.owner(api_id)
        if owner is None:
            return None
        first, tail = first_segment(rest)
        cs = self._stage(owner[0], owner[1], api_id, unquote(first))
        path_raw = tail
        if cs is None:
            cs = self._stage(owner[0], owner[1], api_id, "$default")
            path_raw = rest
        if cs is None or cs.disabled:
            return answer(404, "Not Found")
        preq = self._proxy_request(req, cs, path_raw)
        call = HttpCall(cs=cs, req=preq)
        started = time.perf_counter()
        try:
            resp = await self.serve(call)
        except Refused as r:
            resp = r.resp
        self._cors_headers(call, resp)
        resp.headers.append(("apigw-requestid", preq.request_id))
        settings = cs.stage.get("AccessLogSettings")
        if settings and settings.get("DestinationArn"):
            context = self._mapping_sources(call)["context"]
            context.update({"requestTime": clf_time(preq.time_epoch_ms),
                            "requestTimeEpoch": preq.time_epoch_ms, "protocol": "HTTP/1.1"})  # fmt: skip
            destination, fmt = str(settings["DestinationArn"]), str(settings.get("Format") or "")
            log_access(self.access_logs, cs, destination, fmt, context, resp, started)
        return resp

    def _stage(self, account: str, region: str, api_id: str, name: str) -> CompiledHttpStage | None:
        owner = (account, region)
        return compiled_stage(self._compiled, self.state, owner, api_id, name, compile_http_stage)

    def _proxy_request(
        self, req: HttpRequest, cs: CompiledHttpStage, path_raw: str
    ) -> ProxyRequest:
        ctype = (req.headers.get("content-type") or "").split(";")[0].strip().lower()
        textual = (
            not ctype
            or ctype.startswith("text/")
            or "json" in ctype
            or "xml" in ctype
            or ctype == "application/x-www-form-urlencoded"
        )
        return proxy_request(req, path_raw, api_id=cs.api_id, stage=cs.stage_name,
                             account=cs.account, variables=cs.variables,
                             is_base64=bool(req.body) and not textual)  # fmt: skip

    async def serve(self, call: HttpCall) -> HttpResponse:
        if len(call.req.body) > MAX_PAYLOAD:
            return answer(413, "Request Entity Too Large")
        preflight = self._preflight(call)
        if preflight is not None:
            return preflight
        m = call.cs.router.match(call.req.path, call.req.method)
        if m is not None and m.method_found:
            call.route, call.path_params = m.value, m.params
        elif call.cs.default_route is not None:
            call.route = call.cs.default_route
        else:
            return answer(404, "Not Found")
        self._throttle(call)
        await self.authorize(call)
        return await self.integrate(call)

    def _throttle(self, call: HttpCall) -> None:
        assert call.route is not None
        key = call.route["RouteKey"]
        settings = dict(call.cs.stage.get("DefaultRouteSettings") or {})
        settings.update((call.cs.stage.get("RouteSettings") or {}).get(key) or {})
        rate, burst = settings.get("ThrottlingRateLimit"), settings.get("ThrottlingBurstLimit")
        if rate is None and burst is None:
            return
        bkey = (call.cs.api_id, call.cs.stage_name, key, str(rate), str(burst))
        if not take_token(self._buckets, bkey, rate, burst):
            raise Refused(answer(429, "Too Many Requests"))

    # -- CORS ----------------------------------------------------------------------------------

    def _allowed_origin(self, call: HttpCall) -> str | None:
        cors = call.cs.cors
        origin = call.req.header("origin")
        if not cors or not origin:
            return None
        allowed = cors.get("AllowOrigins") or []
        if "*" in allowed:
            return "*" if not cors.get("AllowCredentials") else origin
        return origin if origin in allowed else None

    def _preflight(self, call: HttpCall) -> HttpResponse | None:
        cors = call.cs.cors
        if (
            not cors
            or call.req.method != "OPTIONS"
            or not call.req.header("access-control-request-method")
        ):
            return None
        headers: list[tuple[str, str]] = []
        origin = self._allowed_origin(call)
        if origin is not None:
            headers.append(("access-control-allow-origin", origin))
            methods = cors.get("AllowMethods") or []
            if methods:
                headers.append(("access-control-allow-methods", ",".join(methods)))
            allow_headers = cors.get("AllowHeaders") or []
            if allow_headers:
                headers.append(("access-control-allow-headers", ",".join(allow_headers)))
            if cors.get("MaxAge") is not None:
                headers.append(("access-control-max-age", str(cors["MaxAge"])))
            if cors.get("AllowCredentials"):
                headers.append(("access-control-allow-credentials", "true"))
        return HttpResponse(204, headers, b"")

    def _cors_headers(self, call: HttpCall, resp: HttpResponse) -> None:
        if call.req.method == "OPTIONS" and call.req.header("access-control-request-method"):
            return
        origin = self._allowed_origin(call)
        if origin is None or call.cs.cors is None:
            return
        # API Gateway's CORS configuration overrides what the integration said.
        names = {
            "access-control-allow-origin",
            "access-control-expose-headers",
            "access-control-allow-credentials",
        }
        resp.headers = [(k, v) for k, v in resp.headers if k.lower() not in names]
        resp.headers.append(("access-control-allow-origin", origin))
        if call.cs.cors.get("ExposeHeaders"):
            resp.headers.append(
                ("access-control-expose-headers", ",".join(call.cs.cors["ExposeHeaders"]))
            )
        if call.cs.cors.get("AllowCredentials"):
            resp.headers.append(("access-control-allow-credentials", "true"))

    # -- integrations ----------------------------------------------------------------------------

    async def authorize(self, call: HttpCall) -> None:
        raise NotImplementedError

    async def integrate(self, call: HttpCall) -> HttpResponse:
        """Send the request to the route's integration."""
        assert call.route is not None
        target = call.route.get("Target") or ""
        integ = call.cs.integrations.get(target.split("/", 1)[-1]) if target else None
        if integ is None:
            return answer(500, "Internal Server Error")
        timeout = int(integ.get("TimeoutInMillis") or 30000) / 1000
        try:
            if integ["IntegrationType"] == "AWS_PROXY" and integ.get("IntegrationSubtype"):
                return await asyncio.wait_for(self._service(call, integ), timeout)
            if integ["IntegrationType"] == "AWS_PROXY":
                return await asyncio.wait_for(self._lambda(call, integ), timeout)
            if integ["IntegrationType"] == "HTTP_PROXY":
                return await self._http_proxy(call, integ, timeout)
        except (TimeoutError, IntegrationTimeout):
            return answer(504, "Endpoint request timed out")
        except IntegrationFailure as exc:
            log.warning("HTTP integration failed: %s", exc)
            return answer(500, "Internal Server Error")
        return answer(500, "Internal Server Error")

    def event(self, call: HttpCall, version: str) -> dict[str, Any]:
        """The proxy event for a payload format version."""
        assert call.route is not None
        key = call.route["RouteKey"]
        if version == "1.0":
            parts = route_key_parts(key)
            resource = parts[1] if parts else "/{proxy+}"
            auth = call.authorizer
            if auth is not None and "lambda" in auth:
                auth = {**auth["lambda"], **{k: v for k, v in auth.items() if k != "lambda"}}
            return rest_event(
                call.req,
                resource_path=resource,
                resource_id=call.route["RouteId"],
                path_params=call.path_params,
                authorizer=auth,
                full_path_with_stage=call.cs.stage_name != "$default",
                raw_path=False,
            )
        return http_event(
            call.req, route_key=key, path_params=call.path_params, authorizer=call.authorizer
        )

    async def _lambda(self, call: HttpCall, integ: dict[str, Any]) -> HttpResponse:
        uri = substitute_stage_variables(integ.get("IntegrationUri", ""), call.cs.variables)
        fn = function_of(uri, bare_arn=True)
        if fn is None:
            return answer(500, "Internal Server Error")
        version = str(integ.get("PayloadFormatVersion") or "2.0")
        payload = json.dumps(self.event(call, version)).encode()
        try:
            out = await invoke_function(self.dispatcher, call.ctx(), fn, payload)
        except Exception as exc:
            if isinstance(exc, TimeoutError):
                raise
            log.warning("Lambda invoke for %s failed: %s", fn, exc)
            return answer(500, "Internal Server Error")
        if out.get("FunctionError"):
            return answer(500, "Internal Server Error")
        data = payload_bytes(out.get("Payload"))
        try:
            result = parse_rest_response(data) if version == "1.0" else parse_http_response(data)
        except MalformedProxyResponse as exc:
            log.warning("malformed Lambda proxy response: %s", exc)
            return answer(500, "Internal Server Error")
        headers = list(result.headers)
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("content-type", "application/json"))
        return HttpResponse(result.status, headers, result.body)

    async def _service(self, call: HttpCall, integ: dict[str, Any]) -> HttpResponse:
        """A first-class AWS service integration (SQS, EventBridge, Step Functions)."""
        target = SUBTYPES.get(integ["IntegrationSubtype"])
        if target is None:
            return answer(500, "Internal Server Error")
        params = build_params(
            integ["IntegrationSubtype"],
            integ.get("RequestParameters") or {},
            self._mapping_sources(call),
        )
        try:
            result = await self.dispatcher.call(call.ctx(), target[0], target[1], params)
        except ServiceError as err:
            body = {"__type": err.code, "message": err.message}
            return HttpResponse(err.status, [("content-type", "application/json")],
                                json.dumps(body).encode())  # fmt: skip
        except Exception:
            log.exception("service integration %s failed", integ["IntegrationSubtype"])
            return answer(500, "Internal Server Error")
        return HttpResponse(200, [("content-type", "application/json")],
                            json.dumps(jsonable(result)).encode())  # fmt: skip

    async def _http_proxy(
        self, call: HttpCall, integ: dict[str, Any], timeout: float
    ) -> HttpResponse:
        uri = substitute_stage_variables(integ.get("IntegrationUri", ""), call.cs.variables)
        for name, value in call.path_params.items():
            uri = uri.replace("{" + name + "+}", quote(value, safe="/"))
            uri = uri.replace("{" + name + "}", quote(value, safe="/" if name == "proxy" else ""))
        headers = [(k, v) for k, v in call.req.header_list if k.lower() != "host"]
        query = call.req.query_string
        sources = self._mapping_sources(call)
        if integ.get("RequestParameters"):
            scheme, sep, rest = uri.partition("://")
            hostpart, slash, path = rest.partition("/")
            headers, new_path, query = map_request(
                integ["RequestParameters"], headers, "/" + path if slash else "/", query, sources
            )
            uri = f"{scheme}{sep}{hostpart}{new_path}"
        if query:
            uri += ("&" if "?" in uri else "?") + query
        method = integ.get("IntegrationMethod") or "ANY"
        if method == "ANY":
            method = call.req.method
        resp = await http_call(method, uri, headers, call.req.body, timeout)
        status, out_headers = resp.status, strip_hop_headers(resp.headers)
        if integ.get("ResponseParameters"):
            status, out_headers = map_response(
                integ["ResponseParameters"], status, out_headers, resp.body, sources
            )
        return HttpResponse(status, out_headers, resp.body)

    def _mapping_sources(self, call: HttpCall) -> dict[str, Any]:
        """The values parameter mapping may refer to."""
        return {
            "headers": {k.lower(): v for k, v in call.req.header_list},
            "query": dict(call.req.query_pairs()),
            "path": call.req.path,
            "path_params": call.path_params,
            "body": call.req.body,
            "stage_variables": call.cs.variables,
            "context": {
                "requestId": call.req.request_id,
                "apiId": call.cs.api_id,
                "stage": call.cs.stage_name,
                "accountId": call.cs.account,
                "domainName": call.req.domain_name,
                "httpMethod": call.req.method,
                "path": call.req.path,
                "routeKey": (call.route or {}).get("RouteKey", ""),
                "identity": {"sourceIp": call.req.source_ip, "userAgent": call.req.user_agent},
                "authorizer": _flat_authorizer(call.authorizer),
            },
        }


def _flat_authorizer(auth: dict[str, Any] | None) -> dict[str, Any]:
    """$context.authorizer.* as parameter mapping sees it (claims and Lambda context flattened)."""
    if not auth:
        return {}
    out: dict[str, Any] = dict(auth.get("lambda") or {})
    jwt = auth.get("jwt") or {}
    out["claims"] = jwt.get("claims") or {}
    return out
