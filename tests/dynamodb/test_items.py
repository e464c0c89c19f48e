"""Single-item operations through boto3: conditions, updates, return values, legacy parameters and
AWS's validation messages."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError


def _err(e: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_put_get_round_trip_all_types(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table()
    item = {
        "pk": {"S": "k"}, "sk": {"S": "1"}, "s": {"S": ""}, "n": {"N": "-0012.500"},
        "b": {"B": b"\x00\xff"}, "eb": {"B": b""}, "bool": {"BOOL": False}, "nul": {"NULL": True},
        "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.50"]}, "bs": {"BS": [b"x"]},
        "l": {"L": [{"S": "x"}, {"N": "1"}]}, "m": {"M": {"inner": {"M": {"x": {"S": "y"}}}}},
        "big": {"N": "99999999999999999999999999999999999999"}, "tiny": {"N": "1E-130"},
    }  # fmt: skip
    ddb.put_item(TableName=t, Item=item)
    got = ddb.get_item(TableName=t, Key={"pk": {"S": "k"}, "sk": {"S": "1"}})["Item"]
    assert got["n"] == {"N": "-12.5"}
    assert got["ns"]["NS"] == ["1", "2.5"]
    assert got["b"] == {"B": b"\x00\xff"}
    assert got["big"] == {"N": "99999999999999999999999999999999999999"}
    assert got["m"] == item["m"]
    assert got["s"] == {"S": ""} and got["eb"] == {"B": b""}


def test_get_missing_item_and_projection(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table()
    assert "Item" not in ddb.get_item(TableName=t, Key={"pk": {"S": "x"}, "sk": {"S": "y"}})
    ddb.put_item(TableName=t, Item={"pk": {"S": "x"}, "sk": {"S": "y"}, "a": {"N": "1"},
                                    "m": {"M": {"b": {"N": "2"}, "c": {"N": "3"}}}})  # fmt: skip
    got = ddb.get_item(
        TableName=t, Key={"pk": {"S": "x"}, "sk": {"S": "y"}},
        ProjectionExpression="#m.b, a", ExpressionAttributeNames={"#m": "m"}, ConsistentRead=True,
        ReturnConsumedCapacity="TOTAL",
    )  # fmt: skip
    assert got["Item"] == {"a": {"N": "1"}, "m": {"M": {"b": {"N": "2"}}}}
    assert got["ConsumedCapacity"]["CapacityUnits"] == 1.0
    legacy = ddb.get_item(TableName=t, Key={"pk": {"S": "x"}, "sk": {"S": "y"}},
                          AttributesToGet=["a"])  # fmt: skip
    assert legacy["Item"] == {"a": {"N": "1"}}


def test_resource_api_with_conditions(resource: Any, make_table: Callable[..., str]) -> None:
    table = resource.Table(make_table())
    table.put_item(Item={"pk": "u", "sk": "1", "count": 1, "tags": {"a"}})
    table.update_item(
        Key={"pk": "u", "sk": "1"},
        UpdateExpression="SET #c = #c + :one ADD tags :t",
        ConditionExpression=Attr("count").lt(5) & Attr("tags").contains("a"),
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":one": 1, ":t": {"b"}},
    )
    item = table.get_item(Key={"pk": "u", "sk": "1"})["Item"]
    assert item["count"] == Decimal(2) and item["tags"] == {"a", "b"}
    with pytest.raises(ClientError) as e:
        table.put_item(Item={"pk": "u", "sk": "1"}, ConditionExpression=Attr("pk").not_exists())
    assert _err(e) == ("ConditionalCheckFailedException", "The conditional request failed")


def test_return_values(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table()
    key = {"pk": {"S": "r"}, "sk": {"S": "1"}}
    out = ddb.put_item(TableName=t, Item={**key, "a": {"N": "1"}}, ReturnValues="ALL_OLD")
    assert "Attributes" not in out
    out = ddb.put_item(TableName=t, Item={**key, "a": {"N": "2"}, "b": {"S": "x"}},
                       ReturnValues="ALL_OLD")  # fmt: skip
    assert out["Attributes"] == {**key, "a": {"N": "1"}}
    vals = {":v": {"N": "5"}}
    upd = {"TableName": t, "Key": key, "UpdateExpression": "SET a = :v",
           "ExpressionAttributeValues": vals}  # fmt: skip
    assert ddb.update_item(**upd, ReturnValues="UPDATED_OLD")["Attributes"] == {"a": {"N": "2"}}
    vals[":v"] = {"N": "6"}
    assert ddb.update_item(**upd, ReturnValues="UPDATED_NEW")["Attributes"] == {"a": {"N": "6"}}
    vals[":v"] = {"N": "7"}
    assert ddb.update_item(**upd, ReturnValues="ALL_NEW")["Attributes"] == {
        **key, "a": {"N": "7"}, "b": {"S": "x"}}  # fmt: skip
    vals[":v"] = {"N": "8"}
    assert ddb.update_item(**upd, ReturnValues="ALL_OLD")["Attributes"]["a"] == {"N": "7"}
    assert "Attributes" not in ddb.update_item(**upd, ReturnValues="NONE")
    out = ddb.delete_item(TableName=t, Key=key, ReturnValues="ALL_OLD")
    assert out["Attributes"]["a"] == {"N": "8"}
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=t, Item=key, ReturnValues="ALL_NEW")
    assert _err(e) == ("ValidationException", "Return values set to invalid value")


def test_update_creates_item_and_nested_paths(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table()
    key = {"pk": {"S": "n"}, "sk": {"S": "1"}}
    ddb.update_item(
        TableName=t, Key=key,
        UpdateExpression="SET doc = :d, lst = :l",
        ExpressionAttributeValues={":d": {"M": {"a": {"M": {}}}}, ":l": {"L": [{"N": "1"}]}},
    )  # fmt: skip
    ddb.update_item(
        TableName=t, Key=key,
        UpdateExpression="SET doc.a.b = :x, lst[5] = :y REMOVE nothing",
        ExpressionAttributeValues={":x": {"S": "x"}, ":y": {"N": "9"}},
    )  # fmt: skip
    ddb.update_item(
        TableName=t, Key=key, UpdateExpression="SET lst = list_append(lst, :z)",
        ExpressionAttributeValues={":z": {"L": [{"N": "3"}]}},
    )  # fmt: skip
    item = ddb.get_item(TableName=t, Key=key)["Item"]
    assert item["doc"] == {"M": {"a": {"M": {"b": {"S": "x"}}}}}
    assert item["lst"] == {"L": [{"N": "1"}, {"N": "9"}, {"N": "3"}]}


def test_update_validation_errors(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table()
    key = {"pk": {"S": "v"}, "sk": {"S": "1"}}
    cases = [
        ({"UpdateExpression": "SET pk = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},
         "Cannot update attribute pk. This attribute is part of the key"),
        ({"UpdateExpression": "SET a = :v", "ExpressionAttributeValues": {":v": {"S": "x"},
                                                                          ":w": {"S": "y"}}},
         "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"),
        ({"UpdateExpression": "SET #a = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},
         "Invalid UpdateExpression: An expression attribute name used in the document path is "
         "not defined; attribute name: #a"),
        ({"UpdateExpression": "SET size = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}},
         "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: size"),
        ({"UpdateExpression": "SET a = b + :v", "ExpressionAttributeValues": {":v": {"N": "1"}}},
         "The provided expression refers to an attribute that does not exist in the item"),
    ]  # fmt: skip
    for extra, message in cases:
        with pytest.raises(ClientError) as e:
            ddb.update_item(TableName=t, Key=key, **extra)
        assert _err(e) == ("ValidationException", message)


VALIDATION = [
    ({"pk": {"S": "a"}}, "One or more parameter values were invalid: Missing the key sk in the item"),
    ({"pk": {"N": "1"}, "sk": {"S": "a"}},
     "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"),
    ({"pk": {"S": ""}, "sk": {"S": "a"}},
     "One or more parameter values are not valid. The AttributeValue for a key attribute cannot "
     "contain an empty string value. Key: pk"),
    ({"pk": {"S": "a"}, "sk": {"S": "a"}, "x": {"SS": []}},
     "One or more parameter values were invalid: An string set  may not be empty"),
    ({"pk": {"S": "a"}, "sk": {"S": "a"}, "x": {"NS": ["1", "1.0"]}},
     "One or more parameter values were invalid: Input collection [1, 1.0] contains duplicates."),
    ({"pk": {"S": "a"}, "sk": {"S": "a"}, "x": {"N": "1234567890123456789012345678901234567891"}},
     "Attempting to store more than 38 significant digits in a Number"),
    ({"pk": {"S": "a"}, "sk": {"S": "a"}, "x": {"N": "1E+126"}},
     "Number overflow. Attempting to store a number with magnitude larger than supported range"),
    ({"pk": {"S": "a"}, "sk": {"S": "a"}, "x": {"N": "1E-131"}},
     "Number underflow. Attempting to store a number with magnitude smaller than supported range"),
    ({"pk": {"S": "a"}, "sk": {"S": "a"}, "x": {"N": "abc"}},
     "A value provided cannot be converted into a number"),
    ({"pk": {"S": "a"}, "sk": {"S": "a"}, "x": {"S": "y" * 400 * 1024}},
     "Item size has exceeded the maximum allowed size"),
    ({"pk": {"S": "a"}, "sk": {"S": "a"}, "x": {"NULL": False}},
     "One or more parameter values were invalid: Null attribute value types must have the value of true"),
]  # fmt: skip


@pytest.mark.parametrize(("item", "message"), VALIDATION)
def test_put_validation(ddb: Any, make_table: Callable[..., str], item: Any, message: str) -> None:
    t = make_table()
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=t, Item=item)
    assert _err(e) == ("ValidationException", message)


def test_nesting_depth_limit(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table()
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(32):
        value = {"M": {"x": value}}
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=t, Item={"pk": {"S": "a"}, "sk": {"S": "a"}, "deep": value})
    assert _err(e) == ("ValidationException", "Nesting Levels have exceeded supported limits")


def test_key_shape_errors(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table()
    for key in ({"pk": {"S": "a"}}, {"pk": {"S": "a"}, "sk": {"N": "1"}},
                {"pk": {"S": "a"}, "sk": {"S": "b"}, "x": {"S": "c"}}):  # fmt: skip
        with pytest.raises(ClientError) as e:
            ddb.get_item(TableName=t, Key=key)
        assert _err(e) == ("ValidationException",
                           "The provided key element does not match the schema")  # fmt: skip
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName="missing-table", Key={"pk": {"S": "a"}})
    assert _err(e) == ("ResourceNotFoundException", "Requested resource not found")


def test_condition_functions_and_return_on_failure(
    ddb: Any, make_table: Callable[..., str]
) -> None:
    t = make_table()
    key = {"pk": {"S": "c"}, "sk": {"S": "1"}}
    ddb.put_item(TableName=t, Item={**key, "n": {"N": "5"}, "s": {"S": "hello"},
                                    "l": {"L": [{"S": "a"}]}})  # fmt: skip
    ok = [
        "n BETWEEN :a AND :b",
        "n IN (:a, :five)",
        "attribute_type(s, :S)",
        "begins_with(s, :h)",
        "contains(l, :la)",
        "size(s) = :five",
        "NOT (n < :a) AND (s <> :h OR n = :five)",
    ]
    vals = {":a": {"N": "1"}, ":b": {"N": "10"}, ":five": {"N": "5"}, ":S": {"S": "S"},
            ":h": {"S": "he"}, ":la": {"S": "a"}}  # fmt: skip
    for cond in ok:
        used = {k: v for k, v in vals.items() if k in cond}
        ddb.put_item(TableName=t, Item={**key, "n": {"N": "5"}, "s": {"S": "hello"},
                                        "l": {"L": [{"S": "a"}]}},
                     ConditionExpression=cond, ExpressionAttributeValues=used)  # fmt: skip
    with pytest.raises(ClientError) as e:
        ddb.delete_item(TableName=t, Key=key, ConditionExpression="n > :b",
                        ExpressionAttributeValues={":b": {"N": "10"}},
                        ReturnValuesOnConditionCheckFailure="ALL_OLD")  # fmt: skip
    assert e.value.response["Item"]["n"] == {"N": "5"}


def test_legacy_expected_and_attribute_updates(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table()
    key = {"pk": {"S": "l"}, "sk": {"S": "1"}}
    ddb.put_item(TableName=t, Item={**key, "a": {"N": "1"}}, Expected={"pk": {"Exists": False}})
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=t, Item=key, Expected={"pk": {"Exists": False}})
    assert _err(e)[0] == "ConditionalCheckFailedException"
    ddb.update_item(
        TableName=t, Key=key,
        AttributeUpdates={"a": {"Action": "ADD", "Value": {"N": "2"}},
                          "b": {"Action": "PUT", "Value": {"SS": ["x"]}}},
        Expected={"a": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}]}},
    )  # fmt: skip
    item = ddb.get_item(TableName=t, Key=key)["Item"]
    assert item["a"] == {"N": "3"} and item["b"] == {"SS": ["x"]}
    ddb.update_item(TableName=t, Key=key, AttributeUpdates={"b": {"Action": "DELETE"}},
                    Expected={"a": {"Value": {"N": "3"}}})  # fmt: skip
    assert "b" not in ddb.get_item(TableName=t, Key=key)["Item"]
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=t, Item=key, Expected={"pk": {"Exists": False}},
                     ConditionExpression="attribute_not_exists(pk)")  # fmt: skip
    assert _err(e) == (
        "ValidationException",
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
    )


def test_consumed_capacity_and_collection_metrics(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table(
        extra_defs=[{"AttributeName": "l1", "AttributeType": "S"}],
        LocalSecondaryIndexes=[{
            "IndexName": "by-l1",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "l1", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
    )  # fmt: skip
    out = ddb.put_item(TableName=t, Item={"pk": {"S": "c"}, "sk": {"S": "1"}, "x": {"S": "y" * 3000}},
                       ReturnConsumedCapacity="INDEXES", ReturnItemCollectionMetrics="SIZE")  # fmt: skip
    assert out["ConsumedCapacity"]["TableName"] == t
    assert out["ConsumedCapacity"]["CapacityUnits"] == 3.0
    assert out["ItemCollectionMetrics"]["ItemCollectionKey"] == {"pk": {"S": "c"}}
