"""Calls out of both data planes: HTTP to backends (and to JWKS endpoints), and Lambda functions
(integrations and authorizers) through the dispatcher."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from overcast.core.context import RequestContext
from overcast.dispatch import Dispatcher

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
    "host",
    "content-length",
}


class IntegrationTimeout(Exception):
    """The integration did not answer within its timeout (→ 504)."""


class IntegrationFailure(Exception):
    """The backend could not be reached (→ 500/502)."""


@dataclass
class BackendResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)
# Backends may be slow (up to the 29 s integration timeout): their own threads, so that a few
# slow calls cannot starve the event loop's default executor.
_POOL = ThreadPoolExecutor(max_workers=64, thread_name_prefix="apigw-http")


def _fetch(
    method: str, url: str, headers: list[tuple[str, str]], body: bytes | None, timeout: float
) -> BackendResponse:
    req = urllib.request.Request(url, data=body, method=method)
    for k, v in headers:
        if k.lower() not in _HOP_BY_HOP:
            req.add_header(k, v)
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return BackendResponse(resp.status, list(resp.headers.items()), resp.read())
    except urllib.error.HTTPError as err:
        return BackendResponse(err.code, list(err.headers.items()), err.read())
    except TimeoutError as exc:
        raise IntegrationTimeout() from exc
    except (urllib.error.URLError, OSError) as exc:
        if "timed out" in str(exc):
            raise IntegrationTimeout() from exc
        raise IntegrationFailure(str(exc)) from exc


async def http_call(
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: bytes | None,
    timeout: float,
) -> BackendResponse:
    """One HTTP request to a backend, off the event loop, bounded by `timeout` seconds."""
    if method in ("GET", "HEAD") and not body:
        body = None
    try:
        loop = asyncio.get_running_loop()
        return await asyncio.wait_for(
            loop.run_in_executor(_POOL, _fetch, method, url, headers, body, timeout), timeout + 1
        )
    except TimeoutError as exc:
        raise IntegrationTimeout() from exc


def strip_hop_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Backend response headers minus those the edge sets itself."""
    return [
        (k, v)
        for k, v in headers
        if k.lower() not in _HOP_BY_HOP and k.lower() not in ("date", "server")
    ]


async def invoke_function(
    dispatcher: Dispatcher,
    ctx: RequestContext,
    function: str,
    payload: bytes,
    invocation_type: str = "RequestResponse",
) -> dict[str, Any]:
    """A Lambda Invoke through the dispatcher (synchronous unless told otherwise); its output."""
    out: dict[str, Any] = await dispatcher.call(
        ctx,
        "lambda",
        "Invoke",
        {"FunctionName": function, "InvocationType": invocation_type, "Payload": payload},
    )
    return out


def payload_bytes(p: Any) -> bytes:
    """Invoke's Payload as bytes, whether it came back as bytes, a stream or text."""
    if p is None:
        return b""
    if isinstance(p, (bytes, bytearray)):
        return bytes(p)
    if hasattr(p, "read"):
        data: bytes = p.read()
        return data
    return str(p).encode()


class AuthorizerUnauthorized(Exception):
    """The authorizer function failed with the message "Unauthorized" (→ 401)."""


class AuthorizerFailed(Exception):
    """The authorizer function could not be invoked, or failed otherwise."""


async def invoke_authorizer(
    dispatcher: Dispatcher, ctx: RequestContext, function: str, event: dict[str, Any]
) -> Any:
    """Run a Lambda authorizer and return its decoded JSON answer.

    Raises AuthorizerUnauthorized or AuthorizerFailed as above, ValueError when the answer is not
    JSON; what a valid answer must hold is the caller's to check (REST and HTTP APIs differ).
    """
    try:
        out = await invoke_function(dispatcher, ctx, function, json.dumps(event).encode())
    except Exception as exc:
        raise AuthorizerFailed(str(exc)) from exc
    payload = payload_bytes(out.get("Payload"))
    if out.get("FunctionError"):
        try:
            message = json.loads(payload).get("errorMessage")
        except (ValueError, AttributeError):
            message = None
        if message == "Unauthorized":
            raise AuthorizerUnauthorized()
        raise AuthorizerFailed(str(message))
    return json.loads(payload)
