"""Template and code locations as clients send them, resolved to Overcast's S3: any endpoint
host with a path-style `/<bucket>/<key>`, the AWS forms (`s3.amazonaws.com/<bucket>/<key>`,
`s3.<region>.amazonaws.com/...`, `<bucket>.s3.amazonaws.com/<key>`) and `s3://bucket/key`."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote, urlparse

from overcast.core.errors import ServiceError
from overcast.services.cloudformation.errors import CfnValidationError

Call = Callable[[str, str, dict[str, Any]], Awaitable[dict[str, Any]]]

MAX_URL_BODY = 1_048_576
_S3_HOST = re.compile(
    r"^(?:(?P<bucket>.+)\.)?s3(?:[.-](?P<region>[a-z0-9-]+))?\.amazonaws\.com(?:\.cn)?$"
)


def parse_s3_url(url: str) -> tuple[str, str]:
    """(bucket, key) from any form a client sends: `<endpoint>/<bucket>/<key>`,
    `https://s3[.<region>].amazonaws.com/<bucket>/<key>`, `https://<bucket>.s3[...].amazonaws.com/<key>`."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https", "s3") or not parsed.netloc:
        raise CfnValidationError("TemplateURL must be a supported URL.")
    path = unquote(parsed.path).lstrip("/")
    if parsed.scheme == "s3":
        return parsed.netloc, path
    host = parsed.hostname or ""
    m = _S3_HOST.match(host)
    if m and m.group("bucket"):
        return m.group("bucket"), path
    if host.endswith(".localhost"):
        # virtual-host style against Overcast: bucket.s3.localhost or bucket.localhost
        head = host[: -len(".localhost")]
        bucket = head[: -len(".s3")] if head.endswith(".s3") else head
        if bucket and bucket != "s3":
            return bucket, path
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise CfnValidationError("TemplateURL must be a supported URL.")
    return bucket, key


async def fetch_url(call: Call, url: str) -> str:
    """The text at an S3 URL, read through Overcast's S3."""
    bucket, key = parse_s3_url(url)
    try:
        out = await call("s3", "GetObject", {"Bucket": bucket, "Key": key})
    except ServiceError as exc:
        raise CfnValidationError(
            f"S3 error: Unable to get object {key} from bucket {bucket}: {exc.message or exc.code}"
        ) from None
    body = out.get("Body", b"")
    if hasattr(body, "path"):  # a FileBody: the object as a file slice
        with open(body.path, "rb") as f:
            f.seek(body.offset)
            data = f.read() if body.length < 0 else f.read(body.length)
    elif isinstance(body, bytes | bytearray):
        data = bytes(body)
    elif hasattr(body, "read"):
        data = body.read()
    else:
        data = b"".join(body)
    if len(data) > MAX_URL_BODY:
        raise CfnValidationError("Template may not exceed 1048576 bytes in size.")
    return data.decode("utf-8")
