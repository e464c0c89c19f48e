"""S3: PutObject and GetObject of 1 KiB (ops/s, p50/p99, server CPU per op, at concurrency 1
and 16, from a separate load-generator process) and of 64 MiB (MB/s), through Overcast and
through moto's server side by side; the floor for 64 MiB is `cp` of the same file on the same
disk (and `cp` plus fsync, since Overcast's PutObject is durable before it answers)."""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import boto3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from bench.common import PY, free_port, load, overcast_server, process

SECONDS = 4.0
CONCURRENCY = (1, 16)
SMALL = 1024
LARGE = 64 * 1024 * 1024
LARGE_RUNS = 3
BUCKET = "bench"


def _signed_headers(port: int, method: str, key: str, body: bytes) -> dict[str, str]:
    """Headers as boto3 sends them over http: SigV4 with the payload hash and a CRC32."""
    headers = {}
    if method == "PUT":
        headers["x-amz-checksum-crc32"] = base64.b64encode(
            zlib.crc32(body).to_bytes(4, "big")
        ).decode()
        headers["x-amz-sdk-checksum-algorithm"] = "CRC32"
        headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
    else:
        headers["x-amz-content-sha256"] = hashlib.sha256(b"").hexdigest()
    req = AWSRequest(
        method=method, url=f"http://127.0.0.1:{port}/{BUCKET}/{key}", data=body, headers=headers
    )
    S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(req)
    return {k: v for k, v in req.headers.items() if k.lower() != "host"}


def raw_request(port: int, method: str, key: str, body: bytes = b"") -> bytes:
    """One signed request as raw HTTP/1.1 bytes, replayed as-is by the load generator."""
    headers = _signed_headers(port, method, key, body)
    lines = [
        f"{method} /{BUCKET}/{key} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Length: {len(body)}",
    ]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _client(port: int) -> Any:
    return boto3.client(
        "s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 3}),
    )  # fmt: skip


def _large(port: int, path: Path) -> dict[str, float]:
    """MB/s of single-request PutObject and GetObject of the file (median of a few runs)."""
    body = path.read_bytes()
    headers = _signed_headers(port, "PUT", "large", body)
    get_headers = _signed_headers(port, "GET", "large", b"")
    puts: list[float] = []
    gets: list[float] = []
    for _ in range(LARGE_RUNS):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        t0 = time.perf_counter()
        conn.request("PUT", f"/{BUCKET}/large", body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        puts.append(time.perf_counter() - t0)
        assert resp.status == 200, resp.status
        t0 = time.perf_counter()
        conn.request("GET", f"/{BUCKET}/large", headers=get_headers)
        resp = conn.getresponse()
        got = 0
        while chunk := resp.read(1 << 20):
            got += len(chunk)
        gets.append(time.perf_counter() - t0)
        assert resp.status == 200 and got == len(body), (resp.status, got)
        conn.close()
    mb = len(body) / 1e6
    return {"put_MBps": mb / statistics.median(puts), "get_MBps": mb / statistics.median(gets)}


def _measure(port: int, pid: int, large_file: Path) -> dict[str, Any]:
    s3 = _client(port)
    s3.create_bucket(Bucket=BUCKET)
    small = os.urandom(SMALL)
    s3.put_object(Bucket=BUCKET, Key="small", Body=small)
    results: dict[str, Any] = {}
    put = raw_request(port, "PUT", "small", small)
    get = raw_request(port, "GET", "small")
    for c in CONCURRENCY:
        results[f"PutObject_c{c}"] = load(port, pid, put, c, SECONDS)
        results[f"GetObject_c{c}"] = load(port, pid, get, c, SECONDS)
    results["large"] = _large(port, large_file)
    return results


def _floor(path: Path) -> dict[str, float]:
    """`cp` of the same file on the same disk, and `cp` followed by fsync."""
    plain: list[float] = []
    durable: list[float] = []
    for i in range(LARGE_RUNS):
        dst = path.with_name(f"copy{i}")
        t0 = time.perf_counter()
        subprocess.run(["cp", str(path), str(dst)], check=True)
        plain.append(time.perf_counter() - t0)
        fd = os.open(dst, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        dst.unlink()
        t0 = time.perf_counter()
        subprocess.run(["cp", str(path), str(dst)], check=True)
        fd = os.open(dst, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        durable.append(time.perf_counter() - t0)
        dst.unlink()
    mb = path.stat().st_size / 1e6
    return {
        "cp_MBps": mb / statistics.median(plain),
        "cp_fsync_MBps": mb / statistics.median(durable),
    }


def run() -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp())
    try:
        large_file = tmp / "large.bin"
        large_file.write_bytes(os.urandom(LARGE))
        results: dict[str, Any] = {"floor": _floor(large_file)}
        with overcast_server(str(tmp / "overcast-data")) as (port, proc):
            results["overcast"] = _measure(port, proc.pid, large_file)
        moto_port = free_port()
        moto = shutil.which("moto_server") or str(Path(PY).parent / "moto_server")
        with process([moto, "-p", str(moto_port)], f"http://127.0.0.1:{moto_port}/moto-api/") as mp:
            results["moto"] = _measure(moto_port, mp.pid, large_file)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for op in ("PutObject", "GetObject"):
        for c in CONCURRENCY:
            o, m = results["overcast"][f"{op}_c{c}"], results["moto"][f"{op}_c{c}"]
            results[f"ratio_{op}_c{c}"] = {
                "throughput": o["rps"] / m["rps"],
                "server_cpu": m["server_cpu_us"] / o["server_cpu_us"],
            }
    big, floor = results["overcast"]["large"], results["floor"]
    results["ratio_large"] = {
        "put_vs_moto": big["put_MBps"] / results["moto"]["large"]["put_MBps"],
        "get_vs_moto": big["get_MBps"] / results["moto"]["large"]["get_MBps"],
        "cp_over_put": floor["cp_MBps"] / big["put_MBps"],
        "cp_over_get": floor["cp_MBps"] / big["get_MBps"],
    }
    return results


def report(results: dict[str, Any]) -> list[str]:
    lines = [f"{'':26} {'ops/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'server CPU µs/op':>17}"]
    for op in ("PutObject", "GetObject"):
        for c in CONCURRENCY:
            for name in ("overcast", "moto"):
                r = results[name][f"{op}_c{c}"]
                lines.append(
                    f"{op + ' 1KiB c=' + str(c) + ' ' + name:26} {r['rps']:9.0f} {r['p50_ms']:8.2f} "
                    f"{r['p99_ms']:8.2f} {r['server_cpu_us']:17.0f}"
                )
            ratio = results[f"ratio_{op}_c{c}"]
            lines.append(
                f"  {op} 1KiB c={c}: Overcast {ratio['throughput']:.1f}x moto's throughput, "
                f"{ratio['server_cpu']:.1f}x less server CPU per op"
            )
    floor = results["floor"]
    for name in ("overcast", "moto"):
        big = results[name]["large"]
        lines.append(
            f"64 MiB {name:9} PUT {big['put_MBps']:7.0f} MB/s   GET {big['get_MBps']:7.0f} MB/s"
        )
    lines.append(
        f"64 MiB floor     cp  {floor['cp_MBps']:7.0f} MB/s   cp+fsync {floor['cp_fsync_MBps']:7.0f} MB/s"
    )
    r = results["ratio_large"]
    lines.append(
        f"  64 MiB: PUT {r['put_vs_moto']:.1f}x moto, GET {r['get_vs_moto']:.1f}x moto; "
        f"cp is {r['cp_over_put']:.2f}x Overcast's PUT and {r['cp_over_get']:.2f}x its GET"
    )
    return lines


if __name__ == "__main__":
    for line in report(run()):
        print(line)
