"""The `application/vnd.amazon.eventstream` framing of event-stream outputs (Lambda
InvokeWithResponseStream, Logs StartLiveTail/GetLogObject, S3 SelectObjectContent).

A message is: total length, headers length, prelude CRC32, headers, payload, message CRC32.
Each event of the stream member becomes one message: `:message-type: event`, `:event-type: Name`,
its `eventheader` members as typed headers, its `eventpayload` member (or, when it has none, the
document of its other members) as the payload. Modelled exceptions of the stream become
`:message-type: exception` messages. Non-rest protocols first send an `initial-response` event
holding the output's other members.

The whole stream is encoded at once: the provider returns the events as a list (or any iterable
that ends), and the response body is the concatenated messages.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from botocore.model import Shape

from overcast.protocol import timestamps

BodyWriter = Callable[[Shape, dict[str, Any]], bytes]
"""(event shape, event members) → the payload document of an event (JSON, CBOR or XML)."""

CONTENT_TYPE = "application/vnd.amazon.eventstream"


def _header(name: str, kind: int, value: bytes) -> bytes:
    raw = name.encode("utf-8")
    return struct.pack("!B", len(raw)) + raw + struct.pack("!B", kind) + value


def _string_header(name: str, value: str) -> bytes:
    data = value.encode("utf-8")
    return _header(name, 7, struct.pack("!H", len(data)) + data)


def _typed_header(name: str, shape: Shape, value: Any) -> bytes:
    t = shape.type_name
    if t == "boolean":
        return _header(name, 0 if value else 1, b"")
    if t == "byte":
        return _header(name, 2, struct.pack("!b", value))
    if t == "short":
        return _header(name, 3, struct.pack("!h", value))
    if t == "integer":
        return _header(name, 4, struct.pack("!i", value))
    if t == "long":
        return _header(name, 5, struct.pack("!q", value))
    if t == "blob":
        data = bytes(value)
        return _header(name, 6, struct.pack("!H", len(data)) + data)
    if t == "timestamp":
        ms = round(timestamps.to_datetime(value).timestamp() * 1000)
        return _header(name, 8, struct.pack("!q", ms))
    return _string_header(name, str(value))


def message(headers: bytes, payload: bytes) -> bytes:
    """One framed event-stream message."""
    total = 16 + len(headers) + len(payload)
    prelude = struct.pack("!II", total, len(headers))
    prelude += struct.pack("!I", zlib.crc32(prelude))
    body = prelude + headers + payload
    return body + struct.pack("!I", zlib.crc32(body))


def initial_response(payload: bytes, content_type: str) -> bytes:
    """The `initial-response` event that json and CBOR streams open with."""
    headers = (
        _string_header(":message-type", "event")
        + _string_header(":event-type", "initial-response")
        + _string_header(":content-type", content_type)
    )
    return message(headers, payload)


class EventStreamWriter:
    """Encodes the events of one event-stream shape."""

    def __init__(self, stream: Shape, body: BodyWriter, content_type: str) -> None:
        self._stream = stream
        self._body = body
        self._content_type = content_type

    def encode(self, events: Iterable[dict[str, Any]]) -> bytes:
        """Every event (`{"EventName": {members}}`) as framed messages."""
        out = bytearray()
        members = self._stream.members
        for event in events:
            for name, value in event.items():
                shape = members.get(name)
                if shape is not None and value is not None:
                    out += self._event(name, shape, value)
        return bytes(out)

    def _event(self, name: str, shape: Shape, value: dict[str, Any]) -> bytes:
        exception = bool(shape.metadata.get("exception"))
        headers = _string_header(":message-type", "exception" if exception else "event")
        headers += _string_header(":exception-type" if exception else ":event-type", name)
        payload = b""
        content_type: str | None = None
        payload_member = None
        for member_name, member in shape.members.items():
            if member.serialization.get("eventpayload"):
                payload_member = member_name
            elif member.serialization.get("eventheader") and value.get(member_name) is not None:
                headers += _typed_header(member_name, member, value[member_name])
        if payload_member is not None:
            member = shape.members[payload_member]
            item = value.get(payload_member)
            if member.type_name == "blob":
                payload, content_type = bytes(item or b""), "application/octet-stream"
            elif member.type_name == "string":
                payload, content_type = (item or "").encode("utf-8"), "text/plain"
            elif item is not None:
                payload, content_type = self._body(member, item), self._content_type
        else:
            plain = {
                k: v
                for k, v in value.items()
                if k in shape.members and not shape.members[k].serialization.get("eventheader")
            }
            payload, content_type = self._body(shape, plain), self._content_type
        if content_type is not None:
            headers += _string_header(":content-type", content_type)
        return message(headers, payload)
