"""DynamoDB Streams through boto3 (all four view types, every iterator type) and TTL expiry."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest


def _records(streams: Any, arn: str, kind: str = "TRIM_HORIZON", **kw: Any) -> list[Any]:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType=kind, **kw)
    return list(streams.get_records(ShardIterator=it["ShardIterator"])["Records"])


@pytest.mark.parametrize("view", ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"])
def test_view_types(ddb: Any, streams: Any, make_table: Callable[..., str], view: str) -> None:
    t = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
    key = {"pk": {"S": "a"}, "sk": {"S": "b"}}
    ddb.put_item(TableName=t, Item={**key, "v": {"N": "1"}})
    ddb.put_item(TableName=t, Item={**key, "v": {"N": "1"}})  # unchanged: no record
    ddb.update_item(TableName=t, Key=key, UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"N": "2"}})  # fmt: skip
    ddb.delete_item(TableName=t, Key=key)
    arn = ddb.describe_table(TableName=t)["Table"]["LatestStreamArn"]
    recs = _records(streams, arn)
    assert [r["eventName"] for r in recs] == ["INSERT", "MODIFY", "REMOVE"]
    for r in recs:
        assert r["dynamodb"]["Keys"] == key and r["dynamodb"]["StreamViewType"] == view
        assert r["eventSource"] == "aws:dynamodb"
    new = "NEW" in view
    old = "OLD" in view
    assert ("NewImage" in recs[0]["dynamodb"]) == new
    assert ("OldImage" in recs[1]["dynamodb"]) == old
    if new:
        assert recs[1]["dynamodb"]["NewImage"]["v"] == {"N": "2"}
    if old:
        assert recs[2]["dynamodb"]["OldImage"]["v"] == {"N": "2"}
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in recs]
    assert seqs == sorted(seqs)


def test_iterator_types_and_list(ddb: Any, streams: Any, make_table: Callable[..., str]) -> None:
    t = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    for i in range(3):
        ddb.put_item(TableName=t, Item={"pk": {"S": f"k{i}"}, "sk": {"S": "s"}})
    arn = ddb.describe_table(TableName=t)["Table"]["LatestStreamArn"]
    listed = streams.list_streams(TableName=t)["Streams"]
    assert listed == [{"StreamArn": arn, "TableName": t, "StreamLabel": arn.rsplit("/", 1)[1]}]
    desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert desc["StreamStatus"] == "ENABLED" and desc["KeySchema"][0]["AttributeName"] == "pk"
    recs = _records(streams, arn)
    seq = [r["dynamodb"]["SequenceNumber"] for r in recs]
    at = _records(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=seq[1])
    assert [r["dynamodb"]["SequenceNumber"] for r in at] == seq[1:]
    after = _records(streams, arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=seq[1])
    assert [r["dynamodb"]["SequenceNumber"] for r in after] == seq[2:]
    shard = desc["Shards"][0]["ShardId"]
    latest = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                        ShardIteratorType="LATEST")["ShardIterator"]  # fmt: skip
    assert streams.get_records(ShardIterator=latest)["Records"] == []
    ddb.put_item(TableName=t, Item={"pk": {"S": "new"}, "sk": {"S": "s"}})
    out = streams.get_records(ShardIterator=latest)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in out["Records"]] == ["new"]
    again = streams.get_records(ShardIterator=out["NextShardIterator"])
    assert again["Records"] == []


def test_ttl_deletes_expired_items_as_service(
    ddb: Any, streams: Any, make_table: Callable[..., str]
) -> None:
    t = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "OLD_IMAGE"})
    ddb.update_time_to_live(TableName=t, TimeToLiveSpecification={"Enabled": True,
                                                                  "AttributeName": "exp"})  # fmt: skip
    now = int(time.time())
    ddb.put_item(
        TableName=t, Item={"pk": {"S": "old"}, "sk": {"S": "s"}, "exp": {"N": str(now - 60)}}
    )
    ddb.put_item(
        TableName=t, Item={"pk": {"S": "new"}, "sk": {"S": "s"}, "exp": {"N": str(now + 3600)}}
    )
    ddb.put_item(TableName=t, Item={"pk": {"S": "none"}, "sk": {"S": "s"}})
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if ddb.scan(TableName=t, Select="COUNT")["Count"] == 2:
            break
        time.sleep(0.2)
    keys = sorted(i["pk"]["S"] for i in ddb.scan(TableName=t)["Items"])
    assert keys == ["new", "none"]
    arn = ddb.describe_table(TableName=t)["Table"]["LatestStreamArn"]
    removal = [r for r in _records(streams, arn) if r["eventName"] == "REMOVE"]
    assert len(removal) == 1
    assert removal[0]["userIdentity"] == {
        "PrincipalId": "dynamodb.amazonaws.com",
        "Type": "Service",
    }
    assert removal[0]["dynamodb"]["OldImage"]["pk"] == {"S": "old"}
