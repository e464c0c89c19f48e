"""CORS: bucket rules (Put/Get/DeleteBucketCors), the headers added to ordinary responses whose
request carried an Origin, and the OPTIONS preflight, answered as a data plane because it is not
an S3 API operation."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from overcast.core import ids
from overcast.core.context import RequestContext
from overcast.core.http import HttpRequest, HttpResponse
from overcast.services.s3 import repo
from overcast.services.s3.base import Params, Result, S3Base
from overcast.services.s3.errors import InvalidRequest, MalformedXML, NoSuchCORSConfiguration

_METHODS = {"GET", "PUT", "POST", "DELETE", "HEAD"}
_VHOST = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.\-]*?)\.(?:s3[.\-][^:]*|s3|localhost)(?::\d+)?$")
_NOT_S3_HOSTS = ("execute-api", "lambda-url")


def _wild(pattern: str, value: str) -> bool:
    """S3 rule patterns: at most one `*`, matching any run of characters."""
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]").replace("?", "[?]"))


@dataclass(frozen=True, slots=True)
class Match:
    """The CORS rule that allows a request, and the headers it answers with."""

    rule: dict[str, Any]
    origin: str

    def headers(self, request_headers: list[str] | None = None) -> list[tuple[str, str]]:
        any_origin = "*" in self.rule.get("AllowedOrigins", [])
        out = [
            ("Access-Control-Allow-Origin", "*" if any_origin else self.origin),
            ("Access-Control-Allow-Methods", ", ".join(self.rule.get("AllowedMethods", []))),
        ]
        if request_headers:
            out.append(("Access-Control-Allow-Headers", ", ".join(request_headers)))
        expose = self.rule.get("ExposeHeaders")
        if expose:
            out.append(("Access-Control-Expose-Headers", ", ".join(expose)))
        if self.rule.get("MaxAgeSeconds") is not None:
            out.append(("Access-Control-Max-Age", str(self.rule["MaxAgeSeconds"])))
        if not any_origin:
            out.append(("Access-Control-Allow-Credentials", "true"))
        out.append(
            ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
        )
        return out


def match_rule(
    rules: list[dict[str, Any]], origin: str, method: str, request_headers: list[str]
) -> Match | None:
    """The first rule allowing this origin, method and every requested header."""
    for rule in rules:
        if not any(_wild(o, origin) for o in rule.get("AllowedOrigins", [])):
            continue
        if method not in rule.get("AllowedMethods", []):
            continue
        allowed = [h.lower() for h in rule.get("AllowedHeaders", [])]
        if all(any(_wild(a, h.lower()) for a in allowed) for h in request_headers):
            return Match(rule, origin)
    return None


def validate_rules(config: dict[str, Any]) -> list[dict[str, Any]]:
    """PutBucketCors's checks, with S3's messages."""
    rules = config.get("CORSRules") or []
    if not rules or len(rules) > 100:
        raise MalformedXML()
    for rule in rules:
        methods = rule.get("AllowedMethods") or []
        origins = rule.get("AllowedOrigins") or []
        if not methods or not origins:
            raise MalformedXML()
        for m in methods:
            if m not in _METHODS:
                raise InvalidRequest(
                    f"Found unsupported HTTP method in CORS config. Unsupported method is {m}"
                )
        for o in origins:
            if o.count("*") > 1:
                raise InvalidRequest(f'AllowedOrigin "{o}" can not have more than one wildcard.')
        for h in rule.get("AllowedHeaders") or []:
            if h.count("*") > 1:
                raise InvalidRequest(f'AllowedHeader "{h}" can not have more than one wildcard.')
    return [dict(r) for r in rules]


def _xml_error(status: int, code: str, message: str, extra: dict[str, str]) -> HttpResponse:
    request_id = ids.upper_id(16)
    fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in extra.items())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>{fields}"
        f"<RequestId>{request_id}</RequestId><HostId>{ids.token(48)}</HostId></Error>"
    ).encode()
    return HttpResponse(
        status,
        [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)],
        body,
    )


def bucket_of(req: HttpRequest) -> str | None:
    """The bucket an S3 URL addresses, path style or virtual-host style; None if none."""
    host = req.host.lower()
    if any(marker in host for marker in _NOT_S3_HOSTS):
        return None
    m = _VHOST.match(host)
    if m and m.group("bucket") not in ("s3", "127", "localhost"):
        return m.group("bucket")
    if req.path.startswith(("/_aws/", "/_overcast/")):
        return None
    first = req.path.lstrip("/").split("/", 1)[0]
    return first or None


class CorsMixin(S3Base):
    """Bucket CORS configuration and its enforcement."""

    def put_bucket_cors(self, ctx: RequestContext, params: Params) -> Result:
        """PutBucketCors: validated rules replace the bucket's CORS configuration."""
        rules = validate_rules(params.get("CORSConfiguration") or {})
        b = self.bucket(ctx, params.get("Bucket"))
        with self.config_transaction() as conn:
            repo.put_config(conn, b.name, "cors", rules)
        return {}

    def get_bucket_cors(self, ctx: RequestContext, params: Params) -> Result:
        b = self.bucket(ctx, params.get("Bucket"))
        rules = repo.get_config(self.db.read(), b.name, "cors")
        if not rules:
            raise NoSuchCORSConfiguration(BucketName=b.name)
        return {"CORSRules": rules}

    def delete_bucket_cors(self, ctx: RequestContext, params: Params) -> Result:
        b = self.bucket(ctx, params.get("Bucket"))
        with self.config_transaction() as conn:
            repo.delete_config(conn, b.name, "cors")
        ctx.response_status = 204
        return {}

    def apply_cors(self, ctx: RequestContext, bucket: str) -> None:
        """Add CORS headers to the response of a request that carried a matching Origin."""
        req = ctx.http
        if req is None:
            return
        origin = req.headers.get("origin")
        if not origin:
            return
        rules = self.cache.config(bucket, "cors")
        if not rules:
            return
        found = match_rule(rules, origin, req.method, [])
        if found is not None:
            ctx.response_headers.update(dict(found.headers()))

    async def data_plane(self, req: HttpRequest) -> HttpResponse | None:
        """The CORS preflight: OPTIONS on a bucket or object URL (path or virtual-host style)."""
        if req.method != "OPTIONS":
            return None
        bucket = bucket_of(req)
        if bucket is None:
            return None
        origin = req.headers.get("origin")
        method = req.headers.get("access-control-request-method")
        if self.cache.bucket(bucket) is None:
            # Not a bucket: maybe another REST API's path (/2015-03-31/functions...); let the
            # rest of the edge answer it.
            return None
        if not origin:
            return _xml_error(
                400, "BadRequest", "Insufficient information. Origin request header needed.", {}
            )
        if not method:
            return _xml_error(400, "BadRequest", "Invalid Access-Control-Request-Method: null", {})
        rules = self.cache.config(bucket, "cors")
        forbidden = {
            "Method": method,
            "ResourceType": "BUCKET" if "/" not in req.path.strip("/") else "OBJECT",
        }
        if not rules:
            return _xml_error(
                403,
                "AccessForbidden",
                "CORSResponse: CORS is not enabled for this bucket.",
                forbidden,
            )
        wanted = [
            h.strip()
            for h in req.headers.get("access-control-request-headers", "").split(",")
            if h.strip()
        ]
        found = match_rule(rules, origin, method, wanted)
        if found is None:
            return _xml_error(
                403,
                "AccessForbidden",
                "CORSResponse: This CORS request is not allowed. This is usually because the "
                "evalution of Origin, request method / Access-Control-Request-Method or "
                "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
                forbidden,
            )
        return HttpResponse(200, [*found.headers(wanted), ("Content-Length", "0")], b"")
