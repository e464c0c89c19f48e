"""Table control plane through boto3: create/describe/list/update/delete, waiters, validation,
TTL and tags."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _name() -> str:
    return f"tbl-{uuid.uuid4().hex[:10]}"


def test_create_describe_waiters_delete(ddb: Any) -> None:
    name = _name()
    out = ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 3},
        SSESpecification={"Enabled": True},
        Tags=[{"Key": "team", "Value": "a"}],
        DeletionProtectionEnabled=True,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    desc = out["TableDescription"]
    assert desc["TableArn"] == f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}"
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
    ddb.put_item(TableName=name, Item={"id": {"S": "x"}, "v": {"S": "12345"}})
    table = ddb.describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE" and table["ItemCount"] == 1
    assert table["TableSizeBytes"] == len("id") + 1 + len("v") + 5
    assert table["LatestStreamArn"].startswith(table["TableArn"] + "/stream/")
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    assert table["SSEDescription"]["Status"] == "ENABLED"
    assert table["DeletionProtectionEnabled"] is True
    tags = ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]
    assert tags == [{"Key": "team", "Value": "a"}]
    with pytest.raises(ClientError) as e:
        ddb.delete_table(TableName=name)
    assert e.value.response["Error"]["Code"] == "ValidationException"
    ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
    assert ddb.delete_table(TableName=name)["TableDescription"]["TableStatus"] == "DELETING"
    ddb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
    with pytest.raises(ClientError) as e:
        ddb.describe_table(TableName=name)
    assert e.value.response["Error"] == {
        "Code": "ResourceNotFoundException",
        "Message": f"Requested resource not found: Table: {name} not found",
    }


def test_list_tables_paginates(ddb: Any, make_table: Callable[..., str]) -> None:
    names = sorted(make_table() for _ in range(5))
    seen: list[str] = []
    kwargs: dict[str, Any] = {"Limit": 2}
    while True:
        out = ddb.list_tables(**kwargs)
        seen.extend(out["TableNames"])
        if "LastEvaluatedTableName" not in out:
            break
        kwargs["ExclusiveStartTableName"] = out["LastEvaluatedTableName"]
    assert all(n in seen for n in names)
    assert seen == sorted(seen)
    paged = [n for page in ddb.get_paginator("list_tables").paginate() for n in page["TableNames"]]
    assert paged == seen


CREATE_ERRORS = [
    (
        {"AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"},
                                  {"AttributeName": "b", "AttributeType": "S"}],
         "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}]},
        "One or more parameter values were invalid: Number of attributes in KeySchema does not "
        "exactly match number of attributes defined in AttributeDefinitions",
    ),
    (
        {"AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}],
         "KeySchema": [{"AttributeName": "a", "KeyType": "RANGE"}]},
        "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
    ),
    (
        {"AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}],
         "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
         "LocalSecondaryIndexes": [{"IndexName": "lsi", "KeySchema": [
             {"AttributeName": "a", "KeyType": "HASH"}, {"AttributeName": "a", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "ALL"}}]},
        "One or more parameter values were invalid: Table KeySchema does not have a range key, "
        "which is required when specifying a LocalSecondaryIndex",
    ),
    (
        {"AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}],
         "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
         "BillingMode": "PROVISIONED"},
        "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must "
        "both be specified when BillingMode is PROVISIONED",
    ),
    (
        {"AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}],
         "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
         "GlobalSecondaryIndexes": [{"IndexName": "gsi", "KeySchema": [
             {"AttributeName": "g", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}]},
        "One or more parameter values were invalid: Some index key attributes are not defined in "
        "AttributeDefinitions. Keys: [g], AttributeDefinitions: [a]",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("params", "message"), CREATE_ERRORS)
def test_create_table_validation(ddb: Any, params: dict[str, Any], message: str) -> None:
    params.setdefault("BillingMode", "PAY_PER_REQUEST")
    with pytest.raises(ClientError) as e:
        ddb.create_table(TableName=_name(), **params)
    assert e.value.response["Error"] == {"Code": "ValidationException", "Message": message}


def test_create_existing_table(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    with pytest.raises(ClientError) as e:
        ddb.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )  # fmt: skip
    assert e.value.response["Error"] == {
        "Code": "ResourceInUseException", "Message": f"Table already exists: {name}"}  # fmt: skip


def test_update_table_gsi_backfill_and_streams(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    for i in range(10):
        item = {"pk": {"S": f"p{i}"}, "sk": {"S": "s"}}
        if i % 2:
            item["g"] = {"S": "odd"}
        ddb.put_item(TableName=name, Item=item)
    ddb.update_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
            "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    )  # fmt: skip
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
    desc = ddb.describe_table(TableName=name)["Table"]
    gsi = desc["GlobalSecondaryIndexes"][0]
    assert gsi["IndexStatus"] == "ACTIVE" and gsi["ItemCount"] == 5
    assert desc["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    out = ddb.query(TableName=name, IndexName="by-g", KeyConditionExpression="g = :g",
                    ExpressionAttributeValues={":g": {"S": "odd"}})  # fmt: skip
    assert out["Count"] == 5
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False},
                     GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-g"}}])  # fmt: skip
    desc = ddb.describe_table(TableName=name)["Table"]
    assert "GlobalSecondaryIndexes" not in desc
    assert desc["StreamSpecification"] == {"StreamEnabled": False}
    assert [d["AttributeName"] for d in desc["AttributeDefinitions"]] == ["pk", "sk"]


def test_ttl_and_tags(ddb: Any, make_table: Callable[..., str]) -> None:
    name = make_table()
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "DISABLED"}  # fmt: skip
    spec = {"Enabled": True, "AttributeName": "expires"}
    assert ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=spec)[
        "TimeToLiveSpecification"] == spec  # fmt: skip
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}  # fmt: skip
    with pytest.raises(ClientError) as e:
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=spec)
    assert e.value.response["Error"]["Message"] == "TimeToLive is already enabled"
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    ddb.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(ClientError) as e:
        ddb.list_tags_of_resource(ResourceArn=arn + "x")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
