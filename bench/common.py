"""Shared pieces of the benchmarks: starting servers, driving load from another process, and
reading a server's CPU time from /proc."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PY = sys.executable
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User+system CPU seconds of a process and its reaped children."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / TICKS


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError as exc:
            if getattr(exc, "code", None):  # an HTTP error status still means it is up
                return
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def overcast_server(data_dir: str | None = None) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """A quiet Overcast on a free port with a fresh data dir."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [PY, "-m", "overcast", "up", "--quiet", "--port", str(port),
             "--data-dir", data_dir or str(Path(tmp) / "data")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_http(f"http://127.0.0.1:{port}/_overcast/health")
            yield port, proc
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)


@contextmanager
def process(args: list[str], health_url: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(health_url)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def load(port: int, pid: int, request: bytes, concurrency: int, seconds: float) -> dict[str, float]:
    """Drive `request` at a server from a separate process; add server CPU per request (µs)."""
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(request)
        path = f.name
    try:
        before = cpu_seconds(pid)
        out = subprocess.run(
            [
                PY,
                "-m",
                "bench.loadgen",
                "127.0.0.1",
                str(port),
                str(concurrency),
                str(seconds),
                path,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        used = cpu_seconds(pid) - before
    finally:
        os.unlink(path)
    result: dict[str, float] = json.loads(out.stdout)
    result["server_cpu_us"] = used / max(1, result["requests"]) * 1e6
    return result
