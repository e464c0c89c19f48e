"""The TableDescription shape, built from a table's metadata and its live item counts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from overcast.services.dynamodb.schema import Index, Table

if TYPE_CHECKING:
    from overcast.services.dynamodb.base import DynamoBase


def _key_schema(
    hash_key: tuple[str, str], range_key: tuple[str, str] | None
) -> list[dict[str, str]]:
    out = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    if range_key:
        out.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
    return out


def _throughput(pt: dict[str, Any]) -> dict[str, Any]:
    return {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": pt.get("ReadCapacityUnits", 0),
        "WriteCapacityUnits": pt.get("WriteCapacityUnits", 0),
    }


def _index(base: DynamoBase, table: Table, ix: Index) -> dict[str, Any]:
    count, size = base.items.index_counts(base.db.read(), table.tid, ix.name)
    proj: dict[str, Any] = {"ProjectionType": ix.projection}
    if ix.non_key:
        proj["NonKeyAttributes"] = list(ix.non_key)
    out: dict[str, Any] = {
        "IndexName": ix.name,
        "KeySchema": _key_schema(ix.hash, ix.range),
        "Projection": proj,
        "IndexSizeBytes": size,
        "ItemCount": count,
        "IndexArn": f"{table.arn}/index/{ix.name}",
    }
    if ix.kind == "GSI":
        out["IndexStatus"] = ix.status
        out["ProvisionedThroughput"] = _throughput(ix.throughput)
    return out


def describe_table(base: DynamoBase, table: Table) -> dict[str, Any]:
    """DescribeTable's Table member."""
    count, size = base.items.counts(base.db.read(), table.tid)
    desc: dict[str, Any] = {
        "AttributeDefinitions": table.attribute_definitions,
        "TableName": table.name,
        "KeySchema": _key_schema(table.hash, table.range),
        "TableStatus": table.status,
        "CreationDateTime": table.created,
        "ProvisionedThroughput": _throughput(table.throughput),
        "TableSizeBytes": size,
        "ItemCount": count,
        "TableArn": table.arn,
        "TableId": table.table_id,
        "DeletionProtectionEnabled": table.deletion_protection,
        "TableClassSummary": {"TableClass": table.table_class},
    }
    if table.billing_mode == "PAY_PER_REQUEST" or table.billing_updated:
        summary: dict[str, Any] = {"BillingMode": table.billing_mode}
        if table.billing_mode == "PAY_PER_REQUEST":
            summary["LastUpdateToPayPerRequestDateTime"] = table.billing_updated or table.created
        desc["BillingModeSummary"] = summary
    lsis = [_index(base, table, ix) for ix in table.indexes if ix.kind == "LSI"]
    gsis = [_index(base, table, ix) for ix in table.indexes if ix.kind == "GSI"]
    if lsis:
        desc["LocalSecondaryIndexes"] = lsis
    if gsis:
        desc["GlobalSecondaryIndexes"] = gsis
    if table.stream_arn:
        if table.stream_view_type:
            desc["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": table.stream_view_type,
            }
        else:
            desc["StreamSpecification"] = {"StreamEnabled": False}
        desc["LatestStreamLabel"] = table.stream_label
        desc["LatestStreamArn"] = table.stream_arn
    if table.sse and table.sse.get("Enabled"):
        desc["SSEDescription"] = {
            "Status": "ENABLED",
            "SSEType": table.sse.get("SSEType", "KMS"),
            "KMSMasterKeyArn": table.sse.get("KMSMasterKeyId")
            or f"arn:aws:kms:{table.region}:{table.account}:key/aws-dynamodb",
        }
    return desc
