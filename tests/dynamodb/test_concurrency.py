"""Concurrent writers through group commit: conditions see each other's writes, counters add up,
and a failing write in a batch does not take the others down."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from tests.conftest import Server


def _parallel(n: int, fn: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=fn, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)


def test_only_one_conditional_create_wins(server: Server, make_table: Callable[..., str]) -> None:
    t = make_table(range_type=None)
    wins: list[int] = []
    losses: list[int] = []

    def create(i: int) -> None:
        ddb = server.client("dynamodb")
        for round_ in range(10):
            try:
                ddb.put_item(TableName=t, Item={"pk": {"S": f"lock{round_}"}, "by": {"N": str(i)}},
                             ConditionExpression="attribute_not_exists(pk)")  # fmt: skip
                wins.append(round_)
            except ClientError as e:
                assert e.response["Error"]["Code"] == "ConditionalCheckFailedException"
                losses.append(round_)

    _parallel(8, create)
    assert sorted(wins) == list(range(10))
    assert len(losses) == 70


def test_counters_add_up(server: Server, make_table: Callable[..., str]) -> None:
    t = make_table(range_type=None)

    def bump(i: int) -> None:
        ddb = server.client("dynamodb")
        for _ in range(25):
            ddb.update_item(TableName=t, Key={"pk": {"S": "counter"}}, UpdateExpression="ADD n :one",
                            ExpressionAttributeValues={":one": {"N": "1"}})  # fmt: skip

    _parallel(8, bump)
    ddb: Any = server.client("dynamodb")
    assert ddb.get_item(TableName=t, Key={"pk": {"S": "counter"}})["Item"]["n"] == {"N": "200"}
