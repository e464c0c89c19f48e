"""Reading an ASGI request into an HttpRequest and writing an HttpResponse back."""

from __future__ import annotations

import os
from typing import Any

from overcast.core.http import FileBody, HttpRequest, HttpResponse
from overcast.core.memo import Memo
from overcast.edge.spool import ClientGone

_CHUNK = 1 << 20


async def read_body(receive: Any, first: dict[str, Any] | None = None) -> bytes:
    """The request body: every `http.request` message's bytes, from `first` (if already
    received) on. Raises ClientGone if the client disconnects first."""
    message = first if first is not None else await receive()
    if message["type"] == "http.disconnect":
        raise ClientGone()
    body: bytes = message.get("body", b"")
    if not message.get("more_body"):
        return body
    chunks = [body]
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


_HEADER_NAMES: Memo[bytes, str] = Memo(512)


def request_from_scope(scope: dict[str, Any], body: bytes) -> HttpRequest:
    """An HttpRequest of an ASGI scope and its body. Header names arrive lower-cased from the
    server; a repeated header's values are joined with commas, as HTTP allows."""
    raw = scope["headers"]
    headers = {}
    known = _HEADER_NAMES.get
    for k, v in raw:
        name = known(k)
        if name is None:  # the text (with its hash) of a name clients send again and again
            name = _HEADER_NAMES.remember(k, k.decode("latin-1"))
        headers[name] = v.decode("latin-1")
    if len(headers) == len(raw):
        header_list = list(headers.items())
    else:
        header_list = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
        headers = {}
        for name, value in header_list:
            headers[name] = headers[name] + "," + value if name in headers else value
    client = scope.get("client")
    raw_path: bytes | None = scope.get("raw_path")
    if raw_path:
        path = raw_path.decode("latin-1")
        if "?" in path:
            path = path.partition("?")[0]
    else:
        path = scope["path"]
    query = scope["query_string"]
    return HttpRequest(
        scope["method"],
        path,
        query.decode("latin-1") if query else "",
        headers,
        body,
        header_list,
        client[0] if client else "127.0.0.1",
        scope.get("scheme", "http"),
    )


_CONTENT_LENGTH = b"content-length"
# Header names as bytes, by the names responses use (a few dozen). Every spelling of
# Content-Length maps to the one object above, so that a response's own length is found by
# identity.
_NAMES: Memo[str, bytes] = Memo(512)


def _name(text: str) -> bytes:
    name = text.encode("latin-1")
    if name.lower() == _CONTENT_LENGTH:
        name = _CONTENT_LENGTH
    return _NAMES.remember(text, name)


def response_start(resp: HttpResponse, length: int) -> dict[str, Any]:
    """The `http.response.start` message of `resp`, whose body is `length` bytes long (the
    Content-Length header added unless the response sets one)."""
    raw_headers = []
    has_length = False
    names = _NAMES
    for k, v in resp.headers:
        name = names.get(k)
        if name is None:
            name = _name(k)
        if name is _CONTENT_LENGTH:
            has_length = True
        raw_headers.append((name, (v if type(v) is str else str(v)).encode("latin-1")))
    if not has_length:
        raw_headers.append((_CONTENT_LENGTH, str(length).encode()))
    return {"type": "http.response.start", "status": resp.status, "headers": raw_headers}


async def write_response(send: Any, resp: HttpResponse, head_only: bool = False) -> None:
    """Send status, headers and body (a FileBody is streamed in 1 MiB chunks)."""
    body = resp.body
    if not isinstance(body, FileBody):
        await send(response_start(resp, len(body)))
        await send({"type": "http.response.body", "body": b"" if head_only else body})
        return
    length = body.length if body.length >= 0 else os.path.getsize(body.path) - body.offset
    await send(response_start(resp, length))
    if head_only or length == 0:
        await send({"type": "http.response.body", "body": b""})
        return
    with open(body.path, "rb") as f:
        f.seek(body.offset)
        remaining = length
        while remaining > 0:
            chunk = f.read(min(_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": remaining > 0})
