"""Steps both data planes take for every invoke-URL request: the stage, compiled from its
deployment's snapshot once per state version; the normalised `ProxyRequest` built from the edge's
HttpRequest; token-bucket throttling; the context for internal calls made on the request's
behalf; JSON error answers; and the access-log line queued once the response is known."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol, TypeVar
from urllib.parse import unquote

from overcast.core.context import RequestContext
from overcast.core.http import HttpRequest, HttpResponse
from overcast.engines.apigw.proxy import ProxyRequest, forwarded_headers, trace_id
from overcast.engines.apigw.throttle import TokenBucket
from overcast.services.apigateway.accesslogs import AccessLogWriter
from overcast.services.apigateway.documents import ApiDocuments

MAX_PAYLOAD = 10 * 1024 * 1024

S = TypeVar("S")


def answer(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    """A JSON {"message": ...} response, as API Gateway gives for its own errors."""
    return HttpResponse(
        status,
        [("content-type", "application/json"), *(headers or [])],
        json.dumps({"message": message}).encode(),
    )


def proxy_request(
    req: HttpRequest,
    path_raw: str,
    *,
    api_id: str,
    stage: str,
    account: str,
    variables: dict[str, str],
    is_base64: bool,
) -> ProxyRequest:
    """The normalised request a stage's pipeline works on (a fresh request id and trace id)."""
    host = req.headers.get("host", "")
    domain = host if ".execute-api." in host else f"{api_id}.execute-api.localhost"
    return ProxyRequest(
        method=req.method.upper(),
        path=unquote(path_raw),
        raw_path=path_raw,
        query_string=req.query_string,
        header_list=forwarded_headers(
            list(req.header_list) or list(req.headers.items()),
            req.client_ip,
            req.scheme,
            trace_id(time.time(), uuid.uuid4().hex),
        ),
        body=req.body,
        source_ip=req.client_ip,
        request_id=str(uuid.uuid4()),
        api_id=api_id,
        stage=stage,
        account_id=account,
        domain_name=domain,
        time_epoch_ms=int(time.time() * 1000),
        stage_variables=variables,
        is_base64=is_base64,
    )


class Stage(Protocol):
    """What both APIs' compiled stages have in common."""

    account: str
    region: str
    api_id: str
    stage_name: str


def internal_context(req: ProxyRequest, stage: Stage) -> RequestContext:
    """The context for internal calls (Lambda, other services) on behalf of a data-plane request."""
    return RequestContext(
        request_id=req.request_id, account_id=stage.account, region=stage.region, internal=True
    )


def compiled_stage(
    cache: dict[tuple[str, str], tuple[int, S | None]],
    state: ApiDocuments,
    owner: tuple[str, str],
    api_id: str,
    stage: str,
    compile_stage: Callable[[str, str, dict[str, Any], str], S | None],
) -> S | None:
    """The servable form of an API's stage, compiled once per state version (None, when there is
    no such API or stage, is cached too)."""
    hit = cache.get((api_id, stage))
    if hit is not None and hit[0] == state.version:
        return hit[1]
    account, region = owner
    doc = state.get_api(account, region, api_id)
    value = compile_stage(account, region, doc, stage) if doc else None
    cache[(api_id, stage)] = (state.version, value)
    return value


def deployed_snapshot(
    doc: dict[str, Any], stage_name: str, deployment_member: str
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(stage, its deployment's snapshot), or None when the stage or its deployment is missing."""
    stage = doc["stages"].get(stage_name)
    if stage is None:
        return None
    dep = doc["deployments"].get(stage.get(deployment_member) or "")
    if dep is None:
        return None
    return stage, dep["snapshot"]


def take_token(
    buckets: dict[tuple[str, ...], TokenBucket],
    key: tuple[str, ...],
    rate: float | None,
    burst: int | None,
) -> bool:
    """Take one request from the bucket for `key` (made on first use; AWS's account defaults,
    10,000 rps and a burst of 5,000, fill in whichever limit is unset). False when empty."""
    bucket = buckets.get(key)
    if bucket is None:
        bucket = TokenBucket(
            float(rate if rate is not None else 10000.0),
            int(burst if burst is not None else 5000),
        )
        buckets[key] = bucket
    return bucket.take(time.monotonic())


def log_access(
    writer: AccessLogWriter,
    stage: Stage,
    destination_arn: str,
    fmt: str,
    context: dict[str, Any],
    resp: HttpResponse,
    started: float,
) -> None:
    """Queue the stage's access-log line for a finished request ($context plus the response)."""
    body = resp.body if isinstance(resp.body, bytes) else b""
    latency = int((time.perf_counter() - started) * 1000)
    context.update({"status": resp.status, "responseLength": len(body),
                    "responseLatency": latency, "integrationLatency": latency})  # fmt: skip
    stream = f"{stage.api_id}_{stage.stage_name}"
    writer.add(stage.account, stage.region, destination_arn, fmt, stream, context)
