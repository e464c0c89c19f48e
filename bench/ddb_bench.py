"""DynamoDB: PutItem, GetItem and Query (100 items of one partition, in a table of 10,000 items)
through Overcast and through moto's server side by side, at concurrency 1 and 16, from a separate
load-generator process; plus the in-process engine CPU per operation (no HTTP, no protocol)."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import orjson
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from bench.common import PY, free_port, load, overcast_server, process

SECONDS = 4.0
TABLE = "bench"
PARTITIONS = 100
PER_PARTITION = 100
CONCURRENCY = (1, 16)
OPS = ("PutItem", "GetItem", "Query")


def _item(p: int, s: int) -> dict[str, Any]:
    return {
        "pk": {"S": f"user#{p}"}, "sk": {"N": str(s)}, "name": {"S": f"name {p}-{s}"},
        "age": {"N": str(20 + s % 50)}, "tags": {"SS": ["a", "b"]}, "active": {"BOOL": True},
    }  # fmt: skip


REQUESTS: dict[str, dict[str, Any]] = {
    "PutItem": {"TableName": TABLE, "Item": _item(PARTITIONS + 1, 1)},
    "GetItem": {"TableName": TABLE, "Key": {"pk": {"S": "user#7"}, "sk": {"N": "42"}}},
    "Query": {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "user#7"}},
    },
}


def signed(port: int, operation: str, params: dict[str, Any]) -> bytes:
    """A SigV4-signed DynamoDB JSON request as boto3 sends it, reused as-is by the load generator."""
    body = orjson.dumps(params).decode()
    req = AWSRequest(
        method="POST",
        url=f"http://127.0.0.1:{port}/",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"DynamoDB_20120810.{operation}",
        },
    )
    SigV4Auth(Credentials("test", "test"), "dynamodb", "us-east-1").add_auth(req)
    lines = ["POST / HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in req.headers.items() if k.lower() != "host"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def _client(port: int) -> Any:
    return boto3.client(
        "dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 10}),
    )  # fmt: skip


def _populate(port: int) -> None:
    ddb = _client(port)
    ddb.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
    )  # fmt: skip
    batch: list[dict[str, Any]] = []
    for p in range(PARTITIONS):
        for s in range(PER_PARTITION):
            batch.append({"PutRequest": {"Item": _item(p, s)}})
            if len(batch) == 25:
                ddb.batch_write_item(RequestItems={TABLE: batch})
                batch = []
    out = ddb.query(**REQUESTS["Query"])
    assert out["Count"] == PER_PARTITION, out["Count"]


def _measure(port: int, pid: int) -> dict[str, Any]:
    _populate(port)
    results: dict[str, Any] = {}
    for op in OPS:
        request = signed(port, op, REQUESTS[op])
        for c in CONCURRENCY:
            results[f"{op}_c{c}"] = load(port, pid, request, c, SECONDS)
    return results


def in_process() -> dict[str, float]:
    """Engine + store CPU per operation, calling the provider directly (durable store)."""
    from overcast.core.clock import SystemClock
    from overcast.core.context import RequestContext
    from overcast.core.http import HttpRequest
    from overcast.services.dynamodb.provider import DynamodbProvider
    from overcast.store import Store

    tmp = tempfile.mkdtemp()
    try:
        provider = DynamodbProvider(Store(Path(tmp)), SystemClock(), raw_json=True)
        ctx = RequestContext("bench")
        provider.create_table(ctx, {
            "TableName": TABLE, "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                     {"AttributeName": "sk", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}],
        })  # fmt: skip
        db = provider.db
        for p in range(PARTITIONS):
            for s in range(0, PER_PARTITION, 25):
                with db.transaction() as tx:
                    provider.batch_write_item_tx(tx, ctx, {"RequestItems": {TABLE: [
                        {"PutRequest": {"Item": _item(p, x)}} for x in range(s, s + 25)]}})  # fmt: skip
        out: dict[str, float] = {}
        n = 2000
        t0 = time.process_time()
        for i in range(n):
            # One durable commit per PutItem, as a lone request gets.
            with db.transaction() as tx:
                provider.put_item_tx(
                    tx, ctx, {"TableName": TABLE, "Item": _item(PARTITIONS + 1, i)}
                )
        out["PutItem_cpu_us"] = (time.process_time() - t0) / n * 1e6
        t0 = time.process_time()
        for i in range(n):
            provider.get_item(ctx, {"TableName": TABLE, "Key": {
                "pk": {"S": f"user#{i % PARTITIONS}"}, "sk": {"N": str(i % PER_PARTITION)}}})  # fmt: skip
        out["GetItem_cpu_us"] = (time.process_time() - t0) / n * 1e6
        q = 300
        t0 = time.process_time()
        for _ in range(q):
            got = provider.query(ctx, REQUESTS["Query"])
        out["Query100_cpu_us"] = (time.process_time() - t0) / q * 1e6
        assert got["Count"] == PER_PARTITION
        # As answered to a client when the codec takes the stored JSON as it is (raw_json).
        outside = RequestContext("bench", http=HttpRequest("POST", "/"))
        t0 = time.process_time()
        for _ in range(q):
            got = provider.query(outside, REQUESTS["Query"])
        out["Query100_raw_cpu_us"] = (time.process_time() - t0) / q * 1e6
        assert got["Count"] == PER_PARTITION
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run() -> dict[str, Any]:
    results: dict[str, Any] = {"in_process": in_process()}
    with overcast_server() as (port, proc):
        results["overcast"] = _measure(port, proc.pid)
    moto_port = free_port()
    moto = str(Path(PY).parent / "moto_server")
    if not Path(moto).exists():
        moto = shutil.which("moto_server") or moto
    with process([moto, "-p", str(moto_port)], f"http://127.0.0.1:{moto_port}/moto-api/") as mp:
        results["moto"] = _measure(moto_port, mp.pid)
    for op in OPS:
        for c in CONCURRENCY:
            o, m = results["overcast"][f"{op}_c{c}"], results["moto"][f"{op}_c{c}"]
            results[f"ratio_{op}_c{c}"] = {
                "throughput": o["rps"] / m["rps"],
                "server_cpu": m["server_cpu_us"] / o["server_cpu_us"],
            }
    return results


def report(results: dict[str, Any]) -> list[str]:
    ip = results["in_process"]
    lines = [
        "in-process engine+store CPU per op: "
        f"PutItem {ip['PutItem_cpu_us']:.0f} µs, GetItem {ip['GetItem_cpu_us']:.0f} µs, "
        f"Query(100 items) {ip['Query100_cpu_us']:.0f} µs "
        f"({ip['Query100_raw_cpu_us']:.0f} µs handing on the stored JSON)",
        f"{'':22} {'ops/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'server CPU µs/op':>17}",
    ]
    for op in OPS:
        for c in CONCURRENCY:
            for name in ("overcast", "moto"):
                r = results[name][f"{op}_c{c}"]
                lines.append(
                    f"{op + ' c=' + str(c) + ' ' + name:22} {r['rps']:9.0f} {r['p50_ms']:8.2f} "
                    f"{r['p99_ms']:8.2f} {r['server_cpu_us']:17.0f}"
                )
            ratio = results[f"ratio_{op}_c{c}"]
            lines.append(
                f"  {op} c={c}: Overcast {ratio['throughput']:.1f}x moto's throughput, "
                f"{ratio['server_cpu']:.1f}x less server CPU per op"
            )
    return lines


if __name__ == "__main__":
    for line in report(run()):
        print(line)
