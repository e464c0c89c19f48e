"""Crash safety: SIGKILL the server during a concurrent write load, restart it on the same data
directory, and check that every acknowledged write is there, every index agrees with its table and
every acknowledged write has its stream record."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.conftest import Server

TABLE = "crash-test"


def _create(ddb: Any) -> None:
    ddb.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-g",
                                 "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )  # fmt: skip


def _writer(srv: Server, n: int, acked: list[str], stop: threading.Event) -> None:
    ddb = srv.client("dynamodb")
    i = 0
    while not stop.is_set():
        key = f"w{n}-{i}"
        try:
            ddb.put_item(TableName=TABLE, Item={"pk": {"S": key}, "g": {"S": f"g{i % 7}"},
                                                "v": {"N": str(i)}})  # fmt: skip
            if i % 3 == 0:
                # Move an earlier item to another index partition (index entry must follow).
                ddb.update_item(TableName=TABLE, Key={"pk": {"S": key}},
                                UpdateExpression="SET g = :g",
                                ExpressionAttributeValues={":g": {"S": "moved"}})  # fmt: skip
                acked.append(key + "/moved")
            else:
                acked.append(key)
        except (BotoCoreError, ClientError, OSError):
            return
        i += 1


def _scan_all(ddb: Any, **kw: Any) -> list[Any]:
    items: list[Any] = []
    while True:
        out = ddb.scan(TableName=TABLE, **kw)
        items.extend(out["Items"])
        if "LastEvaluatedKey" not in out:
            return items
        kw["ExclusiveStartKey"] = out["LastEvaluatedKey"]


@pytest.mark.slow
def test_sigkill_during_writes_loses_nothing(server_factory: Callable[..., Server]) -> None:
    srv = server_factory().start()
    _create(srv.client("dynamodb"))
    acked: list[list[str]] = [[] for _ in range(6)]
    stop = threading.Event()
    threads = [threading.Thread(target=_writer, args=(srv, n, acked[n], stop)) for n in range(6)]
    for t in threads:
        t.start()
    time.sleep(2.0)
    srv.kill()
    stop.set()
    for t in threads:
        t.join(30)
    done = [k for lst in acked for k in lst]
    assert len(done) > 20, "the load never got going"

    again = server_factory(data_dir=srv.data_dir).start()
    ddb = again.client("dynamodb")
    items = {i["pk"]["S"]: i for i in _scan_all(ddb)}
    for entry in done:
        key, _, moved = entry.partition("/")
        assert key in items, f"acknowledged write {key} lost"
        if moved:
            assert items[key]["g"] == {"S": "moved"}
    # Every index agrees with its table.
    by_g: dict[str, set[str]] = {}
    for key, item in items.items():
        by_g.setdefault(item["g"]["S"], set()).add(key)
    indexed = _scan_all(ddb, IndexName="by-g")
    assert len(indexed) == len(items)
    for g, keys in by_g.items():
        got: set[str] = set()
        kw: dict[str, Any] = {}
        while True:
            out = ddb.query(TableName=TABLE, IndexName="by-g", KeyConditionExpression="g = :g",
                            ExpressionAttributeValues={":g": {"S": g}}, **kw)  # fmt: skip
            got.update(i["pk"]["S"] for i in out["Items"])
            if "LastEvaluatedKey" not in out:
                break
            kw["ExclusiveStartKey"] = out["LastEvaluatedKey"]
        assert got == keys, f"index partition {g} differs from the table"
    # Every item has its INSERT stream record.
    streams = again.client("dynamodbstreams")
    arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]  # fmt: skip
    inserted: set[str] = set()
    while it:
        out = streams.get_records(ShardIterator=it, Limit=1000)
        inserted.update(r["dynamodb"]["Keys"]["pk"]["S"] for r in out["Records"]
                        if r["eventName"] == "INSERT")  # fmt: skip
        if not out["Records"]:
            break
        it = out.get("NextShardIterator")
    assert set(items) == inserted
