"""S3's Signature Version 2 (header `AWS AK:signature`, presigned `AWSAccessKeyId/Signature/
Expires`), still what boto3 presigns with in us-east-1 by default (pure functions).

StringToSign = method, Content-MD5, Content-Type, Date (or Expires for a presigned URL; empty when
x-amz-date is sent), the x-amz-* headers, then the resource: /bucket/key plus the sub-resources of
the query string; the signature is base64(HMAC-SHA1(secret, StringToSign)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import unquote_to_bytes

from overcast.core.http import HttpRequest
from overcast.edge.canonical import uri_encode

# The query parameters that are part of the resource being signed.
SUBRESOURCES = frozenset(
    [
        "accelerate",
        "acl",
        "analytics",
        "cors",
        "defaultObjectAcl",
        "delete",
        "encryption",
        "intelligent-tiering",
        "inventory",
        "legal-hold",
        "lifecycle",
        "location",
        "logging",
        "metrics",
        "notification",
        "object-lock",
        "ownershipControls",
        "partNumber",
        "policy",
        "policyStatus",
        "publicAccessBlock",
        "replication",
        "requestPayment",
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
        "response-content-language",
        "response-content-type",
        "response-expires",
        "restore",
        "retention",
        "select",
        "select-type",
        "storageClass",
        "tagging",
        "torrent",
        "uploadId",
        "uploads",
        "versionId",
        "versioning",
        "versions",
        "website",
    ]
)


def strings_to_sign(req: HttpRequest, expires: int | None, bucket: str | None) -> list[str]:
    """Candidate strings to sign, most likely first (the path as sent, then re-encoded by AWS's
    rule). `expires` is the presigned URL's Expires; `bucket` the virtual-host bucket."""
    headers = dict(req.headers)
    pairs = list(req.header_list or headers.items())
    if expires is not None:
        date_line = str(expires)
        # A presigned URL carries the x-amz-* headers, Content-MD5 and Content-Type it was
        # signed with in its query string.
        for name, value in req.query_params():
            lname = name.lower()
            if lname.startswith("x-amz-") or lname in ("content-md5", "content-type"):
                pairs.append((lname, value))
                headers.setdefault(lname, value)
    else:
        date_line = "" if "x-amz-date" in headers else headers.get("date", "")
    amz: dict[str, list[str]] = {}
    for k, v in pairs:
        lk = k.lower()
        if lk.startswith("x-amz-"):
            amz.setdefault(lk, []).append(v.strip())
    amz_lines = "".join(f"{k}:{','.join(amz[k])}\n" for k in sorted(amz))
    prefix = (
        f"{req.method.upper()}\n{headers.get('content-md5', '')}\n"
        f"{headers.get('content-type', '')}\n{date_line}\n{amz_lines}"
    )
    base = f"/{bucket}" if bucket else ""
    sub: list[tuple[str, str]] = []
    for part in req.query_string.split("&") if req.query_string else ():
        name, eq, value = part.partition("=")
        if name in SUBRESOURCES:
            decoded = unquote_to_bytes(value).decode("utf-8", "replace")
            sub.append((name, f"{name}={decoded}" if eq else name))
    sub.sort(key=lambda p: p[0])
    suffix = ("?" + "&".join(s for _, s in sub)) if sub else ""
    paths = [req.path or "/"]
    reencoded = uri_encode(paths[0], "/~")
    if reencoded != paths[0]:
        paths.append(reencoded)
    return [f"{prefix}{base}{path}{suffix}" for path in paths]


def signature(secret_key: str, string_to_sign: str) -> str:
    """base64(HMAC-SHA1(secret, string_to_sign))."""
    digest = hmac.new(secret_key.encode(), string_to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()
