"""Items handed back as their stored JSON text (raw_json) are, on the wire, the very documents the
decoded items encode to: every attribute type, pages with LastEvaluatedKey, every read that uses
them. Internal calls (dispatch) always get decoded items."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import orjson
import pytest

from overcast.core.clock import SystemClock
from overcast.core.context import RequestContext
from overcast.core.http import HttpRequest
from overcast.services.dynamodb.provider import DynamodbProvider
from overcast.store import Store


def _wire(result: dict[str, Any]) -> Any:
    """A result as the JSON codec puts it on the wire (binaries base64)."""

    def default(obj: Any) -> Any:
        if isinstance(obj, bytes):
            return base64.b64encode(obj).decode()
        raise TypeError(type(obj).__name__)

    return orjson.loads(orjson.dumps(result, default=default))


def _item(i: int) -> dict[str, Any]:
    return {
        "pk": {"S": "p"}, "sk": {"N": str(i)}, "s": {"S": f"naïve {i} null"},
        "n": {"N": "-1.50"}, "b": {"B": bytes([i, 0, 255])}, "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": [b"\x00", b"\x01"]},
        "m": {"M": {"deep": {"B": b"\x02"}, "l": {"L": [{"NULL": True}, {"BOOL": False}]}}},
    }  # fmt: skip


@pytest.fixture
def providers(tmp_path: Path) -> tuple[DynamodbProvider, DynamodbProvider]:
    store = Store(tmp_path)
    plain = DynamodbProvider(store, SystemClock())
    plain.create_table(RequestContext("setup"), {
        "TableName": "tbl", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "sk", "AttributeType": "N"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                      {"AttributeName": "sk", "KeyType": "RANGE"}],
    })  # fmt: skip
    with plain.db.transaction() as tx:
        for i in range(5):
            plain.put_item_tx(tx, RequestContext("setup"), {"TableName": "tbl", "Item": _item(i)})
    return plain, DynamodbProvider(store, SystemClock(), raw_json=True)


def _outside() -> RequestContext:
    return RequestContext("r", http=HttpRequest("POST", "/"))


KEY = {"pk": {"S": "p"}, "sk": {"N": "3"}}
READS: list[tuple[str, dict[str, Any]]] = [
    ("get_item", {"TableName": "tbl", "Key": KEY, "ReturnConsumedCapacity": "TOTAL"}),
    ("get_item", {"TableName": "tbl", "Key": {"pk": {"S": "p"}, "sk": {"N": "9"}}}),
    ("get_item", {"TableName": "tbl", "Key": KEY, "ProjectionExpression": "b, m.deep"}),
    ("query", {"TableName": "tbl", "KeyConditionExpression": "pk = :p",
               "ExpressionAttributeValues": {":p": {"S": "p"}}}),
    ("query", {"TableName": "tbl", "KeyConditionExpression": "pk = :p", "Limit": 2,
               "ScanIndexForward": False, "ExpressionAttributeValues": {":p": {"S": "p"}},
               "ReturnConsumedCapacity": "TOTAL"}),
    ("scan", {"TableName": "tbl", "Limit": 3}),
    ("scan", {"TableName": "tbl", "FilterExpression": "sk > :n",
              "ExpressionAttributeValues": {":n": {"N": "1"}}}),
    ("batch_get_item", {"RequestItems": {"tbl": {"Keys": [KEY, {"pk": {"S": "p"},
                                                              "sk": {"N": "0"}}]}},
                        "ReturnConsumedCapacity": "TOTAL"}),
    ("transact_get_items", {"TransactItems": [{"Get": {"TableName": "tbl", "Key": KEY}}]}),
]  # fmt: skip


@pytest.mark.parametrize(("operation", "params"), READS)
def test_raw_items_are_the_decoded_items_on_the_wire(
    providers: tuple[DynamodbProvider, DynamodbProvider], operation: str, params: dict[str, Any]
) -> None:
    plain, raw = providers
    expected = getattr(plain, operation)(_outside(), params)
    got = getattr(raw, operation)(_outside(), params)
    assert _wire(got) == _wire(expected)


def test_internal_calls_get_decoded_items(
    providers: tuple[DynamodbProvider, DynamodbProvider],
) -> None:
    _, raw = providers
    ctx = _outside().child("dynamodb", "GetItem")
    out = raw.get_item(ctx, {"TableName": "tbl", "Key": KEY})
    assert out["Item"]["b"] == {"B": bytes([3, 0, 255])}
