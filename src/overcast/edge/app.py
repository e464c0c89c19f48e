"""The ASGI app and its request pipeline."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from overcast.core import ids
from overcast.core.clock import Clock, SystemClock
from overcast.core.context import DEFAULT_ACCOUNT, DEFAULT_REGION, RequestContext
from overcast.core.errors import InternalFailure, ServiceError
from overcast.core.http import Caller, HttpRequest, HttpResponse
from overcast.core.memo import Memo
from overcast.dispatch.table import Handler, OperationTable
from overcast.edge import chunked, sigv4, spool
from overcast.edge import detect as detection
from overcast.edge.asgi import read_body, request_from_scope, response_start, write_response
from overcast.edge.chunked import decode_request_body
from overcast.protocol import Codec, get_codec
from overcast.protocol.validation import Validator

log = logging.getLogger("overcast.edge")

DataPlane = Callable[[HttpRequest], Awaitable[HttpResponse | None]]
"""A non-AWS endpoint: answers a request it owns, or None to let the next one try."""


@dataclass(slots=True)
class EdgeConfig:
    strict_auth: bool = False
    log_requests: bool = True
    version: str = ""
    spool_dir: str | None = None  # where large uploads are spooled; None keeps them in memory


# Bodies from this size on are hashed for the payload check off the event loop.
_HASH_OFF_LOOP = 1 << 20


class Exchange:
    """One AWS API request as it moves through the pipeline. (A plain slotted class: one is made
    per request, and positional construction is the cheapest.)"""

    __slots__ = ("auth", "codec", "ctx", "detected", "op", "params", "req", "started")

    def __init__(self, req: HttpRequest, ctx: RequestContext, started: float = 0.0) -> None:
        self.req = req
        self.ctx = ctx
        self.started = started
        self.detected: detection.Detection | None = None
        self.auth: sigv4.AuthResult | None = None
        self.codec: Codec | None = None
        self.op: Any = None
        self.params: dict[str, Any] | None = None


class Edge:
    """The one ASGI app: data planes first, then the AWS API pipeline."""

    def __init__(
        self,
        table: OperationTable,
        *,
        config: EdgeConfig,
        lookup_credential: Callable[[str], sigv4.Credential | None],
        health: Callable[[], dict[str, Any]],
        data_planes: list[DataPlane] | None = None,
        clock: Clock | None = None,
        on_startup: Callable[[], Awaitable[None]] | None = None,
        on_shutdown: Callable[[], Awaitable[None]] | None = None,
        body_digests: spool.DigestHook | None = None,
        refuse_body: spool.RefusalHook | None = None,
    ) -> None:
        self.table = table
        self.config = config
        self.lookup_credential = lookup_credential
        self.health = health
        self.data_planes = data_planes or []
        self.clock = clock or SystemClock()
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown
        self._validators: dict[Codec, Validator] = {}
        # Per-request lookups kept by what decides them: the codec of a service that speaks one
        # protocol; the handler, and the codec, name and parameter check, of an operation model
        # (one object per operation of a service's model: these hold at most the models'
        # operations).
        self._codecs: dict[str, Codec] = {}
        self._handlers: dict[Any, Handler] = {}
        self._operations: dict[Any, tuple[Codec, str, Callable[[dict[str, Any]], None] | None]] = {}
        self.body_digests = body_digests
        self.refuse_body = refuse_body
        self.spool_dir = Path(config.spool_dir) if config.spool_dir else None
        if self.spool_dir is not None:
            spool.clear(self.spool_dir)
        # The whole request chain, in order. Each step reads and fills the Exchange (and runs
        # without waiting: anything that waits belongs to the provider).
        self.PIPELINE: list[Callable[[Exchange], None]] = [
            self.detect_service,
            self.authenticate,
            self.address_bucket,
            self.decode_body,
            self.parse_request,
        ]

    # -- ASGI ------------------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body"):
                req = request_from_scope(scope, message.get("body", b""))  # most requests
            else:
                try:
                    req = await self.read_request(scope, receive, message)
                except spool.ClientGone:
                    return  # nobody to answer
                except OSError:
                    log.exception("could not spool a request body")
                    resp = _json_response(500, {"__type": "InternalFailure"}, ids.request_id())
                    await write_response(send, resp)
                    return
            try:
                if (
                    # what _may_be_data_plane decides first, cheaply: a path in /_..., a
                    # preflight, or a Host not known to name the plain API endpoint
                    req.path.startswith("/_")
                    or req.method == "OPTIONS"
                    or _plane_hosts.get(req.headers.get("host", "")) is not False
                ) and (req.path.startswith("/_overcast/") or _may_be_data_plane(req)):
                    resp = await self.handle(req)
                else:  # the AWS APIs, most requests: straight to the pipeline
                    resp = await self.handle_api(req)
            finally:
                if req.spool is not None:
                    req.spool.discard()
            body = resp.body
            if type(body) is bytes:  # most responses: write_response's first branch, inlined
                await send(response_start(resp, len(body)))
                await send(
                    {"type": "http.response.body", "body": b"" if req.method == "HEAD" else body}
                )
            else:
                await write_response(send, resp, req.method == "HEAD")
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def read_request(
        self, scope: dict[str, Any], receive: Any, message: dict[str, Any]
    ) -> HttpRequest:
        """The request whose first message is `message`, with its body: in memory, or spooled
        to disk for a large upload."""
        if message["type"] == "http.disconnect":
            raise spool.ClientGone()
        if not message.get("more_body"):
            return request_from_scope(scope, message.get("body", b""))
        req = request_from_scope(scope, b"")
        if self.spool_dir is None or not spool.should_spool(
            req.method, req.headers, detection.scope_of(req)[2]
        ):
            req.body = await read_body(receive, message)
            return req
        if self.refuse_body is not None:
            size = spool.declared_size(req.headers) or 0
            refusal = self.refuse_body(detection.detect(req).service, req, size)
            if refusal is not None:
                req.refused = refusal  # answered without reading the body (the server drops it)
                return req
        digests: dict[str, spool.Digest] = (
            dict(self.body_digests(req.headers)) if self.body_digests else {}
        )
        if spool.sha256_wanted(req.headers):
            digests["sha256"] = spool.new_sha256()
        decoder = chunked.UnsignedChunkDecoder() if chunked.is_aws_chunked(req) else None
        req.spool = await spool.receive_spooled(receive, message, self.spool_dir, digests, decoder)
        sha = req.spool.digests.get("sha256")
        if sha is not None:
            req.body_sha256 = sha.hex()
        return req

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if self.on_startup:
                        await self.on_startup()
                except Exception as exc:  # start-up failure must stop the server, loudly
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.on_shutdown:
                    await self.on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- routing -----------------------------------------------------------------------------------

    async def handle(self, req: HttpRequest) -> HttpResponse:
        """Answer one request; never raises."""
        if req.path.startswith("/_overcast/"):
            return self.overcast_endpoint(req)
        if not _may_be_data_plane(req) or req.refused is not None:
            return await self.handle_api(req)
        req.authenticate = functools.partial(self.authenticate_caller, req)
        if req.spool is not None and detection.scope_of(req)[2] != "s3":
            req.unspool()  # a data plane reads bytes; an upload signed for S3 can only be S3's
        for plane in self.data_planes:
            try:
                resp = await plane(req)
            except Exception:
                log.exception("data plane failed on %s %s", req.method, req.path)
                return _json_response(500, {"message": "Internal server error"})
            if resp is not None:
                return resp
        return await self.handle_api(req)

    def overcast_endpoint(self, req: HttpRequest) -> HttpResponse:
        if req.path == "/_overcast/health" and req.method in ("GET", "HEAD"):
            return _json_response(200, self.health())
        return _json_response(404, {"message": f"No such Overcast endpoint: {req.path}"})

    # -- the AWS API pipeline ---------------------------------------------------------------------

    async def handle_api(self, req: HttpRequest) -> HttpResponse:
        """The PIPELINE's steps in order, then the provider's operation and the serialization of
        its result; any error becomes the protocol's error response."""
        logging_on = self.config.log_requests
        # Positional: the cheapest construction (service and caller are filled in as found).
        ctx = RequestContext(
            ids.request_id(),
            DEFAULT_ACCOUNT,
            DEFAULT_REGION,
            "",
            "",
            None,
            None,
            _endpoint(req),
            req,
        )
        ex = Exchange(req, ctx, time.perf_counter() if logging_on else 0.0)
        try:
            if len(req.body) >= _HASH_OFF_LOOP and "x-amz-content-sha256" in req.headers:
                # A large body's payload check would stall every other request for tens of
                # milliseconds: hash it in a worker thread (hashlib releases the GIL).
                digest = await asyncio.to_thread(hashlib.sha256, req.body)
                req.body_sha256 = digest.hexdigest()
            for step in self.PIPELINE:
                step(ex)
            handler = self._handlers.get(ex.op)
            if handler is None:
                handler = self._handlers[ex.op] = self.table.resolve(ctx.service, ctx.operation)
            result = handler.fn(ctx, ex.params if ex.params is not None else {})
            if handler.is_async:
                result = await result
            resp = ex.codec.serialize(ex.op, result or {}, ctx)  # type: ignore[union-attr]
        except ServiceError as err:
            resp = self.error_response(ex, err)
        except Exception:
            log.error("request %s failed:\n%s", ex.ctx.request_id, traceback.format_exc().rstrip())
            resp = self.error_response(
                ex, InternalFailure(f"An internal error occurred (request {ex.ctx.request_id})")
            )
        if logging_on:
            self.log_line(ex, resp.status)
        return resp

    def detect_service(self, ex: Exchange) -> None:
        """Which service and protocol the request is for (headers, target, path, host)."""
        d = detection.detect(ex.req)
        ex.detected = d
        ctx = ex.ctx
        ctx.service = d.service
        ctx.region = d.region
        codec = self._codecs.get(d.service) if d.protocol is None else None
        if codec is None:
            codec = get_codec(d.service, d.protocol)
            if d.protocol is None:
                self._codecs[d.service] = codec
        ex.codec = codec
        if ex.req.refused is not None:
            raise ex.req.refused

    def authenticate(self, ex: Exchange) -> None:
        """Who is asking: verify SigV4 as the policy demands, then set account and principal."""
        assert ex.detected is not None
        strict = self.config.strict_auth
        result = (
            None
            if strict
            else sigv4.unchecked_verdict(ex.req, ex.detected.service, self.lookup_credential)
        )
        if result is None:
            result = sigv4.authenticate(
                ex.req, ex.detected, self.lookup_credential, strict=strict, now=self.clock.now()
            )
        ex.auth = result
        ctx = ex.ctx
        ctx.account_id = result.account_id
        ctx.access_key_id = result.access_key_id
        ctx.principal_arn = result.principal_arn

    def authenticate_caller(self, req: HttpRequest, service: str) -> Caller:
        """For data planes (function URLs with AWS_IAM auth): the request's signature checked
        for `service` by the same policy as the AWS APIs."""
        key, region, _ = detection.scope_of(req)
        d = detection.Detection(service, None, region or "us-east-1", key, None)
        result = sigv4.authenticate(
            req, d, self.lookup_credential, strict=self.config.strict_auth, now=self.clock.now()
        )
        return Caller(
            result.account_id, result.access_key_id, result.principal_arn, not result.anonymous
        )

    def address_bucket(self, ex: Exchange) -> None:
        """Virtual-host-style S3: from here on, route as if the bucket were in the path (after
        authentication, since the signature covers the path as sent)."""
        assert ex.detected is not None
        bucket = ex.detected.s3_bucket_host
        if bucket:
            ex.req.path = "/" + bucket + (ex.req.path if ex.req.path != "/" else "")

    def decode_body(self, ex: Exchange) -> None:
        """Undo S3's aws-chunked framing (checking chunk signatures of a verified request) so
        providers see the object's bytes and trailers."""
        headers = ex.req.headers
        if "x-amz-content-sha256" in headers or "content-encoding" in headers:  # else not chunked
            decode_request_body(ex.req, ex.auth.chunk_signer if ex.auth else None)

    def parse_request(self, ex: Exchange) -> None:
        """Which operation, and its parameters, by the service's botocore model."""
        codec, req = ex.codec, ex.req
        assert codec is not None
        ex.op = op = codec.match(req)
        known = self._operations.get(op)
        if known is None or known[0] is not codec:  # (a model's protocols share its operations)
            validator = self._validators.get(codec)
            if validator is None:
                validator = self._validators[codec] = Validator(codec.service, codec.protocol)
            known = self._operations[op] = (codec, op.name, validator.check_of(op))
        ex.ctx.operation = known[1]
        if req.spool is not None and not (ex.ctx.service == "s3" and op.has_streaming_input):
            req.unspool()  # only S3's uploads take a spooled body
        ex.params = params = codec.parse(op, req)
        check = known[2]
        if check is not None:
            check(params)

    def error_response(self, ex: Exchange, err: ServiceError) -> HttpResponse:
        if ex.codec is None:
            return _json_response(
                err.status,
                {"__type": err.code, "message": err.message},
                ex.ctx.request_id,
            )
        try:
            return ex.codec.serialize_error(ex.op, err, ex.ctx)
        except Exception:
            log.exception("could not serialize error %r", err)
            return _json_response(500, {"__type": "InternalFailure"}, ex.ctx.request_id)

    def log_line(self, ex: Exchange, status: int) -> None:
        ms = (time.perf_counter() - ex.started) * 1000
        sys.stderr.write(f"{ex.ctx.service or '-'} {ex.ctx.operation or '-'} {status} {ms:.1f}ms\n")


def _may_be_data_plane(req: HttpRequest) -> bool:
    """Whether a data plane could own `req`: its `/_aws/` paths, CORS preflights, and any host
    name other than the plain API endpoint (an IP address or `localhost`), which covers
    `*.execute-api.*`, `*.lambda-url.*` and custom domains. Saves the AWS API path the trip
    through every data plane."""
    if req.method == "OPTIONS" or req.path.startswith("/_aws/"):
        return True
    host = req.headers.get("host", "")
    found = _plane_hosts.get(host)
    if found is None:
        found = _plane_hosts.remember(host, _may_be_plane_host(host))
    return found


# Whether a Host header may name a data plane, by its text (clients send the same few).
_plane_hosts: Memo[str, bool] = Memo()


def _may_be_plane_host(host: str) -> bool:
    if host.startswith("["):
        return False  # an IPv6 literal
    name = host.partition(":")[0]
    is_ipv4 = name.count(".") == 3 and name.replace(".", "").isdigit()
    return not (is_ipv4 or name == "localhost")


def _endpoint(req: HttpRequest) -> str:
    host = req.headers.get("host") or "127.0.0.1:4566"
    return "http://" + host if req.scheme == "http" else req.scheme + "://" + host


def _json_response(status: int, body: Any, request_id: str | None = None) -> HttpResponse:
    headers = [("content-type", "application/json")]
    if request_id:
        headers.append(("x-amzn-requestid", request_id))
    return HttpResponse(status, headers, orjson.dumps(body))
