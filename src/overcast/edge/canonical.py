"""The SigV4 canonical request, built from a request as it arrived (pure functions).

AWS's rules: the method; the URI path (S3: encoded once, as sent; other services: normalized and
encoded a second time); the query string with names and values URI-encoded and sorted; the signed
headers, lower-cased, values trimmed with inner runs of spaces collapsed and repeats joined by
commas; the list of signed headers; the payload hash. The string to sign hashes that.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from urllib.parse import quote, unquote_to_bytes

from overcast.core.http import HttpRequest

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def uri_encode(raw: str, safe: str) -> str:
    """Percent-decode then encode with AWS's rule: unreserved characters (and `safe`) stay."""
    return quote(unquote_to_bytes(raw), safe=safe)


def canonical_query(query_string: str, exclude: str | None = None) -> str:
    """The canonical query string: names and values URI-encoded, sorted by name then value."""
    if not query_string:
        return ""
    pairs = []
    for part in query_string.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if exclude is not None and name == exclude:
            continue
        pairs.append((uri_encode(name, "-_.~"), uri_encode(value, "-_.~")))
    pairs.sort()
    return "&".join(f"{n}={v}" for n, v in pairs)


def _raw_sorted_query(query_string: str, exclude: str | None) -> str:
    pairs = []
    for part in query_string.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if exclude is None or name != exclude:
            pairs.append((name, value))
    pairs.sort()
    return "&".join(f"{n}={v}" for n, v in pairs)


def remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4, plus AWS's collapsing of empty segments (consecutive slashes)."""
    out: list[str] = []
    for seg in path.split("/"):
        if not seg or seg == ".":
            continue
        if seg == "..":
            if out:
                out.pop()
        else:
            out.append(seg)
    lead = "/" if path.startswith("/") else ""
    trail = "/" if path.endswith("/") and out else ""
    return lead + "/".join(out) + trail


def canonical_uris(path: str, s3: bool) -> list[str]:
    """Candidate canonical URIs, most likely first. S3 signs the path encoded once, as is; other
    services normalize it and encode the already-encoded path again."""
    if not path:
        path = "/"
    if s3:
        once = uri_encode(path, "/~")
        return [once] if once == path else [once, path]
    return [quote(remove_dot_segments(path) or "/", safe="/~")]


def canonical_headers(req: HttpRequest, names: tuple[str, ...]) -> str:
    """`name:value\\n` for each signed header: values trimmed, inner runs of spaces collapsed,
    repeated headers joined with commas."""
    lines = []
    if req.header_list:
        values: dict[str, list[str]] = {}
        wanted = set(names)
        for k, v in req.header_list:
            lk = k.lower()
            if lk in wanted:
                values.setdefault(lk, []).append(" ".join(v.split()))
        for name in names:
            lines.append(f"{name}:{','.join(values.get(name, ()))}\n")
    else:
        for name in names:
            lines.append(f"{name}:{' '.join(req.headers.get(name, '').split())}\n")
    return "".join(lines)


def payload_hash(req: HttpRequest, presigned: bool, s3: bool) -> str:
    """The payload hash the client put in the canonical request: x-amz-content-sha256 when
    sent; for an S3 presigned URL UNSIGNED-PAYLOAD (or its X-Amz-Content-Sha256 parameter);
    else the SHA-256 of the body."""
    declared = req.headers.get("x-amz-content-sha256")
    if declared is not None:
        return declared
    if presigned and s3:
        for name, value in req.query_params():
            if name == "X-Amz-Content-Sha256":
                return value
        return UNSIGNED_PAYLOAD
    if req.body_sha256 is not None:
        return req.body_sha256
    return hashlib.sha256(req.body).hexdigest() if req.body else EMPTY_SHA256


@lru_cache(maxsize=256)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The SigV4 signing key for a scope (AWS4+secret → date → region → service → aws4_request)."""
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def hmac_hex(key: bytes, msg: str) -> str:
    """Hex HMAC-SHA256 of a string."""
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).hexdigest()


def string_to_sign(amz_date: str, scope: str, canonical_request: str) -> str:
    """The SigV4 string to sign for a canonical request."""
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


def canonical_requests(
    req: HttpRequest, signed_headers: tuple[str, ...], presigned: bool, s3: bool
) -> list[str]:
    """Candidate canonical requests: the first is AWS's rule applied to what arrived; the others
    tolerate clients that left a character unencoded and signed it that way."""
    exclude = "X-Amz-Signature" if presigned else None
    queries = [canonical_query(req.query_string, exclude)]
    raw_query = _raw_sorted_query(req.query_string, exclude)
    if raw_query != queries[0]:
        queries.append(raw_query)
    head = canonical_headers(req, signed_headers)
    signed = ";".join(signed_headers)
    body_hash = payload_hash(req, presigned, s3)
    return [
        f"{req.method.upper()}\n{uri}\n{query}\n{head}\n{signed}\n{body_hash}"
        for uri in canonical_uris(req.path, s3)
        for query in queries
    ]
