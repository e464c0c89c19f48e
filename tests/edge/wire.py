"""Real requests made by botocore, captured before they leave, as the edge would receive them.

`capture(client, "put_object", Bucket=..., ...)` returns an HttpRequest built from the request
botocore prepared and signed (its `before-send` event raises to stop the send). `minimal_params`
makes the smallest input an operation accepts (required members only) from the model, so a test
can loop over every operation of a service.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import io
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSRequest
from botocore.config import Config
from botocore.model import Shape, StructureShape

from overcast.core.http import HttpRequest

AK = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ENDPOINT = "http://127.0.0.1:4566"
QUEUE_URL = "http://127.0.0.1:4566/000000000000/q"


class Captured(Exception):
    """Raised from before-send to stop botocore after it signed the request."""

    def __init__(self, request: AWSPreparedRequest) -> None:
        super().__init__("captured")
        self.request = request


def _stop(request: AWSPreparedRequest, **_: Any) -> None:
    raise Captured(request)


def make_client(
    service: str,
    *,
    region: str = "us-east-1",
    endpoint: str = ENDPOINT,
    access_key: str = AK,
    secret: str = SECRET,
    config: Config | None = None,
) -> Any:
    """A boto3 client whose requests are captured instead of sent."""
    base = Config(parameter_validation=False, retries={"max_attempts": 1, "mode": "standard"})
    client = boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        config=base.merge(config) if config else base,
    )
    client.meta.events.register("before-send", _stop)
    return client


def to_http(prepared: AWSPreparedRequest | AWSRequest, client_ip: str = "127.0.0.1") -> HttpRequest:
    """The request as the edge's ASGI reader would build it."""
    url = urlsplit(prepared.url)
    header_list: list[tuple[str, str]] = []
    for name, value in prepared.headers.items():
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        header_list.append((name.lower(), text))
    if not any(n == "host" for n, _ in header_list):
        header_list.append(("host", url.netloc))
    body = prepared.body
    if body is None:
        data = b""
    elif isinstance(body, bytes | bytearray):
        data = bytes(body)
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:
        data = body.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
    headers: dict[str, str] = {}
    for name, value in header_list:
        headers[name] = headers[name] + "," + value if name in headers else value
    return HttpRequest(
        method=prepared.method,
        path=url.path or "/",
        query_string=url.query,
        headers=headers,
        body=data,
        header_list=header_list,
        client_ip=client_ip,
        scheme=url.scheme,
    )


def capture(client: Any, operation: str, **params: Any) -> HttpRequest:
    """Call `operation` (snake_case method name) and return the request botocore sent."""
    try:
        getattr(client, operation)(**params)
    except Captured as c:
        return to_http(c.request)
    raise AssertionError(f"{operation} returned without sending a request")


def from_url(
    method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> HttpRequest:
    """An HttpRequest for a (presigned) URL, as curl would send it."""
    parts = urlsplit(url)
    hl = [("host", parts.netloc), *((k.lower(), v) for k, v in (headers or {}).items())]
    return HttpRequest(
        method=method,
        path=parts.path or "/",
        query_string=parts.query,
        headers=dict(hl),
        body=body,
        header_list=hl,
    )


# -- inputs from the model -------------------------------------------------------------------


def _value(shape: Shape, depth: int) -> Any:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        return _structure(shape, depth + 1)
    if kind == "list":
        return []
    if kind == "map":
        return {}
    if kind == "string":
        return shape.enum[0] if shape.enum else "x"
    if kind in ("integer", "long"):
        return 1
    if kind in ("float", "double"):
        return 1.0
    if kind == "boolean":
        return True
    if kind == "blob":
        return b"x"
    if kind == "timestamp":
        return datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    return "x"


def _structure(shape: StructureShape, depth: int) -> dict[str, Any]:
    if depth > 6:
        return {}
    out: dict[str, Any] = {}
    for name in shape.required_members:
        out[name] = _value(shape.members[name], depth)
    if shape.is_tagged_union and shape.members and not out:
        name, member = next(iter(shape.members.items()))
        out[name] = _value(member, depth)
    return out


# Values the generic generator gets wrong for a client-side customization.
_OVERRIDES: dict[str, Any] = {
    "QueueUrl": QUEUE_URL,
    "Bucket": "bucket",
    "Key": "key",
}


def minimal_params(client: Any, operation_name: str) -> dict[str, Any]:
    """Required members only, with plausible placeholder values."""
    op = client.meta.service_model.operation_model(operation_name)
    if op.input_shape is None:
        return {}
    params = _structure(op.input_shape, 0)
    for name in params:
        if name in _OVERRIDES and op.input_shape.members[name].type_name == "string":
            params[name] = _OVERRIDES[name]
    return params


# -- aws-chunked bodies, signed by the test's own reading of the AWS documentation ---------------


def hmac_hex(key: bytes, msg: str) -> str:
    return hmac.new(key, msg.encode(), hashlib.sha256).hexdigest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    k = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def signed_chunked_body(
    chunks: list[bytes],
    *,
    key: bytes,
    amz_date: str,
    scope: str,
    seed: str,
    trailers: list[tuple[str, str]] | None = None,
) -> bytes:
    """An aws-chunked body with chained chunk signatures (and a signed trailer when given)."""
    empty = hashlib.sha256(b"").hexdigest()
    prev = seed
    out = io.BytesIO()
    for data in [*chunks, b""]:
        sts = (
            f"AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{prev}\n{empty}\n"
            f"{hashlib.sha256(data).hexdigest()}"
        )
        prev = hmac_hex(key, sts)
        out.write(f"{len(data):x};chunk-signature={prev}\r\n".encode())
        if data:
            out.write(data + b"\r\n")
    if trailers is None:
        out.write(b"\r\n")
        return out.getvalue()
    canonical = "".join(f"{k}:{v}\n" for k, v in trailers)
    sts = (
        f"AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{prev}\n"
        f"{hashlib.sha256(canonical.encode()).hexdigest()}"
    )
    for k, v in trailers:
        out.write(f"{k}:{v}\r\n".encode())
    out.write(f"x-amz-trailer-signature:{hmac_hex(key, sts)}\r\n\r\n".encode())
    return out.getvalue()
