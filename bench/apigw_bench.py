"""API Gateway: requests/s and p50/p99 latency for an HTTP API and a REST API in front of a Python
hello-world function, at concurrency 1, 16 and 64, beside a REST MOCK method (API Gateway's own
cost) and the edge floor (STS GetCallerIdentity) in the same run. Load comes from the separate
keep-alive load generator (bench.loadgen)."""

from __future__ import annotations

import io
import json
import time
import zipfile
from typing import Any

import boto3

from bench.common import load, overcast_server
from bench.edge_bench import signed_get_caller_identity
from bench.lambda_bench import signed_invoke

SECONDS = 4.0
WARMUP = 1.5
CONCURRENCY = (1, 16, 64)
ROLE = "arn:aws:iam::000000000000:role/bench"
CODE = (
    "def handler(event, context):\n"
    "    return {'statusCode': 200, 'headers': {'content-type': 'application/json'},\n"
    "            'body': '{\"hello\": \"world\"}'}\n"
)


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", CODE)
    return buf.getvalue()


def _get(port: int, path: str) -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: bench\r\n"
            "Accept: */*\r\n\r\n").encode()  # fmt: skip


def _setup(port: int) -> tuple[str, str]:
    """The hello function, an HTTP API (quick create) and a REST API (proxy), deployed."""
    kw: dict[str, Any] = dict(endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")  # fmt: skip
    lam = boto3.client("lambda", **kw)
    arn = lam.create_function(FunctionName="hello", Runtime="python3.11", Role=ROLE,
                              Handler="app.handler", Code={"ZipFile": _zip()},
                              MemorySize=256)["FunctionArn"]  # fmt: skip
    deadline = time.monotonic() + 60
    while lam.get_function(FunctionName="hello")["Configuration"].get("State") != "Active":
        if time.monotonic() > deadline:
            raise RuntimeError("function never became Active")
        time.sleep(0.1)
    http_api = boto3.client("apigatewayv2", **kw).create_api(
        Name="bench-http", ProtocolType="HTTP", Target=arn
    )["ApiId"]
    spec = {
        "openapi": "3.0.1",
        "info": {"title": "bench-rest", "version": "1"},
        "paths": {"/hello": {"get": {"x-amazon-apigateway-integration": {
            "type": "aws_proxy", "httpMethod": "POST",
            "uri": f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations",
        }}}},
    }  # fmt: skip
    # A MOCK method beside it: API Gateway's own cost (routing, two VTL templates), no function.
    spec["paths"]["/mock"] = {"get": {"x-amazon-apigateway-integration": {
        "type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'},
        "responses": {"default": {"statusCode": "200", "responseTemplates": {
            "application/json": '{"hello": "$context.stage"}'}}},
    }}}  # fmt: skip
    apigw = boto3.client("apigateway", **kw)
    rest_api = apigw.import_rest_api(body=json.dumps(spec).encode())["id"]
    apigw.create_deployment(restApiId=rest_api, stageName="prod")
    return http_api, rest_api


def run() -> dict[str, Any]:
    """Measure; returns a dict of figures per target and concurrency."""
    results: dict[str, Any] = {}
    with overcast_server() as (port, proc):
        http_api, rest_api = _setup(port)
        targets = {
            "http_api": _get(port, f"/_aws/execute-api/{http_api}/hello"),
            "rest_api": _get(port, f"/_aws/execute-api/{rest_api}/prod/hello"),
            "rest_mock": _get(port, f"/_aws/execute-api/{rest_api}/prod/mock"),
            # The same function invoked directly: the Lambda ceiling API Gateway sits on.
            "lambda_invoke": signed_invoke(port, "hello"),
            "edge_floor": signed_get_caller_identity(port),
        }
        for name, request in targets.items():
            for c in CONCURRENCY:
                # Warm as many execution environments as the run will use: steady state, not
                # cold starts (the Lambda bench measures those).
                load(port, proc.pid, request, c, WARMUP)
                results[f"{name}_c{c}"] = load(port, proc.pid, request, c, SECONDS)
    return results


def report(results: dict[str, Any]) -> list[str]:
    """Printable lines."""
    lines = ["API Gateway → Python hello-world (path-form invoke URL, keep-alive)",
             f"{'':18} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'CPU µs/req':>11}"]  # fmt: skip
    for name in ("http_api", "rest_api", "rest_mock", "lambda_invoke", "edge_floor"):
        for c in CONCURRENCY:
            r = results[f"{name}_c{c}"]
            lines.append(
                f"{name + ' c=' + str(c):18} {r['rps']:8.0f} {r['p50_ms']:8.2f} "
                f"{r['p99_ms']:8.2f} {r['errors']:7.0f} {r['server_cpu_us']:11.0f}"
            )
    return lines


if __name__ == "__main__":
    for line in report(run()):
        print(line)
