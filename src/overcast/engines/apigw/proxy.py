"""Lambda proxy integration: the event API Gateway sends (REST/payload 1.0, HTTP/payload 2.0) and
how the function's answer is mapped back to an HTTP response."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


class MalformedProxyResponse(ValueError):
    """The function's answer is not a valid proxy response (→ 502)."""


@dataclass
class ProxyRequest:
    """One data-plane request, normalised: path without the stage, decoded pieces kept raw too."""

    method: str
    path: str  # decoded, without stage prefix ("/products/1")
    raw_path: str  # as sent, without stage prefix, still percent-encoded
    query_string: str
    header_list: list[tuple[str, str]]
    body: bytes
    source_ip: str
    request_id: str
    api_id: str
    stage: str
    account_id: str
    domain_name: str
    time_epoch_ms: int
    stage_variables: dict[str, str] = field(default_factory=dict)
    is_base64: bool = False

    def query_pairs(self) -> list[tuple[str, str]]:
        """Decoded query (name, value) pairs in order, blanks kept."""
        return parse_qsl(self.query_string, keep_blank_values=True)

    def header(self, name: str) -> str | None:
        """The last value of a header, case-insensitively."""
        lname = name.lower()
        found = None
        for k, v in self.header_list:
            if k.lower() == lname:
                found = v
        return found

    @property
    def user_agent(self) -> str:
        return self.header("user-agent") or ""

    def body_text(self) -> str:
        """The body as the event carries it (base64 when binary)."""
        if self.is_base64:
            return base64.b64encode(self.body).decode()
        return self.body.decode("utf-8", errors="replace")


def forwarded_headers(
    header_list: list[tuple[str, str]], client_ip: str, scheme: str, trace_id: str
) -> list[tuple[str, str]]:
    """The request headers plus those API Gateway adds in front of the integration
    (X-Forwarded-For/-Port/-Proto, X-Amzn-Trace-Id), as a function sees them."""
    names = {k.lower() for k, _ in header_list}
    out = list(header_list)
    host = next((v for k, v in header_list if k.lower() == "host"), "")
    port = host.rsplit(":", 1)[1] if ":" in host else ("443" if scheme == "https" else "80")
    if "x-forwarded-for" in names:
        out = [(k, f"{v}, {client_ip}" if k.lower() == "x-forwarded-for" else v) for k, v in out]
    else:
        out.append(("X-Forwarded-For", client_ip))
    if "x-forwarded-port" not in names:
        out.append(("X-Forwarded-Port", port))
    if "x-forwarded-proto" not in names:
        out.append(("X-Forwarded-Proto", scheme))
    if "x-amzn-trace-id" not in names:
        out.append(("X-Amzn-Trace-Id", trace_id))
    return out


def trace_id(epoch_s: float, random_hex: str) -> str:
    """An X-Ray trace header value: Root=1-{time hex}-{24 hex digits}."""
    return f"Root=1-{int(epoch_s):08x}-{random_hex[:24]}"


def clf_time(epoch_ms: int) -> str:
    """Common-log-format time, as requestContext.requestTime: 09/Apr/2015:12:34:56 +0000."""
    t = time.gmtime(epoch_ms / 1000)
    return (
        f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


def _domain_prefix(domain: str) -> str:
    return domain.split(".", 1)[0]


# The edge sees header names lower-cased (HTTP servers fold them); payload 1.0 events carry them
# as clients send them, which for the standard ones is this spelling.
_CANONICAL = {
    name.lower(): name
    for name in (
        "Accept", "Accept-Encoding", "Accept-Language", "Authorization", "Cache-Control",
        "Content-Encoding", "Content-Length", "Content-Type", "Cookie", "Host", "If-Match",
        "If-Modified-Since", "If-None-Match", "Origin", "Pragma", "Range", "Referer",
        "Upgrade-Insecure-Requests", "User-Agent", "X-Amzn-Trace-Id", "X-Forwarded-For",
        "X-Forwarded-Port", "X-Forwarded-Proto", "X-Requested-With",
    )
}  # fmt: skip


def header_name(name: str) -> str:
    """A header name as a payload 1.0 event shows it."""
    return _CANONICAL.get(name.lower(), name)


def rest_event(
    req: ProxyRequest,
    *,
    resource_path: str,
    resource_id: str,
    path_params: dict[str, str],
    authorizer: dict[str, Any] | None = None,
    api_key: str | None = None,
    api_key_id: str | None = None,
    full_path_with_stage: bool = True,
    raw_path: bool = True,
) -> dict[str, Any]:
    """The payload format 1.0 event (REST API proxy, or HTTP API with payloadFormatVersion 1.0).

    REST APIs pass the path percent-encoded (raw_path=True); HTTP APIs pass it decoded."""
    headers: dict[str, str] = {}
    mv_headers: dict[str, list[str]] = {}
    for k, v in req.header_list:
        name = header_name(k)
        headers[name] = v
        mv_headers.setdefault(name, []).append(v)
    qs: dict[str, str] = {}
    mv_qs: dict[str, list[str]] = {}
    for k, v in req.query_pairs():
        qs[k] = v
        mv_qs.setdefault(k, []).append(v)
    identity: dict[str, Any] = {
        "cognitoIdentityPoolId": None,
        "accountId": None,
        "cognitoIdentityId": None,
        "caller": None,
        "sourceIp": req.source_ip,
        "principalOrgId": None,
        "accessKey": None,
        "cognitoAuthenticationType": None,
        "cognitoAuthenticationProvider": None,
        "userArn": None,
        "userAgent": req.user_agent,
        "user": None,
    }
    if api_key is not None:
        identity["apiKey"] = api_key
        identity["apiKeyId"] = api_key_id
    ctx: dict[str, Any] = {
        "resourceId": resource_id,
        "resourcePath": resource_path,
        "httpMethod": req.method,
        "extendedRequestId": req.request_id,
        "requestTime": clf_time(req.time_epoch_ms),
        "path": (f"/{req.stage}" + req.raw_path) if full_path_with_stage else req.raw_path,
        "accountId": req.account_id,
        "protocol": "HTTP/1.1",
        "stage": req.stage,
        "domainPrefix": _domain_prefix(req.domain_name),
        "requestTimeEpoch": req.time_epoch_ms,
        "requestId": req.request_id,
        "identity": identity,
        "domainName": req.domain_name,
        "apiId": req.api_id,
    }
    if authorizer is not None:
        ctx["authorizer"] = authorizer
    return {
        "resource": resource_path,
        "path": req.raw_path if raw_path else req.path,
        "httpMethod": req.method,
        "headers": headers or None,
        "multiValueHeaders": mv_headers or None,
        "queryStringParameters": qs or None,
        "multiValueQueryStringParameters": mv_qs or None,
        "pathParameters": path_params or None,
        "stageVariables": req.stage_variables or None,
        "requestContext": ctx,
        "body": req.body_text() if req.body else None,
        "isBase64Encoded": req.is_base64,
    }


def http_event(
    req: ProxyRequest,
    *,
    route_key: str,
    path_params: dict[str, str],
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The payload format 2.0 event (HTTP API)."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for k, v in req.header_list:
        lk = k.lower()
        if lk == "cookie":
            cookies.extend(c.strip() for c in v.split(";") if c.strip())
            continue
        headers[lk] = f"{headers[lk]},{v}" if lk in headers else v
    qs: dict[str, str] = {}
    for k, v in req.query_pairs():
        qs[k] = f"{qs[k]},{v}" if k in qs else v
    stage_prefix = "" if req.stage == "$default" else f"/{req.stage}"
    # HTTP APIs hand the function the decoded path.
    full_path = stage_prefix + req.path
    ctx: dict[str, Any] = {
        "accountId": req.account_id,
        "apiId": req.api_id,
        "domainName": req.domain_name,
        "domainPrefix": _domain_prefix(req.domain_name),
        "http": {
            "method": req.method,
            "path": stage_prefix + req.path,
            "protocol": "HTTP/1.1",
            "sourceIp": req.source_ip,
            "userAgent": req.user_agent,
        },
        "requestId": req.request_id,
        "routeKey": route_key,
        "stage": req.stage,
        "time": clf_time(req.time_epoch_ms),
        "timeEpoch": req.time_epoch_ms,
    }
    if authorizer is not None:
        ctx["authorizer"] = authorizer
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": full_path,
        "rawQueryString": req.query_string,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if qs:
        event["queryStringParameters"] = qs
    if path_params:
        event["pathParameters"] = path_params
    if req.stage_variables:
        event["stageVariables"] = req.stage_variables
    event["requestContext"] = ctx
    if req.body:
        event["body"] = req.body_text()
    event["isBase64Encoded"] = req.is_base64
    return event


@dataclass
class ProxyResult:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    is_base64: bool = False


def _body_bytes(body: Any, is_b64: bool) -> bytes:
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedProxyResponse("body must be a string")
    if is_b64:
        try:
            return base64.b64decode(body)
        except ValueError as exc:
            raise MalformedProxyResponse("invalid base64 body") from exc
    return body.encode()


def _status(value: Any) -> int:
    if isinstance(value, bool):
        raise MalformedProxyResponse("statusCode must be a number")
    try:
        code = int(value)
    except (TypeError, ValueError) as exc:
        raise MalformedProxyResponse("statusCode must be a number") from exc
    if not 100 <= code <= 599:
        raise MalformedProxyResponse("statusCode out of range")
    return code


def _str(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


_V1_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}


def parse_rest_response(payload: bytes) -> ProxyResult:
    """A payload 1.0 function answer → the HTTP response (raises MalformedProxyResponse)."""
    try:
        data = json.loads(payload or b"null")
    except ValueError as exc:
        raise MalformedProxyResponse("not JSON") from exc
    if not isinstance(data, dict) or "statusCode" not in data:
        raise MalformedProxyResponse("statusCode missing")
    status = _status(data["statusCode"])
    headers: list[tuple[str, str]] = []
    single = data.get("headers")
    multi = data.get("multiValueHeaders")
    single = {} if single is None else single
    multi = {} if multi is None else multi
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise MalformedProxyResponse("headers must be objects")
    seen: set[str] = set()
    for k, vs in multi.items():
        if not isinstance(vs, list):
            raise MalformedProxyResponse("multiValueHeaders values must be lists")
        seen.add(k.lower())
        headers.extend((k, _str(v)) for v in vs)
    for k, v in single.items():
        if k.lower() not in seen:
            headers.append((k, _str(v)))
    is_b64 = bool(data.get("isBase64Encoded"))
    return ProxyResult(status, headers, _body_bytes(data.get("body"), is_b64), is_b64)


def parse_http_response(payload: bytes) -> ProxyResult:
    """A payload 2.0 function answer → the HTTP response; a bare value means 200 + JSON."""
    try:
        data = json.loads(payload or b"null")
    except ValueError:
        return ProxyResult(200, [("content-type", "application/json")], payload)
    if not isinstance(data, dict) or "statusCode" not in data:
        text = data if isinstance(data, str) else json.dumps(data)
        return ProxyResult(200, [("content-type", "application/json")], text.encode())
    status = _status(data["statusCode"])
    headers: list[tuple[str, str]] = []
    h = data.get("headers") or {}
    if not isinstance(h, dict):
        raise MalformedProxyResponse("headers must be an object")
    for k, v in h.items():
        headers.append((k, _str(v)))
    for k, vs in (data.get("multiValueHeaders") or {}).items():
        for v in vs if isinstance(vs, list) else [vs]:
            headers.append((k, _str(v)))
    cookies = data.get("cookies") or []
    if not isinstance(cookies, list):
        raise MalformedProxyResponse("cookies must be a list")
    headers.extend(("set-cookie", str(c)) for c in cookies)
    is_b64 = bool(data.get("isBase64Encoded"))
    body = _body_bytes(data.get("body"), is_b64)
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("content-type", "application/json"))
    return ProxyResult(status, headers, body, is_b64)
