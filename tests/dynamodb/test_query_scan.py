"""Query and Scan through boto3: DynamoDB's key order, pagination, filters after Limit, Select
modes, secondary indexes with their projections, and parallel scans."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError


def _all_pages(ddb: Any, op: str, **kwargs: Any) -> list[Any]:
    items: list[Any] = []
    while True:
        out = getattr(ddb, op)(**kwargs)
        items.extend(out.get("Items", []))
        if "LastEvaluatedKey" not in out:
            return items
        kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]


NUMBERS = [
    "-1E+125", "-99999999999999999999999999999999999999", "-1.5", "-1", "-0.000001", "0",
    "1E-130", "0.5", "1", "1.0000000000000000000000000000000000001", "2", "10", "10.5", "99",
    "100", "12345678901234567890123456789012345678", "9.9999999999999999999999999999999999999E+125",
]  # fmt: skip


def test_number_sort_order_full_range(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table(range_type="N")
    for n in reversed(NUMBERS):
        ddb.put_item(TableName=t, Item={"pk": {"S": "p"}, "sk": {"N": n}})
    out = _all_pages(ddb, "query", TableName=t, KeyConditionExpression="pk = :p",
                     ExpressionAttributeValues={":p": {"S": "p"}}, Limit=4)  # fmt: skip
    from decimal import Decimal

    got = [Decimal(i["sk"]["N"]) for i in out]
    assert got == sorted(Decimal(n) for n in NUMBERS)
    desc = ddb.query(TableName=t, KeyConditionExpression="pk = :p",
                     ExpressionAttributeValues={":p": {"S": "p"}}, ScanIndexForward=False)  # fmt: skip
    assert [Decimal(i["sk"]["N"]) for i in desc["Items"]] == list(reversed(got))


def test_string_and_binary_order(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table()
    words = ["a", "B", "ab", "é", "z", "😀", "\u00ff", "aa", "A"]
    for w in words:
        ddb.put_item(TableName=t, Item={"pk": {"S": "p"}, "sk": {"S": w}})
    out = ddb.query(TableName=t, KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": {"S": "p"}})  # fmt: skip
    assert [i["sk"]["S"] for i in out["Items"]] == sorted(words, key=lambda w: w.encode())
    tb = make_table(range_type="B")
    blobs = [b"\xff", b"\x00", b"\x00\x00", b"\x7f", b"\x80", b"a"]
    for b in blobs:
        ddb.put_item(TableName=tb, Item={"pk": {"S": "p"}, "sk": {"B": b}})
    out = ddb.query(TableName=tb, KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": {"S": "p"}})  # fmt: skip
    assert [i["sk"]["B"] for i in out["Items"]] == sorted(blobs)


def test_key_conditions(resource: Any, make_table: Callable[..., str]) -> None:
    table = resource.Table(make_table())
    with table.batch_writer() as w:
        for i in range(20):
            w.put_item(Item={"pk": "p", "sk": f"item#{i:02d}", "v": i})
        w.put_item(Item={"pk": "p", "sk": "other"})
        w.put_item(Item={"pk": "q", "sk": "item#00"})

    def sks(cond: Any, **kw: Any) -> list[str]:
        return [i["sk"] for i in table.query(KeyConditionExpression=cond, **kw)["Items"]]

    assert len(sks(Key("pk").eq("p"))) == 21
    assert sks(Key("pk").eq("p") & Key("sk").begins_with("item#1"))[:2] == ["item#10", "item#11"]
    assert sks(Key("pk").eq("p") & Key("sk").between("item#05", "item#07")) == [
        "item#05", "item#06", "item#07"]  # fmt: skip
    assert sks(Key("pk").eq("p") & Key("sk").lt("item#02")) == ["item#00", "item#01"]
    assert sks(Key("pk").eq("p") & Key("sk").lte("item#01")) == ["item#00", "item#01"]
    assert sks(Key("pk").eq("p") & Key("sk").gt("item#19")) == ["other"]
    assert sks(Key("pk").eq("p") & Key("sk").gte("item#19")) == ["item#19", "other"]
    assert sks(Key("pk").eq("p") & Key("sk").eq("other")) == ["other"]


def test_filter_applies_after_limit(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table(range_type="N")
    for i in range(10):
        ddb.put_item(TableName=t, Item={"pk": {"S": "p"}, "sk": {"N": str(i)},
                                        "even": {"BOOL": i % 2 == 0}})  # fmt: skip
    out = ddb.query(TableName=t, KeyConditionExpression="pk = :p", FilterExpression="even = :t",
                    ExpressionAttributeValues={":p": {"S": "p"}, ":t": {"BOOL": True}}, Limit=5)  # fmt: skip
    assert out["ScannedCount"] == 5 and out["Count"] == 3
    assert out["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "4"}}
    cnt = ddb.query(TableName=t, KeyConditionExpression="pk = :p", Select="COUNT",
                    ExpressionAttributeValues={":p": {"S": "p"}})  # fmt: skip
    assert cnt["Count"] == 10 and "Items" not in cnt
    legacy = ddb.query(
        TableName=t,
        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
                       "sk": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "8"}]}},
        QueryFilter={"even": {"ComparisonOperator": "EQ", "AttributeValueList": [{"BOOL": True}]}},
    )  # fmt: skip
    assert [i["sk"]["N"] for i in legacy["Items"]] == ["8"]
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=t, KeyConditionExpression="pk = :p", FilterExpression="sk > :n",
                  ExpressionAttributeValues={":p": {"S": "p"}, ":n": {"N": "1"}})  # fmt: skip
    assert e.value.response["Error"]["Message"] == (
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"
    )


def test_query_key_condition_errors(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table()
    cases = [
        ("sk = :s", {":s": {"S": "a"}}, "Query condition missed key schema element: pk"),
        ("pk = :n", {":n": {"N": "1"}},
         "One or more parameter values were invalid: Condition parameter type does not match "
         "schema type"),
        ("pk = :s OR sk = :s", {":s": {"S": "a"}}, "Query key condition not supported"),
    ]  # fmt: skip
    for cond, vals, message in cases:
        with pytest.raises(ClientError) as e:
            ddb.query(TableName=t, KeyConditionExpression=cond, ExpressionAttributeValues=vals)
        assert e.value.response["Error"]["Message"] == message


def test_one_megabyte_pages(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table(range_type="N")
    blob = "x" * 100_000
    for i in range(25):
        ddb.put_item(TableName=t, Item={"pk": {"S": "p"}, "sk": {"N": str(i)}, "d": {"S": blob}})
    out = ddb.query(TableName=t, KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": {"S": "p"}})  # fmt: skip
    assert 9 <= out["Count"] <= 11 and "LastEvaluatedKey" in out
    scan = _all_pages(ddb, "scan", TableName=t)
    assert len(scan) == 25


def test_gsi_and_lsi_projections(ddb: Any, make_table: Callable[..., str]) -> None:
    t = make_table(
        extra_defs=[{"AttributeName": "g", "AttributeType": "S"},
                    {"AttributeName": "l", "AttributeType": "N"}],
        GlobalSecondaryIndexes=[
            {"IndexName": "keys-only", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}},
            {"IndexName": "include", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                                   {"AttributeName": "l", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a"]}},
        ],
        LocalSecondaryIndexes=[
            {"IndexName": "by-l", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                {"AttributeName": "l", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}},
        ],
    )  # fmt: skip
    for i in range(6):
        item = {"pk": {"S": "p"}, "sk": {"S": f"{i}"}, "a": {"N": str(i)}, "b": {"N": str(i)},
                "l": {"N": str(10 - i)}}  # fmt: skip
        if i < 4:
            item["g"] = {"S": "G"}
        ddb.put_item(TableName=t, Item=item)
    vals = {":g": {"S": "G"}}
    ko = ddb.query(TableName=t, IndexName="keys-only", KeyConditionExpression="g = :g",
                   ExpressionAttributeValues=vals)  # fmt: skip
    assert ko["Count"] == 4 and set(ko["Items"][0]) == {"pk", "sk", "g"}
    inc = ddb.query(TableName=t, IndexName="include", KeyConditionExpression="g = :g",
                    ExpressionAttributeValues=vals)  # fmt: skip
    assert [i["l"]["N"] for i in inc["Items"]] == ["7", "8", "9", "10"]
    assert set(inc["Items"][0]) == {"pk", "sk", "g", "l", "a"}
    page = ddb.query(TableName=t, IndexName="include", KeyConditionExpression="g = :g",
                     ExpressionAttributeValues=vals, Limit=2)  # fmt: skip
    assert set(page["LastEvaluatedKey"]) == {"pk", "sk", "g", "l"}
    rest = ddb.query(TableName=t, IndexName="include", KeyConditionExpression="g = :g",
                     ExpressionAttributeValues=vals, ExclusiveStartKey=page["LastEvaluatedKey"])  # fmt: skip
    assert [i["l"]["N"] for i in rest["Items"]] == ["9", "10"]
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=t, IndexName="include", KeyConditionExpression="g = :g",
                  ExpressionAttributeValues=vals, Select="ALL_ATTRIBUTES")  # fmt: skip
    assert "Select type ALL_ATTRIBUTES is not supported" in e.value.response["Error"]["Message"]
    lsi = ddb.query(TableName=t, IndexName="by-l", KeyConditionExpression="pk = :p AND l > :l",
                    ExpressionAttributeValues={":p": {"S": "p"}, ":l": {"N": "6"}},
                    Select="ALL_ATTRIBUTES")  # fmt: skip
    assert [i["sk"]["S"] for i in lsi["Items"]] == ["3", "2", "1", "0"]
    assert "b" in lsi["Items"][0]
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=t, IndexName="keys-only", KeyConditionExpression="g = :g",
                  ExpressionAttributeValues=vals, ConsistentRead=True)  # fmt: skip
    assert e.value.response["Error"]["Message"] == (
        "Consistent reads are not supported on global secondary indexes"
    )
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=t, Item={"pk": {"S": "p"}, "sk": {"S": "x"}, "g": {"N": "1"}})
    assert e.value.response["Error"]["Message"] == (
        "One or more parameter values were invalid: Type mismatch for Index Key g Expected: S "
        "Actual: N IndexName: keys-only"
    )


def test_scan_segments_filters_and_select(resource: Any, make_table: Callable[..., str]) -> None:
    table = resource.Table(make_table())
    with table.batch_writer() as w:
        for i in range(60):
            w.put_item(Item={"pk": f"p{i}", "sk": "s", "n": i})
    seen: list[str] = []
    for seg in range(4):
        out = table.scan(Segment=seg, TotalSegments=4)
        seen.extend(i["pk"] for i in out["Items"])
    assert sorted(seen) == sorted(f"p{i}" for i in range(60))
    out = table.scan(FilterExpression=Attr("n").gte(50))
    assert out["Count"] == 10 and out["ScannedCount"] == 60
    out = table.scan(ProjectionExpression="pk", Limit=7)
    assert out["Count"] == 7 and set(out["Items"][0]) == {"pk"} and "LastEvaluatedKey" in out
    with pytest.raises(ClientError) as e:
        table.scan(Segment=4, TotalSegments=4)
    assert e.value.response["Error"]["Message"] == (
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
        "Segment: 4 is not less than TotalSegments: 4"
    )
    legacy = table.scan(ScanFilter={"n": {"ComparisonOperator": "IN",
                                          "AttributeValueList": [1, 2, 3]}})  # fmt: skip
    assert legacy["Count"] == 3


def test_limit_reached_at_the_last_item_still_returns_the_key(ddb: Any, make_table: Any) -> None:
    name = make_table()
    for sk in ("a", "b", "c"):
        ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"S": sk}})
    page = ddb.query(
        TableName=name,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        Limit=3,
    )
    assert page["Count"] == 3
    assert page["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"S": "c"}}
    rest = ddb.query(
        TableName=name,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        Limit=3,
        ExclusiveStartKey=page["LastEvaluatedKey"],
    )
    assert rest["Count"] == 0 and "LastEvaluatedKey" not in rest
