"""The Codec interface every wire protocol implements, and what they all share.

A codec belongs to one (service, protocol) pair. It keeps per-operation plans (compiled once, on
first use) so that a request costs a dict lookup plus the work its own members need.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import zlib
from typing import Any

from botocore.model import OperationModel, ServiceModel

from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.core.http import HttpRequest, HttpResponse
from overcast.protocol.errors import ErrorCatalog, MalformedInput
from overcast.protocol.models import quirks


class Codec:
    """Reads requests of one service in one wire protocol, and writes its responses and errors."""

    protocol: str = ""

    def __init__(self, service: str, model: ServiceModel, protocol: str) -> None:
        self.service = service
        self.model = model
        self.protocol = protocol
        self.quirks: dict[str, Any] = quirks(service)
        self.errors = ErrorCatalog(model, self.quirks)
        self._request_id_headers: list[str] = self.quirks.get(
            "request_id_headers", ["x-amzn-RequestId"]
        )
        names = self._request_id_headers
        self._plain_request_id: str | None = (
            names[0] if len(names) == 1 and names[0].lower() != "x-amz-id-2" else None
        )

    # -- the interface -----------------------------------------------------------------------

    def match(self, req: HttpRequest) -> OperationModel:
        """Which operation `req` calls; raises the protocol's ServiceError when none does."""
        raise NotImplementedError

    def parse(self, op: OperationModel, req: HttpRequest) -> dict[str, Any]:
        """The input parameters of `op` carried by `req`, named as boto3 names them."""
        raise NotImplementedError

    def serialize(
        self, op: OperationModel, result: dict[str, Any], ctx: RequestContext
    ) -> HttpResponse:
        """The HTTP response for a provider's `result` of `op`."""
        raise NotImplementedError

    def serialize_error(
        self, op: OperationModel | None, err: ServiceError, ctx: RequestContext
    ) -> HttpResponse:
        """The HTTP response for `err` (op is None when the request matched no operation)."""
        raise NotImplementedError

    def decode(self, req: HttpRequest) -> tuple[OperationModel, dict[str, Any]]:
        """match() then parse() in one call."""
        op = self.match(req)
        return op, self.parse(op, req)

    # -- shared helpers ----------------------------------------------------------------------

    def malformed(self, problem: MalformedInput) -> ServiceError:
        """The protocol's own 400 for a request it cannot read."""
        raise NotImplementedError

    def body(self, req: HttpRequest) -> bytes:
        """The request body, gzip/deflate undone (CloudWatch compresses large PutMetricData).
        For documents (JSON, CBOR, forms) only; rest codecs keep opaque payloads as they came."""
        encoding = req.headers.get("content-encoding")
        if not encoding or not req.body:
            return req.body
        data = req.body
        for coding in reversed([c.strip().lower() for c in encoding.split(",")]):
            try:
                if coding in ("gzip", "x-gzip"):
                    data = gzip.decompress(data)
                elif coding == "deflate":
                    data = zlib.decompress(data)
            except (OSError, EOFError, zlib.error) as exc:
                raise self.malformed(MalformedInput(f"Could not decompress the body: {exc}"))
        return data

    def success_headers(self, ctx: RequestContext, content_type: str) -> list[tuple[str, str]]:
        """Content-Type, the request id header(s), then what the provider set on the context."""
        if self._plain_request_id is not None:
            headers = [("Content-Type", content_type), (self._plain_request_id, ctx.request_id)]
        else:
            headers = [("Content-Type", content_type), *self.request_id_headers(ctx)]
        return self.finish(headers, ctx) if ctx.response_headers else headers

    def request_id_headers(self, ctx: RequestContext) -> list[tuple[str, str]]:
        """The request id headers this service sends (S3 adds x-amz-id-2)."""
        rid = ctx.request_id
        if self._plain_request_id is not None:  # the usual single header: no loop
            return [(self._plain_request_id, rid)]
        headers = []
        for name in self._request_id_headers:
            if name.lower() == "x-amz-id-2":
                headers.append((name, host_id(rid)))
            else:
                headers.append((name, rid))
        return headers

    @staticmethod
    def finish(
        headers: list[tuple[str, str]], ctx: RequestContext, err: ServiceError | None = None
    ) -> list[tuple[str, str]]:
        """Adds the headers a provider set on the context (and on the error), last wins."""
        extra: dict[str, str] = {}
        if ctx.response_headers:
            extra.update(ctx.response_headers)
        if err is not None and err.headers:
            extra.update(err.headers)
        if extra:
            lower = {k.lower() for k in extra}
            headers = [(k, v) for k, v in headers if k.lower() not in lower]
            headers.extend(extra.items())
        return headers


def host_id(request_id: str) -> str:
    """An S3-style extended request id (x-amz-id-2), derived from the request id."""
    return base64.b64encode(hashlib.sha256(request_id.encode()).digest()).decode("ascii")
