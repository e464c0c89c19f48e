"""Lambda: cold starts, warm invoke latency and throughput (Python and Node.js), the memory of an
idle warm environment, and the edge floor (STS GetCallerIdentity) measured in the same run.

Invokes are real SigV4-signed Invoke requests over keep-alive connections; warm load comes from
the separate load-generator process (bench.loadgen)."""

from __future__ import annotations

import http.client
import io
import json
import os
import shutil
import statistics
import time
import zipfile
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from bench.common import load, overcast_server
from bench.edge_bench import signed_get_caller_identity

COLD_FUNCTIONS = 20
SECONDS = 3.0
ROLE = "arn:aws:iam::000000000000:role/bench"
PY_CODE = "def handler(event, context):\n    return {'hello': 'world'}\n"
NODE_CODE = "export const handler = async (event) => ({ hello: 'world' });\n"


def _zip(name: str, text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, text)
    return buf.getvalue()


def signed_invoke(port: int, function: str, body: bytes = b"{}") -> bytes:
    """A SigV4-signed Invoke request as boto3 sends it (reusable as-is on loopback)."""
    path = f"/2015-03-31/functions/{function}/invocations"
    req = AWSRequest(
        method="POST",
        url=f"http://127.0.0.1:{port}{path}",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1"},
    )
    SigV4Auth(Credentials("test", "test"), "lambda", "us-east-1").add_auth(req)
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in req.headers.items() if k.lower() != "host"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _send_raw(conn: http.client.HTTPConnection, raw: bytes) -> float:
    """Send one prepared request on a keep-alive connection; seconds until the full response."""
    head, body = raw.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    method, path, _ = lines[0].split(" ")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    headers.pop("Content-Length", None)
    t = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    resp.read()
    elapsed = time.perf_counter() - t
    if resp.status != 200 or resp.getheader("X-Amz-Function-Error"):
        raise RuntimeError(f"invoke failed: {resp.status}")
    return elapsed


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, ValueError):
                continue
    return out


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _memory_mb(pid: int) -> dict[str, float]:
    """RSS and PSS (shared pages divided among their sharers) of one process, in MB."""
    out: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(("Rss:", "Pss:")):
                    out[line.split(":")[0].lower()] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return out


def _env_memory(server_pid: int, marker: str) -> dict[str, float] | None:
    """Memory of one idle environment: a child of the server running `marker`, or a child of
    the Python zygote (which forks Python environments)."""
    for child in _children(server_pid):
        cmd = _cmdline(child)
        if marker.encode() in cmd:
            return _memory_mb(child)
        if marker == "python_bootstrap.py" and b"python_zygote.py" in cmd:
            envs = _children(child)
            if envs:
                return _memory_mb(envs[0])
    return None


def _runtime(
    port: int, pid: int, lam: Any, runtime: str, filename: str, code: str, cold_count: int
) -> dict[str, Any]:
    names = [f"bench-{runtime.replace('.', '')}-{i}" for i in range(cold_count)]
    for name in names:
        lam.create_function(
            FunctionName=name,
            Runtime=runtime,
            Role=ROLE,
            Handler=filename.split(".")[0] + ".handler",
            Code={"ZipFile": _zip(filename, code)},
        )
    conn = http.client.HTTPConnection("127.0.0.1", port)
    cold = [_send_raw(conn, signed_invoke(port, n)) * 1000 for n in names]
    warm_req = signed_invoke(port, names[0])
    for _ in range(20):
        _send_raw(conn, warm_req)
    conn.close()
    out: dict[str, Any] = {
        "cold_start_ms_p50": statistics.median(cold),
        "cold_start_ms_p90": _pct(cold, 0.9),
        "cold_starts": len(cold),
    }
    for c in (1, 8, 32):
        out[f"warm_c{c}"] = load(port, pid, warm_req, c, SECONDS)
    marker = "python_bootstrap.py" if runtime.startswith("python") else "node_bootstrap.mjs"
    out["idle_env_memory_mb"] = _env_memory(pid, marker)
    return out


def run() -> dict[str, Any]:
    results: dict[str, Any] = {}
    with overcast_server() as (port, proc):
        lam = boto3.client(
            "lambda",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        results["edge_floor_c1"] = load(
            port, proc.pid, signed_get_caller_identity(port), 1, SECONDS
        )
        results["python"] = _runtime(
            port, proc.pid, lam, "python3.12", "app.py", PY_CODE, COLD_FUNCTIONS
        )
        if shutil.which("node"):
            results["nodejs"] = _runtime(
                port, proc.pid, lam, "nodejs20.x", "index.mjs", NODE_CODE, 10
            )
    warm = results["python"]["warm_c1"]["p50_ms"]
    results["python_warm_minus_floor_ms"] = warm - results["edge_floor_c1"]["p50_ms"]
    return results


def report(results: dict[str, Any]) -> list[str]:
    floor = results["edge_floor_c1"]
    lines = [
        f"edge floor (GetCallerIdentity, c=1): p50 {floor['p50_ms']:.2f} ms, "
        f"p99 {floor['p99_ms']:.2f} ms"
    ]
    for rt in ("python", "nodejs"):
        r = results.get(rt)
        if not r:
            continue
        lines.append(
            f"{rt}: cold start p50 {r['cold_start_ms_p50']:.1f} ms "
            f"(p90 {r['cold_start_ms_p90']:.1f} ms, {r['cold_starts']} functions)"
        )
        for c in (1, 8, 32):
            w = r[f"warm_c{c}"]
            lines.append(
                f"  warm c={c}: {w['rps']:.0f} invokes/s, p50 {w['p50_ms']:.2f} ms, "
                f"p99 {w['p99_ms']:.2f} ms, server CPU {w['server_cpu_us']:.0f} µs/invoke"
            )
        mem = r.get("idle_env_memory_mb")
        if mem:
            lines.append(
                f"  idle warm environment: RSS {mem.get('rss', 0):.1f} MB, "
                f"PSS {mem.get('pss', 0):.1f} MB"
            )
    lines.append(
        f"python warm p50 minus edge floor p50: "
        f"{results['python_warm_minus_floor_ms']:.2f} ms (goal < 1 ms)"
    )
    return lines


if __name__ == "__main__":
    res = run()
    for line in report(res):
        print(line)
    print(json.dumps(res, indent=1))
