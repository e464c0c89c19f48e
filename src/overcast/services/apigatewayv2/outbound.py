"""Calls out of the HTTP API data plane: HTTP to backends and to JWKS endpoints."""

from __future__ import annotations

import asyncio
import re
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

_FUNCTION = re.compile(r":lambda:path/[\d-]+/functions/(.+?)/invocations")
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


def function_of(uri: str) -> str | None:
    """The function inside a Lambda integration URI (the invocation form or a bare ARN)."""
    if (uri or "").startswith("arn:aws:lambda:"):
        return uri
    m = _FUNCTION.search(uri or "")
    return m.group(1) if m else None


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
