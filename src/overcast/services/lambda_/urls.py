"""Lambda's data plane on the edge: function URLs (by path `/_aws/lambda-url/{id}/...` or host
`{id}.lambda-url.{region}.localhost`, with the 2.0 event payload) and code download links
(`/_aws/lambda/code/...`, signed, expiring like the S3 links AWS hands out)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson

from overcast.core import ids
from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.core.http import FileBody, HttpRequest, HttpResponse
from overcast.services.lambda_.base import LambdaBase, function_arn

URL_PREFIX = "/_aws/lambda-url/"
CODE_PREFIX = "/_aws/lambda/code/"
LINK_LIFETIME = 600


class UrlsMixin(LambdaBase):
    secret: bytes

    # -- links handed out -----------------------------------------------------------------------

    def _edge(self, ctx: RequestContext) -> str:
        # URLs handed to a client are built from the address that client used, so they work
        # as printed; internal calls fall back to the server's own address.
        base = ctx.endpoint if ctx.http is not None or not self.edge_url else self.edge_url
        return base.rstrip("/")

    def function_url(self, ctx: RequestContext, url_id: str) -> str:
        return f"{self._edge(ctx)}{URL_PREFIX}{url_id}/"

    def _signed(self, ctx: RequestContext, kind: str, blob: str) -> str:
        expires = int(time.time()) + LINK_LIFETIME
        sig = hmac.new(self.secret, f"{kind}/{blob}/{expires}".encode(), hashlib.sha256)
        return f"{self._edge(ctx)}{CODE_PREFIX}{kind}/{blob}?Expires={expires}&Signature={sig.hexdigest()}"

    def code_url(self, ctx: RequestContext, fv: Any) -> str:
        return self._signed(ctx, "function", fv.code_blob)

    def layer_url(self, ctx: RequestContext, layer_version_arn: str) -> str:
        parts = layer_version_arn.split(":")
        row = self.db.query_one(
            "SELECT code_blob FROM layers WHERE account_id = ? AND region = ? AND name = ?"
            " AND version = ?",
            (parts[4], parts[3], parts[6], int(parts[7])),
        )
        return self._signed(ctx, "layer", row[0]) if row else ""

    # -- the data plane -------------------------------------------------------------------------

    async def data_plane(self, req: HttpRequest) -> HttpResponse | None:
        """Answer function URL and code download requests; None for anything else."""
        path = req.path
        if path.startswith(CODE_PREFIX):
            return self._serve_code(req)
        if path.startswith(URL_PREFIX):
            rest = path[len(URL_PREFIX) :]
            url_id, _, tail = rest.partition("/")
            return await self._serve_url(req, url_id, "/" + tail)
        host = req.host.split(":", 1)[0]
        if ".lambda-url." in host:
            return await self._serve_url(req, host.split(".", 1)[0], path)
        return None

    def _serve_code(self, req: HttpRequest) -> HttpResponse:
        kind, _, blob = req.path[len(CODE_PREFIX) :].partition("/")
        q = dict(req.query_params())
        expires = q.get("Expires", "0")
        want = hmac.new(self.secret, f"{kind}/{blob}/{expires}".encode(), hashlib.sha256)
        if (
            not hmac.compare_digest(want.hexdigest(), q.get("Signature", ""))
            or (int(expires) if expires.isdigit() else 0) < time.time()
        ):
            return HttpResponse(
                403,
                [("content-type", "application/xml")],
                b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
            )
        try:
            path = self.db.blobs.path(blob)
        except ValueError:
            return HttpResponse(404, [], b"")
        if not path.exists():
            return HttpResponse(404, [], b"")
        return HttpResponse(200, [("content-type", "application/zip")], FileBody(str(path)))

    async def _serve_url(self, req: HttpRequest, url_id: str, path: str) -> HttpResponse:
        found = self.url_target(url_id)  # type: ignore[attr-defined]
        if found is None:
            return _json(404, {"Message": None})
        ref, config = found
        cors = _cors_headers(config.get("Cors"), req)
        if req.method == "OPTIONS" and config.get("Cors"):
            return HttpResponse(200, cors, b"")
        if config.get("AuthType") == "AWS_IAM" and not _signed(req):
            return _json(403, {"Message": "Forbidden"}, cors)
        ctx = RequestContext(
            request_id=ids.request_id(),
            account_id=ref.account_id,
            region=ref.region,
            service="lambda",
            operation="Invoke",
            endpoint=f"{req.scheme}://{req.host or '127.0.0.1'}",
            http=req,
        )
        event = _event(req, url_id, path, ctx.request_id, ref.account_id)
        try:
            fv, alias = self.resolve_version(ref)
            if alias is not None:
                routed = self.pick_routed_version(ref, alias, self.rng)  # type: ignore[attr-defined]
                if routed != fv.version:
                    fv = self.require(ref, routed)
            result = await self.execute(  # type: ignore[attr-defined]
                ctx,
                fv,
                orjson.dumps(event),
                ctx.request_id,
                function_arn(ref, ref.name, ref.qualifier or ""),
            )
        except ServiceError as err:
            status = 429 if err.status == 429 else 502
            return _json(status, {"Message": err.message or None}, cors)
        headers = [("x-amzn-requestid", ctx.request_id), *cors]
        if result.error_type:
            return HttpResponse(
                502,
                [("content-type", "application/json"), *headers],
                b'{"Message":"Internal Server Error"}',
            )
        return _response(result.payload, headers)


def _event(
    req: HttpRequest, url_id: str, path: str, request_id: str, account_id: str
) -> dict[str, Any]:
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for k, v in req.header_list or list(req.headers.items()):
        k = k.lower()
        if k == "cookie":
            cookies += [c.strip() for c in v.split(";") if c.strip()]
            continue
        headers[k] = f"{headers[k]},{v}" if k in headers else v
    query: dict[str, str] = {}
    for k, v in parse_qsl(req.query_string, keep_blank_values=True):
        query[k] = f"{query[k]},{v}" if k in query else v
    body = req.body
    text_types = (
        "text/",
        "application/json",
        "application/xml",
        "application/javascript",
        "application/x-www-form-urlencoded",
    )
    ctype = req.headers.get("content-type", "")
    is_text = (not body) or any(ctype.startswith(t) for t in text_types)
    if is_text:
        try:
            body_text: str | None = body.decode() if body else None
        except UnicodeDecodeError:
            is_text = False
    if not is_text:
        body_text = base64.b64encode(body).decode()
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": unquote(path),
        "rawQueryString": req.query_string,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": url_id,
            "domainName": req.host,
            "domainPrefix": url_id,
            "http": {
                "method": req.method,
                "path": unquote(path),
                "protocol": "HTTP/1.1",
                "sourceIp": req.client_ip,
                "userAgent": req.headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body_text is not None:
        event["body"] = body_text
    return event


def _response(payload: bytes, headers: list[tuple[str, str]]) -> HttpResponse:
    """Map a function's result to HTTP as function URLs do: a dict with statusCode is a
    response description; anything else is a 200 JSON body."""
    try:
        result = orjson.loads(payload) if payload else None
    except orjson.JSONDecodeError:
        return HttpResponse(200, [("content-type", "application/json"), *headers], payload)
    if isinstance(result, dict) and "statusCode" in result:
        out = list(headers)
        for k, v in (result.get("headers") or {}).items():
            out.append((str(k).lower(), str(v)))
        for k, values in (result.get("multiValueHeaders") or {}).items():
            out += [(str(k).lower(), str(v)) for v in values]
        for cookie in result.get("cookies") or []:
            out.append(("set-cookie", str(cookie)))
        body = result.get("body")
        if body is None:
            data = b""
        elif result.get("isBase64Encoded"):
            data = base64.b64decode(str(body))
        else:
            data = body.encode() if isinstance(body, str) else orjson.dumps(body)
        if not any(k == "content-type" for k, _ in out):
            out.append(("content-type", "application/json"))
        return HttpResponse(int(result["statusCode"]), out, data)
    body_bytes = result.encode() if isinstance(result, str) else payload
    return HttpResponse(200, [("content-type", "application/json"), *headers], body_bytes)


def _cors_headers(cors: dict[str, Any] | None, req: HttpRequest) -> list[tuple[str, str]]:
    if not cors:
        return []
    origin = req.headers.get("origin")
    allowed = cors.get("AllowOrigins") or []
    if origin is None or not ("*" in allowed or origin in allowed):
        return []
    out = [("access-control-allow-origin", "*" if "*" in allowed else origin)]
    if cors.get("AllowMethods"):
        out.append(("access-control-allow-methods", ",".join(cors["AllowMethods"])))
    if cors.get("AllowHeaders"):
        out.append(("access-control-allow-headers", ",".join(cors["AllowHeaders"])))
    if cors.get("ExposeHeaders"):
        out.append(("access-control-expose-headers", ",".join(cors["ExposeHeaders"])))
    if cors.get("AllowCredentials"):
        out.append(("access-control-allow-credentials", "true"))
    if cors.get("MaxAge"):
        out.append(("access-control-max-age", str(cors["MaxAge"])))
    return out


def _json(status: int, body: Any, extra: list[tuple[str, str]] | None = None) -> HttpResponse:
    return HttpResponse(
        status, [("content-type", "application/json"), *(extra or [])], orjson.dumps(body)
    )


def _signed(req: HttpRequest) -> bool:
    """Whether a request to an AWS_IAM function URL carries a signature the edge accepts."""
    if req.authenticate is None:
        return False
    try:
        return req.authenticate("lambda").signed
    except ServiceError:
        return False
