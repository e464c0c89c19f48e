"""The edge's fixed cost: STS GetCallerIdentity through Overcast against a minimal ASGI app on the
same server stack (the floor), at concurrency 1 and 32, from a separate load-generator process."""

from __future__ import annotations

from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from bench.common import PY, free_port, load, overcast_server, process

SECONDS = 5.0


def signed_get_caller_identity(port: int) -> bytes:
    """A real SigV4-signed GetCallerIdentity request as boto3 sends it (reused as-is)."""
    body = "Action=GetCallerIdentity&Version=2011-06-15"
    req = AWSRequest(
        method="POST",
        url=f"http://127.0.0.1:{port}/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials("test", "test"), "sts", "us-east-1").add_auth(req)
    lines = ["POST / HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in req.headers.items() if k.lower() != "host"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def run() -> dict[str, Any]:
    results: dict[str, Any] = {}
    with overcast_server() as (port, proc):
        request = signed_get_caller_identity(port)
        for c in (1, 32):
            results[f"overcast_c{c}"] = load(port, proc.pid, request, c, SECONDS)
    floor_port = free_port()
    with process(
        [PY, "-m", "bench.floor", str(floor_port)], f"http://127.0.0.1:{floor_port}/"
    ) as fp:
        request = signed_get_caller_identity(floor_port)
        for c in (1, 32):
            results[f"floor_c{c}"] = load(floor_port, fp.pid, request, c, SECONDS)
    for c in (1, 32):
        o, f = results[f"overcast_c{c}"], results[f"floor_c{c}"]
        results[f"ratio_cpu_c{c}"] = o["server_cpu_us"] / f["server_cpu_us"]
        results[f"ratio_rps_c{c}"] = f["rps"] / o["rps"]
    return results


def report(results: dict[str, Any]) -> list[str]:
    lines = ["STS GetCallerIdentity vs. the floor (minimal ASGI app, same uvicorn stack)",
             f"{'':12} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'server CPU µs/req':>18}"]  # fmt: skip
    for c in (1, 32):
        for name in ("overcast", "floor"):
            r = results[f"{name}_c{c}"]
            lines.append(
                f"{name + ' c=' + str(c):12} {r['rps']:9.0f} {r['p50_ms']:8.3f} {r['p99_ms']:8.3f} "
                f"{r['server_cpu_us']:18.1f}"
            )
        lines.append(
            f"  ratio c={c}: server CPU per request {results[f'ratio_cpu_c{c}']:.2f}x the floor, "
            f"throughput {results[f'ratio_rps_c{c}']:.2f}x lower"
        )
    return lines
