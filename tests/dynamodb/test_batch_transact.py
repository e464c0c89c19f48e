"""BatchGetItem, BatchWriteItem, TransactWriteItems and TransactGetItems through boto3."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _key(i: int) -> dict[str, Any]:
    return {"pk": {"S": f"k{i}"}, "sk": {"S": "s"}}


def test_batch_write_and_get(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table()
    out = ddb.batch_write_item(RequestItems={t: [
        {"PutRequest": {"Item": {**_key(i), "v": {"N": str(i)}}}} for i in range(25)]})  # fmt: skip
    assert out["UnprocessedItems"] == {}
    got = ddb.batch_get_item(RequestItems={t: {"Keys": [_key(i) for i in range(30)],
                                               "ProjectionExpression": "v"}})  # fmt: skip
    assert sorted(int(i["v"]["N"]) for i in got["Responses"][t]) == list(range(25))
    assert got["UnprocessedKeys"] == {}
    ddb.batch_write_item(RequestItems={t: [{"DeleteRequest": {"Key": _key(i)}} for i in range(10)]})
    assert ddb.scan(TableName=t, Select="COUNT")["Count"] == 15


def test_batch_limits(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table()
    t2 = make_table()
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={t: [
            {"PutRequest": {"Item": _key(i)}} for i in range(13)], t2: [
            {"PutRequest": {"Item": _key(i)}} for i in range(13)]})  # fmt: skip
    assert (
        "Member must have length less than or equal to 25" in e.value.response["Error"]["Message"]
    )
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={t: [{"PutRequest": {"Item": _key(1)}},
                                               {"DeleteRequest": {"Key": _key(1)}}]})  # fmt: skip
    assert e.value.response["Error"]["Message"] == "Provided list of item keys contains duplicates"
    with pytest.raises(ClientError) as e:
        ddb.batch_get_item(RequestItems={t: {"Keys": [_key(i) for i in range(51)]},
                                         t2: {"Keys": [_key(i) for i in range(50)]}})  # fmt: skip
    assert e.value.response["Error"]["Message"] == (
        "Too many items requested for the BatchGetItem call")  # fmt: skip
    with pytest.raises(ClientError) as e:
        ddb.batch_get_item(RequestItems={t: {"Keys": [_key(1), _key(1)]}})
    assert e.value.response["Error"]["Message"] == "Provided list of item keys contains duplicates"


def test_resource_batch_writer(resource: Any, make_table: Callable[..., str]) -> None:
    table = resource.Table(make_table())
    with table.batch_writer() as w:
        for i in range(60):
            w.put_item(Item={"pk": f"k{i}", "sk": "s"})
    assert table.scan(Select="COUNT")["Count"] == 60


def test_transact_write_all_or_nothing(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table()
    ddb.put_item(TableName=t, Item={**_key(1), "n": {"N": "1"}})
    ddb.put_item(TableName=t, Item={**_key(3), "n": {"N": "1"}})
    actions = [
        {"Put": {"TableName": t, "Item": {**_key(2), "n": {"N": "2"}}}},
        {"Update": {"TableName": t, "Key": _key(1), "UpdateExpression": "SET n = n + :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"ConditionCheck": {"TableName": t, "Key": _key(3), "ConditionExpression": "n = :five",
                            "ExpressionAttributeValues": {":five": {"N": "5"}},
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
    ]  # fmt: skip
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=actions)
    assert e.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert e.value.response["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[None, None, ConditionalCheckFailed]"
    )
    reasons = e.value.response["CancellationReasons"]
    assert reasons[2]["Item"]["n"] == {"N": "1"}
    assert "Item" not in ddb.get_item(TableName=t, Key=_key(2))
    actions[2] = {"Delete": {"TableName": t, "Key": _key(3)}}
    ddb.transact_write_items(TransactItems=actions)
    got = ddb.transact_get_items(TransactItems=[
        {"Get": {"TableName": t, "Key": _key(i)}} for i in (1, 2, 3)])["Responses"]  # fmt: skip
    assert got[0]["Item"]["n"] == {"N": "2"} and got[1]["Item"]["n"] == {"N": "2"}
    assert got[2] == {}


def test_transaction_rules_and_idempotency(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table()
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": t, "Item": _key(1)}},
            {"Delete": {"TableName": t, "Key": _key(1)}}])  # fmt: skip
    assert e.value.response["Error"]["Message"] == (
        "Transaction request cannot include multiple operations on one item")  # fmt: skip
    token = uuid.uuid4().hex
    upd = [{"Update": {"TableName": t, "Key": _key(5), "UpdateExpression": "ADD n :one",
                       "ExpressionAttributeValues": {":one": {"N": "1"}}}}]  # fmt: skip
    ddb.transact_write_items(TransactItems=upd, ClientRequestToken=token)
    ddb.transact_write_items(TransactItems=upd, ClientRequestToken=token)
    assert ddb.get_item(TableName=t, Key=_key(5))["Item"]["n"] == {"N": "1"}
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[{"Put": {"TableName": t, "Item": _key(6)}}],
                                 ClientRequestToken=token)  # fmt: skip
    assert e.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"


def test_transaction_of_100_actions(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table()
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": t, "Item": _key(i)}} for i in range(100)])  # fmt: skip
    assert ddb.scan(TableName=t, Select="COUNT")["Count"] == 100
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": t, "Item": _key(i)}} for i in range(101)])  # fmt: skip
    assert e.value.response["Error"]["Code"] == "ValidationException"
