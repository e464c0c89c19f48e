"""The floor: a minimal ASGI app on the same server stack as Overcast (uvicorn, uvloop, httptools,
and Overcast's coalescing connection protocol), answering every request with a small fixed body.
Usage: python -m bench.floor PORT"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn

from overcast.edge.http1 import CoalescingHttpToolsProtocol

BODY = b'{"ok":true}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while True:
        message = await receive()
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        loop="uvloop",
        http=CoalescingHttpToolsProtocol,
        lifespan="off",
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=False,
        proxy_headers=False,
    )
