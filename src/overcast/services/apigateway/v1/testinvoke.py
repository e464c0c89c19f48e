"""TestInvokeMethod: run one request through a method as it is now (deployed or not)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from overcast.core.context import RequestContext
from overcast.core.http import HttpRequest
from overcast.services.apigateway.v1.compiled import RouteEntry, compile_stage
from overcast.services.apigateway.v1.dataplane import Call, DataPlane, GatewayAnswer, proxy_request
from overcast.services.apigateway.v1.stages import snapshot

_TEST_STAGE = "test-invoke-stage"


def build_test_call(
    ctx: RequestContext,
    doc: dict[str, Any],
    params: dict[str, Any],
    method: dict[str, Any],
    verb: str,
) -> Call:
    """A pipeline Call for a test invocation against the API as it is now (not deployed)."""
    doc = copy.deepcopy(doc)
    doc["deployments"]["test"] = {"id": "test", "snapshot": snapshot(doc)}
    doc["stages"][_TEST_STAGE] = {
        "stageName": _TEST_STAGE,
        "deploymentId": "test",
        "variables": dict(params.get("stageVariables") or {}),
        "methodSettings": {},
    }
    cs = compile_stage(ctx.account_id, ctx.region, doc, _TEST_STAGE)
    assert cs is not None
    path, _, query = (params.get("pathWithQueryString") or "/").partition("?")
    header_list = list((params.get("headers") or {}).items())
    for name, values in (params.get("multiValueHeaders") or {}).items():
        header_list.extend((name, v) for v in values)
    body = params.get("body") or ""
    raw = body.encode() if isinstance(body, str) else bytes(body)
    http = HttpRequest(
        method=verb,
        path=path,
        query_string=query,
        headers={k.lower(): v for k, v in header_list},
        body=raw,
        header_list=header_list,
    )
    call = Call(cs=cs, req=proxy_request(http, cs, path), http=http)
    match = cs.router.match(path, verb, decode=False)
    if match is not None:
        call.entry = match.value
        call.path_params = match.params
    else:
        call.entry = RouteEntry("test", path, method)
    return call


class TestInvoke(DataPlane):
    """test_invoke_method."""

    # Provided by Base (the control-plane mixins).
    load: Callable[[RequestContext, str], dict[str, Any]]
    method: Callable[[dict[str, Any], str, str], dict[str, Any]]

    async def test_invoke_method(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        """Invoke the method with the API's current configuration, as the console's Test."""
        doc = self.load(ctx, params.get("restApiId", ""))
        verb = (params.get("httpMethod") or "").upper()
        method = self.method(doc, params.get("resourceId", ""), verb)
        call = build_test_call(ctx, doc, params, method, verb)
        started = time.perf_counter()
        try:
            resp = await self.serve(call)
        except GatewayAnswer as ans:
            resp = self.gateway_response(call, ans.rtype, ans.message, ans.status, ans.detail)
        latency = int((time.perf_counter() - started) * 1000)
        headers: dict[str, str] = {}
        multi: dict[str, list[str]] = {}
        for k, v in resp.headers:
            headers[k] = v
            multi.setdefault(k, []).append(v)
        out_body = resp.body if isinstance(resp.body, bytes) else b""
        return {
            "status": resp.status,
            "body": out_body.decode("utf-8", errors="replace"),
            "headers": headers,
            "multiValueHeaders": multi,
            "log": f"Execution log for request {call.req.request_id}\n"
            f"Method completed with status: {resp.status}\n",
            "latency": latency,
        }
