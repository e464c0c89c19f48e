"""Reading an ASGI request into an HttpRequest and writing an HttpResponse back."""

from __future__ import annotations

import os
from typing import Any

from overcast.core.http import FileBody, HttpRequest, HttpResponse

_CHUNK = 1 << 20


async def read_request(scope: dict[str, Any], receive: Any) -> HttpRequest:
    """The whole request, body included. Header names arrive lower-cased from the server."""
    header_list = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
    headers = dict(header_list)
    if len(headers) != len(header_list):
        # A repeated header: join its values with commas, as HTTP allows.
        headers = {}
        for name, value in header_list:
            headers[name] = headers[name] + "," + value if name in headers else value
    message = await receive()
    body: bytes = message.get("body", b"")
    if message.get("more_body"):
        chunks = [body]
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
    client = scope.get("client")
    raw_path: bytes | None = scope.get("raw_path")
    return HttpRequest(
        method=scope["method"],
        path=raw_path.decode("latin-1").partition("?")[0] if raw_path else scope["path"],
        query_string=scope["query_string"].decode("latin-1"),
        headers=headers,
        body=body,
        header_list=header_list,
        client_ip=client[0] if client else "127.0.0.1",
        scheme=scope.get("scheme", "http"),
    )


async def write_response(send: Any, resp: HttpResponse, head_only: bool = False) -> None:
    """Send status, headers and body (a FileBody is streamed in 1 MiB chunks)."""
    body = resp.body
    raw_headers = [(k.encode("latin-1"), str(v).encode("latin-1")) for k, v in resp.headers]
    has_length = False
    for name, _ in raw_headers:  # a plain loop: any() over a generator costs more, per request
        if len(name) == 14 and name.lower() == b"content-length":
            has_length = True
            break
    if isinstance(body, FileBody):
        length = body.length if body.length >= 0 else os.path.getsize(body.path) - body.offset
        if not has_length:
            raw_headers.append((b"content-length", str(length).encode()))
        await send({"type": "http.response.start", "status": resp.status, "headers": raw_headers})
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
                await send(
                    {"type": "http.response.body", "body": chunk, "more_body": remaining > 0}
                )
        return
    if not has_length:
        raw_headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": resp.status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": b"" if head_only else body})
