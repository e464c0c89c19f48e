"""The edge's fixed cost: STS GetCallerIdentity through Overcast against a minimal ASGI app on the
same server stack (the floor), at concurrency 1 and 32, from a separate load-generator process.
Both servers run side by side; their loads alternate, and each figure is the median of the rounds
(the ratio is the median of the rounds' ratios)."""

from __future__ import annotations

import statistics
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from bench.common import PY, free_port, load, overcast_server, process

SECONDS = 3.0
ROUNDS = 3  # alternated loads of Overcast and the floor per concurrency; medians reported


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
    results: dict[str, Any] = {"rounds": ROUNDS, "seconds_per_load": SECONDS}
    runs: dict[str, list[dict[str, float]]] = {}
    floor_port = free_port()
    floor_cmd = [PY, "-m", "bench.floor", str(floor_port)]
    with (
        overcast_server() as (port, proc),
        process(floor_cmd, f"http://127.0.0.1:{floor_port}/") as fp,
    ):
        targets = {
            "overcast": (port, proc.pid, signed_get_caller_identity(port)),
            "floor": (floor_port, fp.pid, signed_get_caller_identity(floor_port)),
        }
        for c in (1, 32):
            for i in range(ROUNDS):
                # Alternate which goes first, so that a drift of the machine's speed falls on both.
                order = ("overcast", "floor") if i % 2 == 0 else ("floor", "overcast")
                for name in order:
                    p, pid, request = targets[name]
                    runs.setdefault(f"{name}_c{c}", []).append(load(p, pid, request, c, SECONDS))
    for key, rounds in runs.items():
        results[key] = {
            metric: statistics.median(r[metric] for r in rounds)
            for metric in ("rps", "p50_ms", "p99_ms", "server_cpu_us")
        }
    for c in (1, 32):
        pairs = list(zip(runs[f"overcast_c{c}"], runs[f"floor_c{c}"], strict=True))
        results[f"ratio_cpu_c{c}"] = statistics.median(
            o["server_cpu_us"] / f["server_cpu_us"] for o, f in pairs
        )
        results[f"ratio_rps_c{c}"] = statistics.median(f["rps"] / o["rps"] for o, f in pairs)
        results[f"ratios_cpu_c{c}"] = [o["server_cpu_us"] / f["server_cpu_us"] for o, f in pairs]
    return results


def report(results: dict[str, Any]) -> list[str]:
    lines = ["STS GetCallerIdentity vs. the floor (minimal ASGI app, same uvicorn stack), "
             f"medians of {results['rounds']} alternated rounds",
             f"{'':12} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'server CPU µs/req':>18}"]  # fmt: skip
    for c in (1, 32):
        for name in ("overcast", "floor"):
            r = results[f"{name}_c{c}"]
            lines.append(
                f"{name + ' c=' + str(c):12} {r['rps']:9.0f} {r['p50_ms']:8.3f} {r['p99_ms']:8.3f} "
                f"{r['server_cpu_us']:18.1f}"
            )
        each = ", ".join(f"{r:.2f}" for r in results[f"ratios_cpu_c{c}"])
        lines.append(
            f"  ratio c={c}: server CPU per request {results[f'ratio_cpu_c{c}']:.2f}x the floor "
            f"(rounds: {each}), throughput {results[f'ratio_rps_c{c}']:.2f}x lower"
        )
    return lines
