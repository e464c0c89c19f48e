"""botocore's side of the wire: its serializer makes requests, its parsers read our responses.

Models come from a private Loader so that nothing a boto3 client does to its model (S3's client
creation rewrites requestUri in place) leaks in.
"""

from __future__ import annotations

import functools
import io
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel, Shape
from botocore.parsers import create_parser
from botocore.response import StreamingBody
from botocore.serialize import create_serializer
from urllib3._collections import HTTPHeaderDict

from overcast.core.http import FileBody, HttpRequest, HttpResponse
from tests.protocol.strategies import xml_twins

ENDPOINT = "http://127.0.0.1:4566"
_LOADER = Loader()


@functools.cache
def fresh_model(service: str) -> ServiceModel:
    """A botocore model of `service` that no client has touched."""
    return ServiceModel(_LOADER.load_service_model(service, "service-2"), service_name=service)


@functools.cache
def _serializer(protocol: str) -> Any:
    return create_serializer(protocol, include_validation=False)


def botocore_request(op: OperationModel, protocol: str, params: dict[str, Any]) -> HttpRequest:
    """`params` as botocore puts them on the wire for `op`, as the edge would receive them."""
    request_dict = _serializer(protocol).serialize_to_request(params, op)
    prepare_request_dict(request_dict, ENDPOINT)
    prepared = create_request_object(request_dict).prepare()
    url = urlsplit(prepared.url)
    headers = {
        k.lower(): v if isinstance(v, str) else v.decode() for k, v in prepared.headers.items()
    }
    headers["host"] = url.netloc
    body = prepared.body
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode("utf-8")
    elif not isinstance(body, bytes):
        body = body.read()
    return HttpRequest(prepared.method, url.path or "/", url.query, headers, body)


class RawStream:
    """What botocore's EventStream reads from (urllib3's `stream()`)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        yield self._data

    def close(self) -> None:
        pass


def response_dict(resp: HttpResponse, op: OperationModel | None) -> dict[str, Any]:
    """Our HttpResponse as botocore's endpoint hands it to a parser."""
    body = resp.body
    if isinstance(body, FileBody):
        with open(body.path, "rb") as f:
            f.seek(body.offset)
            body = f.read() if body.length < 0 else f.read(body.length)
    headers = HTTPHeaderDict()
    for k, v in resp.headers:
        headers.add(k, v)
    streaming = op is not None and resp.status < 300 and op.has_streaming_output
    payload: Any = StreamingBody(io.BytesIO(body), len(body)) if streaming else body
    if op is not None and resp.status < 300 and op.has_event_stream_output:
        payload = RawStream(body)
    return {
        "status_code": resp.status,
        "headers": headers,
        "body": payload,
        "context": {"operation_name": op.name if op else ""},
    }


def botocore_parse(
    protocol: str, resp: HttpResponse, op: OperationModel | None, shape: Shape | None
) -> Any:
    """What botocore's parser makes of our response."""
    return create_parser(protocol).parse(response_dict(resp, op), shape)


# -- normalisation: what the wire legitimately loses, applied to both sides alike -------------


class Missing:
    """Marks a value the wire cannot tell from an absent one."""


MISSING = Missing()


def normalize(shape: Shape, value: Any, *, seconds: bool = False, prune: bool = False) -> Any:
    """A comparable form of `value`:
    - timestamps → epoch milliseconds (whole seconds in headers and wherever the model says
      rfc822: HTTP-dates carry no fraction);
    - streaming bodies → bytes; str blobs → bytes;
    - with `prune` (query and XML, which cannot tell an empty map, structure or flattened list
      from an absent one): empty containers become MISSING and drop out, and so do deprecated
      members whose XML element another member also uses (see strategies.xml_twins).
    """
    if value is None:
        return MISSING
    t = shape.type_name
    if t == "structure":
        if shape.is_document_type:
            return value
        out = {}
        twins = xml_twins(shape) if prune else ()
        for name, item in value.items():
            member = shape.members.get(name)
            if member is None or name in twins:
                continue
            got = normalize(member, item, seconds=seconds, prune=prune)
            if got is not MISSING:
                out[name] = got
        return MISSING if prune and not out else out
    if t == "list":
        items = [normalize(shape.member, v, seconds=seconds, prune=prune) for v in value]
        items = [v for v in items if v is not MISSING] if prune else items
        return MISSING if prune and not items else items
    if t == "map":
        out = {}
        for k, v in value.items():
            got = normalize(shape.value, v, seconds=seconds, prune=prune)
            if got is not MISSING:
                out[k] = got
        return MISSING if prune and not out else out
    if t == "timestamp":
        if not isinstance(value, datetime):
            raise AssertionError(f"timestamp parsed as {type(value).__name__}: {value!r}")
        ms = round(value.timestamp() * 1000)
        rfc822 = str(shape.serialization.get("timestampFormat", "")).lower() == "rfc822"
        return ms // 1000 * 1000 if seconds or rfc822 else ms
    if t == "blob":
        if isinstance(value, StreamingBody):
            return value.read()
        if isinstance(value, str):
            return value.encode("utf-8")
        return bytes(value)
    if t in ("float", "double"):
        return float(value)
    return value
