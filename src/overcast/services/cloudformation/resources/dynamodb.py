"""AWS::DynamoDB::Table through the DynamoDB API."""

from __future__ import annotations

import asyncio
from typing import Any

from overcast.services.cloudformation.resources.base import (
    ResourceContext,
    ResourceError,
    ResourceHandler,
    Result,
    as_bool,
    as_int,
    ignore_missing,
    pick,
    tags_list,
)

_MISSING = ("ResourceNotFoundException",)


def _throughput(value: dict[str, Any] | None) -> dict[str, int] | None:
    if not value:
        return None
    return {
        "ReadCapacityUnits": as_int(value.get("ReadCapacityUnits")) or 0,
        "WriteCapacityUnits": as_int(value.get("WriteCapacityUnits")) or 0,
    }


def _index(ix: dict[str, Any], provisioned: bool) -> dict[str, Any]:
    out = pick(ix, "IndexName", "KeySchema", "Projection")
    tp = _throughput(ix.get("ProvisionedThroughput"))
    if provisioned and tp:
        out["ProvisionedThroughput"] = tp
    return out


def _stream(props: dict[str, Any]) -> dict[str, Any] | None:
    spec = props.get("StreamSpecification")
    if not spec:
        return None
    return {"StreamEnabled": True, "StreamViewType": spec["StreamViewType"]}


async def _wait_active(rc: ResourceContext, name: str) -> dict[str, Any]:
    for _ in range(1200):
        table = (await rc.call("dynamodb", "DescribeTable", {"TableName": name}))["Table"]
        busy = table.get("TableStatus") != "ACTIVE" or any(
            g.get("IndexStatus") not in (None, "ACTIVE")
            for g in table.get("GlobalSecondaryIndexes") or []
        )
        if not busy:
            return dict(table)
        await asyncio.sleep(0.05)
    raise ResourceError(f"Table {name} did not become ACTIVE")


def _attrs(table: dict[str, Any]) -> dict[str, Any]:
    out = {"Arn": table["TableArn"]}
    if table.get("LatestStreamArn"):
        out["StreamArn"] = table["LatestStreamArn"]
    return out


class Table(ResourceHandler):
    """Ref: the table name. GetAtt: Arn, StreamArn."""

    TYPE = "AWS::DynamoDB::Table"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        name = str(props.get("TableName") or rc.physical_name(255))
        billing = props.get("BillingMode", "PROVISIONED")
        provisioned = billing == "PROVISIONED"
        params: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props.get("AttributeDefinitions") or [],
            "KeySchema": props["KeySchema"],
            "BillingMode": billing,
        }
        if provisioned:
            params["ProvisionedThroughput"] = _throughput(props.get("ProvisionedThroughput")) or {
                "ReadCapacityUnits": 5,
                "WriteCapacityUnits": 5,
            }
        if props.get("GlobalSecondaryIndexes"):
            params["GlobalSecondaryIndexes"] = [
                _index(i, provisioned) for i in props["GlobalSecondaryIndexes"]
            ]
        if props.get("LocalSecondaryIndexes"):
            params["LocalSecondaryIndexes"] = [
                _index(i, False) for i in props["LocalSecondaryIndexes"]
            ]
        stream = _stream(props)
        if stream:
            params["StreamSpecification"] = stream
        if props.get("SSESpecification"):
            params["SSESpecification"] = {
                "Enabled": bool(as_bool(props["SSESpecification"].get("SSEEnabled")))
            }
        if props.get("DeletionProtectionEnabled") is not None:
            params["DeletionProtectionEnabled"] = as_bool(props["DeletionProtectionEnabled"])
        tags = tags_list(props)
        if tags:
            params["Tags"] = tags
        await rc.call("dynamodb", "CreateTable", params)
        table = await _wait_active(rc, name)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and as_bool(ttl.get("Enabled")):
            await rc.call(
                "dynamodb",
                "UpdateTimeToLive",
                {
                    "TableName": name,
                    "TimeToLiveSpecification": {
                        "AttributeName": ttl["AttributeName"],
                        "Enabled": True,
                    },
                },
            )
        return Result(name, _attrs(table))

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        billing = new.get("BillingMode", "PROVISIONED")
        provisioned = billing == "PROVISIONED"
        params: dict[str, Any] = {"TableName": physical_id}
        if old.get("BillingMode", "PROVISIONED") != billing:
            params["BillingMode"] = billing
        if provisioned and _throughput(old.get("ProvisionedThroughput")) != _throughput(
            new.get("ProvisionedThroughput")
        ):
            params["ProvisionedThroughput"] = _throughput(new.get("ProvisionedThroughput"))
        if _stream(old) != _stream(new):
            params["StreamSpecification"] = _stream(new) or {"StreamEnabled": False}
        if old.get("DeletionProtectionEnabled") != new.get("DeletionProtectionEnabled"):
            params["DeletionProtectionEnabled"] = bool(
                as_bool(new.get("DeletionProtectionEnabled"))
            )
        if len(params) > 1:
            if "StreamSpecification" in params and _stream(old) and _stream(new):
                # changing the view type: turn the stream off, then on again
                await rc.call(
                    "dynamodb",
                    "UpdateTable",
                    {"TableName": physical_id, "StreamSpecification": {"StreamEnabled": False}},
                )
                await _wait_active(rc, physical_id)
            if params.get("AttributeDefinitions") is None:
                params.pop("AttributeDefinitions", None)
            await rc.call("dynamodb", "UpdateTable", params)
            await _wait_active(rc, physical_id)
        old_gsi = {i["IndexName"]: i for i in old.get("GlobalSecondaryIndexes") or []}
        new_gsi = {i["IndexName"]: i for i in new.get("GlobalSecondaryIndexes") or []}
        for name in old_gsi.keys() - new_gsi.keys():
            await rc.call(
                "dynamodb",
                "UpdateTable",
                {
                    "TableName": physical_id,
                    "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": name}}],
                },
            )
            await _wait_active(rc, physical_id)
        for name in new_gsi.keys() - old_gsi.keys():
            await rc.call(
                "dynamodb",
                "UpdateTable",
                {
                    "TableName": physical_id,
                    "AttributeDefinitions": new.get("AttributeDefinitions") or [],
                    "GlobalSecondaryIndexUpdates": [{"Create": _index(new_gsi[name], provisioned)}],
                },
            )
            await _wait_active(rc, physical_id)
        if old.get("TimeToLiveSpecification") != new.get("TimeToLiveSpecification"):
            ttl = new.get("TimeToLiveSpecification") or old.get("TimeToLiveSpecification") or {}
            enabled = bool(new.get("TimeToLiveSpecification")) and as_bool(ttl.get("Enabled"))
            await rc.call(
                "dynamodb",
                "UpdateTimeToLive",
                {
                    "TableName": physical_id,
                    "TimeToLiveSpecification": {
                        "AttributeName": ttl["AttributeName"],
                        "Enabled": bool(enabled),
                    },
                },
            )
        old_tags, new_tags = tags_list(old), tags_list(new)
        if old_tags != new_tags:
            arn = attributes["Arn"]
            gone = [t["Key"] for t in old_tags if t["Key"] not in {n["Key"] for n in new_tags}]
            if gone:
                await rc.call("dynamodb", "UntagResource", {"ResourceArn": arn, "TagKeys": gone})
            if new_tags:
                await rc.call("dynamodb", "TagResource", {"ResourceArn": arn, "Tags": new_tags})
        table = await _wait_active(rc, physical_id)
        return Result(physical_id, _attrs(table))

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call("dynamodb", "DeleteTable", {"TableName": physical_id}), *_MISSING
        )


HANDLERS: list[ResourceHandler] = [Table()]
