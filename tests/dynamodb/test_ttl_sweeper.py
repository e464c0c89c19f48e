"""The TTL sweeper on a fake clock: expired items go, as service deletions in the stream; items
past the five-year horizon, items without a number there, and future ones stay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from overcast.core.clock import FakeClock
from overcast.core.context import RequestContext
from overcast.services.dynamodb.provider import DynamodbProvider
from overcast.services.dynamodb.streams import DynamodbStreamsProvider
from overcast.store import Store


def _put(p: DynamodbProvider, ctx: RequestContext, item: dict[str, Any]) -> None:
    with p.db.transaction() as tx:
        p.put_item_tx(tx, ctx, {"TableName": "ttl-table", "Item": item})


def test_sweep_with_fake_clock(tmp_path: Path) -> None:
    clock = FakeClock(start=1_800_000_000.0)
    store = Store(tmp_path, durable=False)
    p = DynamodbProvider(store, clock)
    s = DynamodbStreamsProvider(store, clock)
    ctx = RequestContext("t")
    p.create_table(ctx, {
        "TableName": "ttl-table", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    })  # fmt: skip
    now = int(clock.now())
    _put(p, ctx, {"pk": {"S": "soon"}, "exp": {"N": str(now + 100)}})
    _put(p, ctx, {"pk": {"S": "later"}, "exp": {"N": str(now + 10_000)}})
    _put(p, ctx, {"pk": {"S": "ancient"}, "exp": {"N": str(now - 6 * 365 * 86400)}})
    _put(p, ctx, {"pk": {"S": "text"}, "exp": {"S": "soon"}})
    p.update_time_to_live(ctx, {"TableName": "ttl-table",
                                "TimeToLiveSpecification": {"Enabled": True,
                                                            "AttributeName": "exp"}})  # fmt: skip
    assert p.sweep() == 0
    clock.advance(101)
    assert p.sweep() == 1
    left = {i["pk"]["S"] for i in p.scan(ctx, {"TableName": "ttl-table"})["Items"]}
    assert left == {"later", "ancient", "text"}
    arn = p.describe_table(ctx, {"TableName": "ttl-table"})["Table"]["LatestStreamArn"]
    shard = s.describe_stream(ctx, {"StreamArn": arn})["StreamDescription"]["Shards"][0]["ShardId"]
    it = s.get_shard_iterator(ctx, {"StreamArn": arn, "ShardId": shard,
                                    "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]  # fmt: skip
    records = s.get_records(ctx, {"ShardIterator": it})["Records"]
    removes = [r for r in records if r["eventName"] == "REMOVE"]
    assert len(removes) == 1
    assert removes[0]["userIdentity"] == {
        "PrincipalId": "dynamodb.amazonaws.com",
        "Type": "Service",
    }
    assert removes[0]["dynamodb"]["OldImage"]["pk"] == {"S": "soon"}
    # Stream records older than 24 hours are trimmed; "later" has expired meanwhile.
    clock.advance(25 * 3600)
    assert p.sweep() == 1
    it = s.get_shard_iterator(ctx, {"StreamArn": arn, "ShardId": shard,
                                    "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]  # fmt: skip
    records = s.get_records(ctx, {"ShardIterator": it})["Records"]
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records] == [
        ("REMOVE", "later")
    ]
