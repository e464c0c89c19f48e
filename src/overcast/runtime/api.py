"""The Lambda Runtime API, served on an environment's own loopback port.

Bootstraps (ours, `awslambdaric`, a custom `bootstrap`) build URLs as
`http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/...` with no path prefix, so each environment
listens on a port of its own and the port alone says which environment is calling. The HTTP/1.1
handling is minimal on purpose (keep-alive, Content-Length or chunked bodies): the only clients are
runtime bootstraps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from overcast.runtime.spec import Invocation

log = logging.getLogger("overcast.runtime")

PREFIX = "/2018-06-01/runtime/"
MAX_BODY = 16 * 1024 * 1024


@dataclass(slots=True)
class Outcome:
    """What the bootstrap posted for the current invocation (or for init)."""

    payload: bytes
    error_type: str | None  # None for /response; the Lambda-Runtime-Function-Error-Type otherwise
    init_error: bool = False


class RuntimeApi:
    """One environment's Runtime API endpoint.

    `offer(inv)` makes an invocation available to the next `/invocation/next`; `outcome` is a
    future resolved by `/response`, `/error` or `/init/error`. `on_next` is called each time the
    bootstrap asks for work (the first call marks the end of init).
    """

    def __init__(self, deadline_ms: Callable[[], int], on_next: Callable[[], None]) -> None:
        self._deadline_ms = deadline_ms
        self._on_next = on_next
        self._pending: asyncio.Queue[Invocation] = asyncio.Queue(maxsize=1)
        self.current: Invocation | None = None
        self.outcome: asyncio.Future[Outcome] | None = None
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self) -> int:
        """Listen on a free loopback port; return it."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=8)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    def expect_outcome(self) -> asyncio.Future[Outcome]:
        """A fresh future for the next outcome (call before `offer`, or to watch init)."""
        self.outcome = asyncio.get_running_loop().create_future()
        return self.outcome

    def offer(self, inv: Invocation) -> None:
        self.current = inv
        self._pending.put_nowait(inv)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for w in list(self._writers):
                w.close()
            for t in list(self._tasks):
                t.cancel()
            self._server = None

    # -- HTTP ---------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)  # type: ignore[arg-type]
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                method, path, headers, body = request
                status, out_headers, out_body = await self._route(method, path, headers, body)
                head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}"]
                head += [f"{k}: {v}" for k, v in out_headers]
                head.append(f"Content-Length: {len(out_body)}")
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + out_body)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return
        except asyncio.CancelledError:
            return  # close() cancels a long-poll in progress: the environment is going away
        finally:
            self._writers.discard(writer)
            if task is not None:
                self._tasks.discard(task)  # type: ignore[arg-type]
            with contextlib.suppress(Exception):
                writer.close()

    async def _route(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if not path.startswith(PREFIX):
            return _error(404, "InvalidRequest", "unknown Runtime API path")
        rest = path[len(PREFIX) :].split("?", 1)[0]
        if rest == "invocation/next" and method == "GET":
            self._on_next()
            inv = await self._pending.get()
            out = [
                ("Content-Type", "application/json"),
                ("Lambda-Runtime-Aws-Request-Id", inv.request_id),
                ("Lambda-Runtime-Deadline-Ms", str(self._deadline_ms())),
                ("Lambda-Runtime-Invoked-Function-Arn", inv.invoked_arn),
                ("Lambda-Runtime-Trace-Id", inv.trace_id),
            ]
            if inv.client_context:
                out.append(("Lambda-Runtime-Client-Context", inv.client_context))
            if inv.cognito_identity:
                out.append(("Lambda-Runtime-Cognito-Identity", inv.cognito_identity))
            return 200, out, inv.payload
        if method != "POST":
            return _error(405, "InvalidRequest", "method not allowed")
        if rest == "init/error":
            self._resolve(Outcome(body, _error_type(headers), init_error=True))
            return 202, [("Content-Type", "application/json")], b'{"status":"OK"}'
        parts = rest.split("/")
        if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            current = self.current
            if current is None or current.request_id != parts[1]:
                return _error(400, "InvalidRequestID", "Invalid request ID")
            self.current = None
            error_type = None if parts[2] == "response" else _error_type(headers)
            self._resolve(Outcome(body, error_type))
            return 202, [("Content-Type", "application/json")], b'{"status":"OK"}'
        return _error(404, "InvalidRequest", "unknown Runtime API path")

    def _resolve(self, outcome: Outcome) -> None:
        fut = self.outcome
        if fut is not None and not fut.done():
            fut.set_result(outcome)


_REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 404: "Not Found", 405: "Not Allowed"}


def _error_type(headers: dict[str, str]) -> str:
    return headers.get("lambda-runtime-function-error-type") or "Unhandled"


def _error(status: int, code: str, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    body = orjson.dumps({"errorType": code, "errorMessage": message})
    return status, [("Content-Type", "application/json")], body


async def _read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, str, dict[str, str], bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, path, _ = lines[0].split(" ", 2)
    except ValueError:
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass  # trailers
                break
            total += size
            if total > MAX_BODY:
                return None
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(chunks)
    else:
        length = int(headers.get("content-length") or 0)
        if length > MAX_BODY:
            return None
        body = await reader.readexactly(length) if length else b""
    return method, path, headers, body
