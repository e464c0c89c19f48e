"""The Runtime API server used directly over raw sockets: keep-alive, a parked `/next`, pipelined
requests (one wake-up per invocation), chunked bodies, bad request ids and malformed input."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from overcast.runtime import Invocation
from overcast.runtime.api import RuntimeApi

BASE = "/2018-06-01/runtime"


def run(scenario: Callable[[RuntimeApi], Awaitable[None]]) -> None:
    async def main() -> None:
        api = RuntimeApi(lambda: 1234, lambda: None)
        await api.start()
        try:
            await asyncio.wait_for(scenario(api), 10)
        finally:
            await api.close()

    asyncio.run(main())


async def connect(api: RuntimeApi) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", api.port)


def request(method: str, path: str, body: bytes = b"", extra: str = "") -> bytes:
    head = f"{method} {BASE}{path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n{extra}"
    return (head + "\r\n").encode() + body


async def response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
    headers = {}
    for line in head[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(head[0].split(" ")[1]), headers, body


def inv(rid: str, payload: bytes = b'{"a": 1}') -> Invocation:
    return Invocation(rid, payload, "arn:aws:lambda:us-east-1:000000000000:function:f", "Root=1")


def test_parked_next_then_response() -> None:
    async def scenario(api: RuntimeApi) -> None:
        reader, writer = await connect(api)
        writer.write(request("GET", "/invocation/next"))
        await asyncio.sleep(0.05)  # parked: nothing offered yet
        outcome = api.expect_outcome()
        api.offer(inv("r1"))
        status, headers, body = await response(reader)
        assert status == 200 and body == b'{"a": 1}'
        assert headers["lambda-runtime-aws-request-id"] == "r1"
        assert headers["lambda-runtime-deadline-ms"] == "1234"
        writer.write(request("POST", "/invocation/r1/response", b'"ok"'))
        status, _, body = await response(reader)
        assert status == 202 and body == b'{"status":"OK"}'
        result = await outcome
        assert result.payload == b'"ok"' and result.error_type is None
        writer.close()

    run(scenario)


def test_pipelined_response_and_next_share_one_write() -> None:
    async def scenario(api: RuntimeApi) -> None:
        reader, writer = await connect(api)
        outcome = api.expect_outcome()
        api.offer(inv("r1"))  # pending before the bootstrap asks
        writer.write(request("GET", "/invocation/next"))
        assert (await response(reader))[0] == 200
        writer.write(
            request("POST", "/invocation/r1/response", b"1") + request("GET", "/invocation/next")
        )
        assert (await outcome).payload == b"1"
        # The 202 is held with the parked /next until the next invocation is offered.
        await asyncio.sleep(0.05)
        assert not reader._buffer  # type: ignore[attr-defined]
        api.expect_outcome()
        api.offer(inv("r2"))
        assert (await response(reader))[0] == 202
        status, headers, _ = await response(reader)
        assert status == 200 and headers["lambda-runtime-aws-request-id"] == "r2"
        writer.close()

    run(scenario)


def test_chunked_body_error_and_bad_request_id() -> None:
    async def scenario(api: RuntimeApi) -> None:
        reader, writer = await connect(api)
        outcome = api.expect_outcome()
        api.offer(inv("r1"))
        writer.write(request("GET", "/invocation/next"))
        await response(reader)
        writer.write(request("POST", "/invocation/nope/response", b"1"))
        status, _, body = await response(reader)
        assert status == 400 and b"InvalidRequestID" in body
        head = (
            f"POST {BASE}/invocation/r1/error HTTP/1.1\r\nHost: x\r\n"
            "Transfer-Encoding: chunked\r\nLambda-Runtime-Function-Error-Type: Boom\r\n\r\n"
        )
        writer.write(head.encode() + b'5\r\n{"err')
        await asyncio.sleep(0.02)  # split across writes
        writer.write(b'\r\n4;ext=1\r\nor"}\r\n0\r\nX-Trailer: y\r\n\r\n')
        assert (await response(reader))[0] == 202
        result = await outcome
        assert result.payload == b'{"error"}' and result.error_type == "Boom"
        writer.write(b"GET /elsewhere HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await response(reader))[0] == 404
        writer.write(request("PUT", "/invocation/r1/response"))
        assert (await response(reader))[0] == 405
        writer.close()

    run(scenario)


def test_init_error_and_malformed_request() -> None:
    async def scenario(api: RuntimeApi) -> None:
        reader, writer = await connect(api)
        outcome = api.expect_outcome()
        writer.write(request("POST", "/init/error", b'{"e": 1}'))
        assert (await response(reader))[0] == 202
        result = await outcome
        assert result.init_error and result.error_type == "Unhandled"
        writer.write(b"GARBAGE\r\n\r\n")
        assert await reader.read() == b""  # dropped
        writer.close()

    run(scenario)
