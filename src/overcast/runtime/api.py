"""The Lambda Runtime API, served on an environment's own loopback port.

Bootstraps (ours, `awslambdaric`, a custom `bootstrap`) build URLs as
`http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/...` with no path prefix, so each environment
listens on a port of its own and the port alone says which environment is calling. The HTTP/1.1
handling is minimal on purpose (keep-alive, Content-Length or chunked bodies): the only clients are
runtime bootstraps.

It is a plain `asyncio.Protocol` rather than streams: a warm invocation is one `/next` answered
from `offer` and one `/response` resolving a future, each handled synchronously in
`data_received` — no task, no extra await, one `transport.write` per response. A `/next` that
arrives before there is work parks its connection until `offer`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from overcast.runtime.spec import Invocation

log = logging.getLogger("overcast.runtime")

PREFIX = "/2018-06-01/runtime/"
MAX_BODY = 16 * 1024 * 1024
MAX_HEAD = 64 * 1024

_ACCEPTED = (
    b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n"
    b'{"status":"OK"}'
)


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
        self._pending: Invocation | None = None  # offered, not yet handed to a /next
        self._waiters: list[_Connection] = []  # connections parked in /next, oldest first
        self._conns: set[_Connection] = set()
        self.current: Invocation | None = None
        self.outcome: asyncio.Future[Outcome] | None = None
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    async def start(self) -> int:
        """Listen on a free loopback port; return it."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self), "127.0.0.1", 0, backlog=8
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    def expect_outcome(self) -> asyncio.Future[Outcome]:
        """A fresh future for the next outcome (call before `offer`, or to watch init)."""
        self.outcome = asyncio.get_running_loop().create_future()
        return self.outcome

    def offer(self, inv: Invocation) -> None:
        """Hand `inv` to the parked `/next` if there is one, else keep it for the next one."""
        if self._pending is not None:
            raise RuntimeError("an invocation is already pending")
        self.current = inv
        while self._waiters:
            conn = self._waiters.pop(0)
            if conn.send_next(inv):
                return
        self._pending = inv

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for conn in list(self._conns):
                conn.abort()
            self._conns.clear()
            self._waiters.clear()
            self._server = None

    # -- requests (called by connections) -----------------------------------------------------

    def _next(self, conn: _Connection) -> None:
        """`GET /invocation/next`: answer now if work is pending, else park the connection."""
        self._on_next()
        inv = self._pending
        if inv is not None:
            self._pending = None
            conn.out.append(self._next_response(inv))
        else:
            conn.parked = True
            self._waiters.append(conn)

    def _post(self, rest: str, headers: dict[str, str], body: bytes) -> bytes:
        """`POST` to init/error or invocation/{id}/response|error: the raw HTTP response."""
        if rest == "init/error":
            self._resolve(Outcome(body, _error_type(headers), init_error=True))
            return _ACCEPTED
        parts = rest.split("/")
        if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            current = self.current
            if current is None or current.request_id != parts[1]:
                return _error(400, "InvalidRequestID", "Invalid request ID")
            self.current = None
            error_type = None if parts[2] == "response" else _error_type(headers)
            self._resolve(Outcome(body, error_type))
            return _ACCEPTED
        return _error(404, "InvalidRequest", "unknown Runtime API path")

    def _next_response(self, inv: Invocation) -> bytes:
        payload = inv.payload
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f"Lambda-Runtime-Aws-Request-Id: {inv.request_id}\r\n"
            f"Lambda-Runtime-Deadline-Ms: {self._deadline_ms()}\r\n"
            f"Lambda-Runtime-Invoked-Function-Arn: {inv.invoked_arn}\r\n"
            f"Lambda-Runtime-Trace-Id: {inv.trace_id}\r\n"
        )
        if inv.client_context:
            head += f"Lambda-Runtime-Client-Context: {inv.client_context}\r\n"
        if inv.cognito_identity:
            head += f"Lambda-Runtime-Cognito-Identity: {inv.cognito_identity}\r\n"
        head += f"Content-Length: {len(payload)}\r\n\r\n"
        return head.encode("latin-1", "replace") + payload

    def _resolve(self, outcome: Outcome) -> None:
        fut = self.outcome
        if fut is not None and not fut.done():
            fut.set_result(outcome)


class _Connection(asyncio.Protocol):
    """One keep-alive connection from the bootstrap. Requests are parsed from a buffer as bytes
    arrive; while a `/next` is parked, later bytes wait in the buffer (no pipelining past it)."""

    __slots__ = ("api", "buf", "closed", "out", "parked", "transport")

    def __init__(self, api: RuntimeApi) -> None:
        self.api = api
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.out: list[bytes] = []  # responses not yet written
        self.parked = False
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.api._conns.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.api._conns.discard(self)
        if self.parked:
            self.parked = False
            try:
                self.api._waiters.remove(self)
            except ValueError:
                pass

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.parked:
            self._process()

    def send_next(self, inv: Invocation) -> bool:
        """Answer this connection's `/next` with `inv`; False if the connection is gone."""
        self.parked = False
        if self.closed or self.transport is None or self.transport.is_closing():
            return False
        self.out.append(self.api._next_response(inv))
        if self.buf:
            self._process()  # requests that arrived while parked
        if self.out and not self.parked:
            self._write()
        return True

    def _write(self) -> None:
        assert self.transport is not None
        out = self.out
        self.transport.write(out[0] if len(out) == 1 else b"".join(out))
        out.clear()

    def _process(self) -> None:
        """Handle every complete request in the buffer. Responses are gathered and written
        once; when the last request parks in `/next`, the responses before it (the 202 of a
        pipelined `/response`) wait to go out with the invocation — the client already sent
        `/next`, so it waits for that anyway, and it is woken once instead of twice."""
        buf = self.buf
        while buf and not self.parked and not self.closed:
            try:
                request = _parse(buf)
            except _Malformed:
                self.abort()
                return
            if request is None:
                break
            method, path, headers, body, used = request
            del buf[:used]
            self._route(method, path, headers, body)
        if self.out and not self.parked and not self.closed:
            self._write()

    def _route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        if not path.startswith(PREFIX):
            self.out.append(_error(404, "InvalidRequest", "unknown Runtime API path"))
            return
        rest = path[len(PREFIX) :].split("?", 1)[0]
        if rest == "invocation/next" and method == "GET":
            self.api._next(self)
            return
        if method != "POST":
            self.out.append(_error(405, "InvalidRequest", "method not allowed"))
            return
        self.out.append(self.api._post(rest, headers, body))


_REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 404: "Not Found", 405: "Not Allowed"}


class _Malformed(Exception):
    """Bytes that cannot be a request (or one too large): the connection is dropped."""


def _error_type(headers: dict[str, str]) -> str:
    return headers.get("lambda-runtime-function-error-type") or "Unhandled"


def _error(status: int, code: str, message: str) -> bytes:
    body = orjson.dumps({"errorType": code, "errorMessage": message})
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def _parse(
    buf: bytearray,
) -> tuple[str, str, dict[str, str], bytes, int] | None:
    """One complete request from the start of `buf`: (method, path, lower-cased headers, body,
    bytes used); None if more bytes are needed. Raises _Malformed if it cannot be a request."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > MAX_HEAD:
            raise _Malformed
        return None
    lines = buf[:end].decode("latin-1").split("\r\n")
    try:
        method, path, _ = lines[0].split(" ", 2)
    except ValueError:
        raise _Malformed from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        k, sep, v = line.partition(":")
        if sep:
            headers[k.strip().lower()] = v.strip()
    start = end + 4
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunked = _parse_chunked(buf, start)
        if chunked is None:
            return None
        body, used = chunked
        return method, path, headers, body, used
    try:
        length = int(headers.get("content-length") or 0)
    except ValueError:
        raise _Malformed from None
    if length < 0 or length > MAX_BODY:
        raise _Malformed
    if len(buf) < start + length:
        return None
    return method, path, headers, bytes(buf[start : start + length]), start + length


def _parse_chunked(buf: bytearray, pos: int) -> tuple[bytes, int] | None:
    """A chunked body starting at `pos`: (body, offset just past it), None if incomplete.
    Raises _Malformed if it is malformed or too large."""
    chunks: list[bytes] = []
    total = 0
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        try:
            size = int(bytes(buf[pos:eol]).split(b";", 1)[0].strip() or b"0", 16)
        except ValueError:
            raise _Malformed from None
        pos = eol + 2
        if size == 0:
            while True:  # trailers, up to the empty line
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    return None
                blank = eol == pos
                pos = eol + 2
                if blank:
                    return b"".join(chunks), pos
        total += size
        if total > MAX_BODY:
            raise _Malformed
        if len(buf) < pos + size + 2:
            return None
        chunks.append(bytes(buf[pos : pos + size]))
        pos += size + 2
