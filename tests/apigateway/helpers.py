"""Helpers for API Gateway tests: a provider on a temporary store with a fake Lambda, and
data-plane requests built as the edge builds them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from overcast.core.clock import SystemClock
from overcast.core.context import RequestContext
from overcast.core.http import HttpRequest, HttpResponse
from overcast.store import Store

Handler = Callable[[dict[str, Any]], Any]


class FakeLambda:
    """Stands in for dispatcher.call(ctx, "lambda", "Invoke", ...): runs Python handlers."""

    def __init__(self) -> None:
        self.functions: dict[str, Handler] = {}
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.invocation_types: list[str] = []
        self.services: dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]] = {}

    def add(self, name: str, fn: Handler) -> str:
        self.functions[name] = fn
        return f"arn:aws:lambda:us-east-1:000000000000:function:{name}"

    async def call(
        self, ctx: RequestContext, service: str, operation: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        if (service, operation) in self.services:
            return self.services[(service, operation)](params)
        assert (service, operation) == ("lambda", "Invoke")
        name = params["FunctionName"].rsplit(":", 1)[-1]
        event = json.loads(params["Payload"])
        self.events.append((name, event))
        self.invocation_types.append(params.get("InvocationType", "RequestResponse"))
        if params.get("InvocationType") == "Event":
            return {"StatusCode": 202, "Payload": b""}
        try:
            result = self.functions[name](event)
            if asyncio.iscoroutine(result):
                result = await result
        except Exception as exc:
            return {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "Payload": json.dumps(
                    {"errorMessage": str(exc), "errorType": type(exc).__name__}
                ).encode(),
            }
        return {"StatusCode": 200, "Payload": json.dumps(result).encode()}


def lambda_uri(arn: str) -> str:
    """The integration URI of a function."""
    return f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"


def make_ctx() -> RequestContext:
    return RequestContext(request_id="req-1", endpoint="http://127.0.0.1:4566")


def request(
    method: str,
    url_path: str,
    *,
    body: bytes | str = b"",
    headers: dict[str, str] | None = None,
    query: str = "",
) -> HttpRequest:
    """A data-plane request as the edge hands it over."""
    raw = body.encode() if isinstance(body, str) else body
    hdrs = {"host": "127.0.0.1:4566", **{k.lower(): v for k, v in (headers or {}).items()}}
    path, _, q = url_path.partition("?")
    return HttpRequest(
        method=method,
        path=path,
        query_string=q or query,
        headers=hdrs,
        body=raw,
        header_list=list(hdrs.items()),
    )


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def body_json(resp: HttpResponse) -> Any:
    assert isinstance(resp.body, bytes)
    return json.loads(resp.body)


def new_store(tmp_path: Path) -> Store:
    return Store(tmp_path / "data", durable=False)


CLOCK = SystemClock()
