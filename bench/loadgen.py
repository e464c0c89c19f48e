"""A small keep-alive HTTP load generator, run as its own process.

Usage: python -m bench.loadgen HOST PORT CONCURRENCY SECONDS REQUEST_FILE
REQUEST_FILE holds one raw HTTP/1.1 request (bytes). Prints JSON: requests, errors, seconds,
latencies p50/p99 in ms. Each connection sends a request, reads the whole response, repeats;
a server that answers `Connection: close` (moto does, for some requests) is reconnected to.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time


class _Conn(asyncio.Protocol):
    def __init__(
        self,
        request: bytes,
        stop_at: float,
        latencies: list[float],
        stats: dict[str, int],
        done: asyncio.Future[None] | None = None,
    ):
        self.request = request
        self.stop_at = stop_at
        self.latencies = latencies
        self.stats = stats
        self.buf = b""
        self.done: asyncio.Future[None] = done or asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.sent = 0.0
        self.reconnect: tuple[str, int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._send()

    def _send(self) -> None:
        self.sent = time.perf_counter()
        assert self.transport is not None
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        head_end = self.buf.find(b"\r\n\r\n")
        if head_end < 0:
            return
        head = self.buf[:head_end].lower()
        i = head.find(b"content-length:")
        length = (
            int(head[i + 15 : head.find(b"\r\n", i) if head.find(b"\r\n", i) > 0 else None])
            if i >= 0
            else 0
        )
        total = head_end + 4 + length
        if len(self.buf) < total:
            return
        status = int(self.buf[9:12])
        self.buf = self.buf[total:]
        now = time.perf_counter()
        self.latencies.append(now - self.sent)
        self.stats["requests"] += 1
        if status >= 400:
            self.stats["errors"] += 1
        assert self.transport is not None
        if now >= self.stop_at:
            self.transport.close()
            if not self.done.done():
                self.done.set_result(None)
        elif b"connection: close" in head:
            peer = self.transport.get_extra_info("peername")
            self.reconnect = (peer[0], peer[1])
            self.transport.close()
        else:
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.reconnect is not None and not self.done.done():
            host, port = self.reconnect
            asyncio.get_running_loop().create_task(
                _connect(host, port, self.request, self.stop_at, self.latencies, self.stats,
                         self.done)
            )  # fmt: skip
        elif not self.done.done():
            self.done.set_result(None)


async def _connect(
    host: str,
    port: int,
    request: bytes,
    stop_at: float,
    latencies: list[float],
    stats: dict[str, int],
    done: asyncio.Future[None] | None = None,
) -> _Conn:
    """One connection driving `request` until `stop_at`, reconnecting as the server asks."""
    _, proto = await asyncio.get_running_loop().create_connection(
        lambda: _Conn(request, stop_at, latencies, stats, done), host, port
    )
    return proto


async def run(
    host: str, port: int, concurrency: int, seconds: float, request: bytes
) -> dict[str, float]:
    latencies: list[float] = []
    stats = {"requests": 0, "errors": 0}
    start = time.perf_counter()
    stop_at = start + seconds
    conns = [
        await _connect(host, port, request, stop_at, latencies, stats) for _ in range(concurrency)
    ]
    await asyncio.gather(*(c.done for c in conns))
    elapsed = time.perf_counter() - start
    latencies.sort()
    n = len(latencies)
    return {
        "requests": stats["requests"],
        "errors": stats["errors"],
        "seconds": elapsed,
        "rps": stats["requests"] / elapsed,
        "p50_ms": latencies[n // 2] * 1000 if n else 0.0,
        "p99_ms": latencies[min(n - 1, int(n * 0.99))] * 1000 if n else 0.0,
    }


def main() -> None:
    host, port, conc, secs, path = sys.argv[1:6]
    with open(path, "rb") as f:
        request = f.read()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(run(host, int(port), int(conc), float(secs), request))))


if __name__ == "__main__":
    main()
