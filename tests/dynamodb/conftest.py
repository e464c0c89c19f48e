"""Fixtures for the DynamoDB tests: clients against the session server and a table factory."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from tests.conftest import Server


@pytest.fixture
def ddb(server: Server) -> Any:
    return server.client("dynamodb")


@pytest.fixture
def streams(server: Server) -> Any:
    return server.client("dynamodbstreams")


@pytest.fixture
def resource(server: Server) -> Any:
    return boto3.resource(
        "dynamodb",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture
def make_table(ddb: Any) -> Iterator[Callable[..., str]]:
    """Create a table (HASH pk:S, optional RANGE sk) with a unique name; deleted afterwards."""
    made: list[str] = []

    def make(range_type: str | None = "S", hash_type: str = "S", **extra: Any) -> str:
        name = f"t-{uuid.uuid4().hex[:10]}"
        defs = [{"AttributeName": "pk", "AttributeType": hash_type}]
        keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
        if range_type:
            defs.append({"AttributeName": "sk", "AttributeType": range_type})
            keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        for d in extra.pop("extra_defs", []):
            defs.append(d)
        ddb.create_table(
            TableName=name,
            AttributeDefinitions=defs,
            KeySchema=keys,
            BillingMode="PAY_PER_REQUEST",
            **extra,
        )
        made.append(name)
        return name

    yield make
    for name in made:
        try:
            ddb.delete_table(TableName=name)
        except ddb.exceptions.ResourceNotFoundException:
            pass
