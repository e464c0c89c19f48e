"""The JS SDK v3 against our codecs: each service gets a small HTTP server that decodes with the
codec, answers from a table of fake operations and encodes the result; `js/check.mjs` calls
them with the real @aws-sdk clients (pinned in js/package.json, installed once into a cache
directory with npm) and reports what each call returned or raised.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.core.http import FileBody, HttpRequest
from overcast.protocol import get_codec

JS = Path(__file__).with_name("js")
Handler = Callable[[dict[str, Any]], dict[str, Any]]
pytestmark = pytest.mark.slow


def _missing(message: str, code: str, status: int | None = None) -> Handler:
    """Raises the error; without a status the model's (or 400) applies."""

    def handler(params: dict[str, Any]) -> dict[str, Any]:
        raise ServiceError(message, code=code, status=status)

    return handler


WHEN = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
OPERATIONS: dict[str, dict[str, Handler]] = {
    "s3": {
        "PutObject": lambda p: {"ETag": '"abc"'},
        "GetObject": lambda p: (
            {
                "Body": b"hello",
                "ContentLength": 5,
                "LastModified": WHEN,
                "Metadata": {"color": "blue"},
            }
            if p["Key"] != "missing"
            else _missing("The specified key does not exist.", "NoSuchKey", 404)(p)
        ),
        "ListObjectsV2": lambda p: {
            "Name": p["Bucket"],
            "Prefix": p.get("Prefix"),
            "KeyCount": 1,
            "IsTruncated": False,
            "Contents": [{"Key": "a b/c€.txt", "Size": 5, "LastModified": WHEN, "ETag": '"abc"'}],
        },
        "HeadObject": _missing("Not Found", "NoSuchKey", 404),
        "GetBucketLocation": lambda p: {"LocationConstraint": "eu-west-1"},
    },
    "sqs": {
        "GetQueueUrl": _missing("The specified queue does not exist.", "QueueDoesNotExist"),
        "SendMessage": lambda p: {
            "MessageId": "m-1",
            "MD5OfMessageBody": "49f68a5c8493ec2c0bf489821c21fc3b",
        },
    },
    "cloudwatch": {
        "PutMetricData": lambda p: {},
        "GetMetricData": lambda p: {
            "MetricDataResults": [
                {"Id": "a", "Timestamps": [WHEN], "Values": [1.5], "StatusCode": "Complete"}
            ]
        },
        "GetDashboard": _missing("Dashboard d does not exist", "ResourceNotFound"),
    },
    "dynamodb": {
        "GetItem": lambda p: {"Item": {"pk": {"S": "a"}, "b": {"B": b"\x00\x01"}, "n": {"N": "2"}}},
        "DescribeTable": _missing("Requested resource not found", "ResourceNotFoundException"),
    },
    "sts": {
        "GetCallerIdentity": lambda p: {
            "Account": "000000000000",
            "Arn": "arn:aws:iam::000000000000:root",
            "UserId": "AKIDEXAMPLE",
        }
    },
    "lambda": {
        "Invoke": lambda p: {
            "StatusCode": 200,
            "Payload": p["Payload"],
            "FunctionError": "Unhandled",
        },
        "GetFunction": _missing("Function not found: nope", "ResourceNotFoundException", 404),
    },
    "iam": {"GetRole": _missing("The role with name r cannot be found.", "NoSuchEntity")},
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    service = ""
    seen: list[tuple[str, HttpRequest]]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        headers = {k.lower(): v for k, v in self.headers.items()}
        req = HttpRequest(self.command, path, query, headers, body)
        codec = get_codec(self.server.service, _protocol(self.server.service, req))
        ctx = RequestContext("req-js", http=req)
        op = None
        try:
            op, params = codec.decode(req)
            self.server.seen.append((op.name, req))
            resp = codec.serialize(op, OPERATIONS[self.server.service][op.name](params), ctx)
        except ServiceError as err:
            resp = codec.serialize_error(op, err, ctx)
        data = resp.body
        if isinstance(data, FileBody):
            data = Path(data.path).read_bytes()
        self.send_response(resp.status)
        for k, v in resp.headers:
            self.send_header(k, v)
        if resp.header("content-length") is None:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


def _protocol(service: str, req: HttpRequest) -> str | None:
    """What the edge's detection does for a multi-protocol service."""
    if service != "cloudwatch":
        return None
    if req.path.startswith("/service/"):
        return "smithy-rpc-v2-cbor"
    if "x-amz-target" in req.headers:
        return "json"
    return "query"


@pytest.fixture(scope="module")
def js_modules() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed")
    spec = (JS / "package.json").read_bytes()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    target = cache / "overcast-js-sdk" / hashlib.sha256(spec).hexdigest()[:16]
    if not (target / "node_modules" / "@aws-sdk" / "client-s3").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        (target / "package.json").write_bytes(spec)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=target,
            check=True,
            timeout=300,
        )
    return target / "node_modules"


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, _Server]]:
    running = {}
    for service in OPERATIONS:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.service = service
        server.seen = []
        threading.Thread(target=server.serve_forever, daemon=True).start()
        running[service] = server
    yield running
    for server in running.values():
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def results(js_modules: Path, servers: dict[str, _Server]) -> dict[str, Any]:
    endpoints = {s: f"http://127.0.0.1:{srv.server_address[1]}" for s, srv in servers.items()}
    env = {
        **os.environ,
        "OVERCAST_ENDPOINTS": json.dumps(endpoints),
        "OVERCAST_JS_MODULES": str(js_modules),
    }
    done = subprocess.run(
        ["node", str(JS / "check.mjs")], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    return out


CASES = [
    ("s3Put", {"ok": {"ETag": '"abc"'}}),
    (
        "s3Get",
        {
            "body": "hello",
            "metadata": {"color": "blue"},
            "lastModified": "2024-01-02T03:04:05.000Z",
            "contentLength": 5,
        },
    ),
    ("s3Head", {"error": "NotFound", "status": 404, "message": "UnknownError"}),
    (
        "s3Missing",
        {"error": "NoSuchKey", "status": 404, "message": "The specified key does not exist."},
    ),
    ("s3Location", {"ok": {"LocationConstraint": "eu-west-1"}}),
    (
        "sqsMissing",
        {
            "error": "QueueDoesNotExist",
            "status": 400,
            "message": "The specified queue does not exist.",
        },
    ),
    (
        "sqsSend",
        {"ok": {"MessageId": "m-1", "MD5OfMessageBody": "49f68a5c8493ec2c0bf489821c21fc3b"}},
    ),
    ("cwPut", {"ok": {}}),
    (
        "cwMissing",
        {"error": "ResourceNotFound", "status": 404, "message": "Dashboard d does not exist"},
    ),
    ("ddbGet", {"ok": {"Item": {"pk": {"S": "a"}, "b": {"B": "AAE="}, "n": {"N": "2"}}}}),
    (
        "ddbMissing",
        {
            "error": "ResourceNotFoundException",
            "status": 400,
            "message": "Requested resource not found",
        },
    ),
    (
        "sts",
        {
            "ok": {
                "Account": "000000000000",
                "Arn": "arn:aws:iam::000000000000:root",
                "UserId": "AKIDEXAMPLE",
            }
        },
    ),
    ("lambdaInvoke", {"status": 200, "payload": '{"a":1}', "functionError": "Unhandled"}),
    (
        "lambdaMissing",
        {
            "error": "ResourceNotFoundException",
            "status": 404,
            "message": "Function not found: nope",
        },
    ),
    (
        "iamMissing",
        {
            "error": "NoSuchEntityException",
            "status": 404,
            "message": "The role with name r cannot be found.",
        },
    ),
]


@pytest.mark.parametrize(("call", "expected"), CASES, ids=[c[0] for c in CASES])
def test_js_sdk_reads_our_responses(
    results: dict[str, Any], call: str, expected: dict[str, Any]
) -> None:
    assert results[call] == expected


def test_js_sdk_list_objects_v2(results: dict[str, Any]) -> None:
    contents = results["s3List"]["ok"]["Contents"]
    assert (contents[0]["Key"], contents[0]["LastModified"], contents[0]["Size"]) == (
        "a b/c€.txt",
        "2024-01-02T03:04:05.678Z",
        5,
    )


def test_js_sdk_cloudwatch_timestamps(results: dict[str, Any]) -> None:
    got = results["cwGet"]["ok"]["MetricDataResults"][0]
    assert (got["Timestamps"], got["Values"]) == (["2024-01-02T03:04:05.678Z"], [1.5])


def test_js_sdk_requests_reached_the_right_operations(
    results: dict[str, Any], servers: dict[str, _Server]
) -> None:
    seen = {svc: [name for name, _ in srv.seen] for svc, srv in servers.items()}
    assert seen["s3"] == [
        "PutObject",
        "GetObject",
        "ListObjectsV2",
        "HeadObject",
        "GetObject",
        "GetBucketLocation",
    ]
