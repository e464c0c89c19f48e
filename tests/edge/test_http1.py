"""The edge's HTTP/1.1 connections: coalesced writes (table-driven, over a recording transport) and
what clients see through a real server — concurrent keep-alive clients, pipelined requests,
Expect: 100-continue, Connection: close, and a large body streamed through."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from overcast.core.load import Load
from overcast.edge.http1 import CoalescingTransport, _Round

# -- CoalescingTransport over a recording transport -------------------------------------------


class Recording:
    """A transport that records each write call."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


BIG = 64 * 1024

# Writes made while other requests are in hand ("|": the round ends; "close", "flush"), and the
# write calls the socket sees.
BUSY: list[tuple[list[bytes | str], list[bytes]]] = [
    ([b"head", b"body"], []),  # nothing before the round ends
    ([b"head", b"body", "|"], [b"headbody"]),
    ([b"head", "|", b"body", "|"], [b"head", b"body"]),
    ([b"", "|"], []),
    ([b"a", b"", b"b", "|"], [b"ab"]),
    ([b"h", b"x" * BIG, "|"], [b"h", b"x" * BIG]),  # a large write goes through, after the buffer
    ([b"x" * BIG], [b"x" * BIG]),
    ([b"h" * (BIG - 10), b"y" * 20, "|"], [b"h" * (BIG - 10), b"y" * 20]),
    ([b"a", "close"], [b"a"]),  # closing writes what is buffered first
    ([b"a", "flush", b"b", "|"], [b"a", b"b"]),
    (["|", "|"], []),
]

# The same when nothing else is in hand: every write goes straight out.
IDLE: list[tuple[list[bytes | str], list[bytes]]] = [
    ([b"head", b"body"], [b"head", b"body"]),
    ([b"head", "|", b"body", "|"], [b"head", b"body"]),
    ([b"x" * BIG, b"y"], [b"x" * BIG, b"y"]),
    ([b"a", "close"], [b"a"]),
]


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def _round(loop: asyncio.AbstractEventLoop, in_hand: int) -> _Round:
    """A round that sees `in_hand` requests in hand."""
    round_ = _Round(loop, Load())
    round_.load.in_hand = in_hand
    return round_


def _run(steps: list[bytes | str], handling: int) -> list[bytes]:
    loop = asyncio.new_event_loop()
    try:
        real = Recording()
        t = CoalescingTransport(real, _round(loop, handling))  # type: ignore[arg-type]
        for step in steps:
            if step == "|":
                loop.run_until_complete(asyncio.sleep(0))  # the round ends
            elif step == "close":
                t.close()
            elif step == "flush":
                t.flush()
            else:
                assert isinstance(step, bytes)
                t.write(step)
        return real.writes
    finally:
        loop.close()


@pytest.mark.parametrize("steps,expected", BUSY)
def test_writes_wait_for_the_round_while_others_are_in_hand(
    steps: list[bytes | str], expected: list[bytes]
) -> None:
    assert _run(steps, handling=3) == expected


@pytest.mark.parametrize("steps,expected", IDLE)
def test_writes_go_straight_out_when_alone(steps: list[bytes | str], expected: list[bytes]) -> None:
    assert _run(steps, handling=1) == expected


def test_a_write_after_a_buffered_one_keeps_its_order_when_the_others_are_done(
    loop: asyncio.AbstractEventLoop,
) -> None:
    real = Recording()
    round_ = _round(loop, 2)
    t = CoalescingTransport(real, round_)  # type: ignore[arg-type]
    t.write(b"first")
    round_.load.in_hand = 1
    t.write(b"second")  # joins the buffer: it must not overtake "first"
    loop.run_until_complete(asyncio.sleep(0))
    assert real.writes == [b"firstsecond"]


def test_round_writes_every_waiting_connection_once(loop: asyncio.AbstractEventLoop) -> None:
    round_ = _round(loop, 5)
    reals = [Recording() for _ in range(5)]
    ts = [CoalescingTransport(r, round_) for r in reals]  # type: ignore[arg-type]
    for i, t in enumerate(ts):
        t.write(b"head%d" % i)
        t.write(b"body%d" % i)
    assert all(r.writes == [] for r in reals)
    loop.run_until_complete(asyncio.sleep(0))
    assert [r.writes for r in reals] == [[b"head%dbody%d" % (i, i)] for i in range(5)]
    assert round_.waiting == [] and not round_.scheduled


def test_nothing_is_written_to_a_connection_the_client_closed(
    loop: asyncio.AbstractEventLoop,
) -> None:
    real = Recording()
    t = CoalescingTransport(real, _round(loop, 2))  # type: ignore[arg-type]
    t.write(b"late")
    real.closed = True
    loop.run_until_complete(asyncio.sleep(0))
    assert real.writes == []
    assert t.get_extra_info("peername") == "info:peername"  # the rest is the real transport's


# -- through a real server -----------------------------------------------------------------------

GCI = b"Action=GetCallerIdentity&Version=2011-06-15"


def _gci_request(port: int, extra: str = "") -> bytes:
    head = (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sts/aws4_request, "
        "SignedHeaders=host, Signature=00\r\n"
        f"X-Amz-Date: 20260101T000000Z\r\nContent-Length: {len(GCI)}\r\n{extra}\r\n"
    )
    return head.encode() + GCI


def _read_response(f: Any) -> tuple[int, dict[str, str], bytes]:
    status = int(f.readline().split()[1])
    headers: dict[str, str] = {}
    while (line := f.readline()) not in (b"\r\n", b""):
        k, _, v = line.decode().partition(":")
        headers[k.strip().lower()] = v.strip()
    body = f.read(int(headers.get("content-length", "0")))
    return status, headers, body


def test_concurrent_keep_alive_clients_each_get_their_own_answers(server: Any) -> None:
    errors: list[str] = []

    def client(n: int) -> None:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
            f = s.makefile("rb")
            for _ in range(40):
                s.sendall(_gci_request(server.port))
                status, headers, body = _read_response(f)
                if status != 200 or b"<Account>000000000000</Account>" not in body:
                    errors.append(f"client {n}: {status} {body[:200]!r}")
                if "x-amzn-requestid" not in headers:
                    errors.append(f"client {n}: no request id")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_pipelined_requests_are_answered_in_order(server: Any) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket="pipelined")
    for i in range(3):
        s3.put_object(Bucket="pipelined", Key=f"k{i}", Body=f"value {i}".encode())
    requests = b"".join(
        f"GET /pipelined/k{i} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
        for i in range(3)
    )
    requests += _gci_request(server.port)
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(requests)  # all in one write: the server reads them together
        f = s.makefile("rb")
        answers = [_read_response(f) for _ in range(4)]
    assert [(a[0], a[2]) for a in answers[:3]] == [(200, f"value {i}".encode()) for i in range(3)]
    assert answers[3][0] == 200 and b"GetCallerIdentityResult" in answers[3][2]


def test_connection_close_is_answered_then_closed(server: Any) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(_gci_request(server.port, "Connection: close\r\n"))
        f = s.makefile("rb")
        status, headers, body = _read_response(f)
        assert status == 200 and b"GetCallerIdentityResult" in body
        assert headers.get("connection") == "close"
        assert f.read() == b""  # the server closed its side after the answer


def test_expect_100_continue_upload_and_large_streamed_download(server: Any, tmp_path: Any) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket="continue")
    data = os.urandom(3 * 1024 * 1024 + 17)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    url = f"{server.url}/continue/big.bin"
    # curl sends Expect: 100-continue for a body this size and waits for the interim answer.
    put = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-T", str(src), url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert put.stdout == "200", put.stderr
    dest = tmp_path / "dest.bin"
    get = subprocess.run(
        ["curl", "-sS", "-o", str(dest), "-w", "%{http_code}", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert get.stdout == "200", get.stderr
    assert hashlib.sha256(dest.read_bytes()).digest() == hashlib.sha256(data).digest()


def test_the_first_answer_of_a_round_goes_out_at_once_and_the_rest_wait_for_its_end(
    loop: asyncio.AbstractEventLoop,
) -> None:
    round_ = _round(loop, 3)
    assert round_.first_answer() is True
    assert [round_.first_answer() for _ in range(3)] == [False, False, False]
    loop.run_until_complete(asyncio.sleep(0))  # the round ends
    assert round_.first_answer() is True
