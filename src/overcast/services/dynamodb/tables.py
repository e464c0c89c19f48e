"""Table operations: CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable, TTL and tags.
Tables become ACTIVE at once (new GSIs are backfilled inside the UpdateTable call)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from overcast.core import ids
from overcast.core.context import RequestContext
from overcast.engines.ddb.errors import DdbValidationError, invalid_params
from overcast.services.dynamodb.base import DynamoBase
from overcast.services.dynamodb.errors import (
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from overcast.services.dynamodb.schema import Index, Table
from overcast.services.dynamodb.tables_describe import describe_table

_NAME = re.compile(r"^[a-zA-Z0-9_.-]+$")
VIEW_TYPES = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")


def _constraint(value: Any, member: str, text: str) -> DdbValidationError:
    return DdbValidationError(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {text}"
    )


def check_table_name(name: str, member: str = "tableName") -> None:
    """AWS's constraints on table and index names."""
    if len(name) < 3:
        raise _constraint(name, member, "Member must have length greater than or equal to 3")
    if len(name) > 255:
        raise _constraint(name, member, "Member must have length less than or equal to 255")
    if not _NAME.match(name):
        raise _constraint(
            name, member, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )


def _key_schema(
    schema: list[dict[str, str]], defs: dict[str, str], where: str
) -> tuple[tuple[str, str], tuple[str, str] | None]:
    if not schema or len(schema) > 2:
        raise DdbValidationError(
            f"1 validation error detected: Value '{schema}' at '{where}' failed to satisfy "
            "constraint: Member must have length less than or equal to 2"
        )
    if schema[0].get("KeyType") != "HASH":
        raise DdbValidationError(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
        )
    if len(schema) == 2 and schema[1].get("KeyType") != "RANGE":
        raise DdbValidationError(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
        )
    if len(schema) == 2 and schema[0]["AttributeName"] == schema[1]["AttributeName"]:
        raise invalid_params(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name"
        )
    out = []
    for el in schema:
        name = el["AttributeName"]
        if name not in defs:
            raise DdbValidationError(
                "One or more parameter values were invalid: Some index key attributes are not "
                f"defined in AttributeDefinitions. Keys: [{', '.join(e['AttributeName'] for e in schema)}], "
                f"AttributeDefinitions: [{', '.join(defs)}]"
            )
        out.append((name, defs[name]))
    return out[0], (out[1] if len(out) == 2 else None)


def _projection(p: dict[str, Any], name: str) -> tuple[str, tuple[str, ...]]:
    ptype = p.get("ProjectionType", "ALL") if p else "ALL"
    non_key = tuple(p.get("NonKeyAttributes") or ()) if p else ()
    if ptype == "INCLUDE" and not non_key:
        raise invalid_params("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
    if ptype != "INCLUDE" and non_key:
        raise invalid_params(f"ProjectionType is {ptype}, but NonKeyAttributes is specified")
    return ptype, non_key


def _throughput(params: dict[str, Any], mode: str, what: str = "") -> dict[str, Any]:
    pt = params.get("ProvisionedThroughput")
    if mode == "PROVISIONED":
        if not pt:
            raise invalid_params(
                "ReadCapacityUnits and WriteCapacityUnits must both be specified when "
                "BillingMode is PROVISIONED"
            )
        return {"ReadCapacityUnits": pt["ReadCapacityUnits"],
                "WriteCapacityUnits": pt["WriteCapacityUnits"]}  # fmt: skip
    if pt:
        raise invalid_params(
            "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode "
            "is PAY_PER_REQUEST"
        )
    return {}


def _label(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


class TablesMixin(DynamoBase):
    """The control plane of tables."""

    def create_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["TableName"]
        check_table_name(name)
        defs_list = params.get("AttributeDefinitions") or []
        defs = {d["AttributeName"]: d["AttributeType"] for d in defs_list}
        if len(defs) != len(defs_list):
            raise invalid_params("Duplicate AttributeName in AttributeDefinitions")
        for t in defs.values():
            if t not in ("S", "N", "B"):
                raise _constraint(t, "attributeDefinitions.member.attributeType",
                                  "Member must satisfy enum value set: [B, N, S]")  # fmt: skip
        hash_key, range_key = _key_schema(params["KeySchema"], defs, "keySchema")
        mode = params.get("BillingMode") or "PROVISIONED"
        throughput = _throughput(params, mode)
        indexes: list[Index] = []
        used = {hash_key[0], *([range_key[0]] if range_key else [])}
        for lsi in params.get("LocalSecondaryIndexes") or []:
            iname = lsi["IndexName"]
            check_table_name(iname, "indexName")
            if range_key is None:
                raise invalid_params(
                    "Table KeySchema does not have a range key, which is required when specifying "
                    "a LocalSecondaryIndex"
                )
            ih, ir = _key_schema(lsi["KeySchema"], defs, "localSecondaryIndexes.keySchema")
            if ih[0] != hash_key[0]:
                raise invalid_params(
                    "Index KeySchema does not have the same leading hash key as table KeySchema "
                    f"for index: {iname}. index hash key: {ih[0]}, table hash key: {hash_key[0]}"
                )
            if ir is None:
                raise invalid_params(f"Index KeySchema must have a range key for index: {iname}")
            ptype, non_key = _projection(lsi.get("Projection") or {}, iname)
            indexes.append(Index(iname, "LSI", ih, ir, ptype, non_key))
            used.update(n for n in (ih[0], ir[0]))
        for gsi in params.get("GlobalSecondaryIndexes") or []:
            indexes.append(self._gsi(gsi, defs, mode))
            used.update(indexes[-1].key_names())
        seen: set[str] = set()
        for ix in indexes:
            if ix.name in seen:
                raise invalid_params(f"Duplicate index name: {ix.name}")
            seen.add(ix.name)
        if set(defs) - used:
            raise invalid_params(
                "Number of attributes in KeySchema does not exactly match number of attributes "
                "defined in AttributeDefinitions"
            )
        if len([i for i in indexes if i.kind == "LSI"]) > 5:
            raise DdbValidationError(
                "One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of 5"
            )
        if len([i for i in indexes if i.kind == "GSI"]) > 20:
            raise LimitExceededException("GSI count exceeds the per-table limit of 20")
        if self.find_table(ctx, name) is not None:
            raise ResourceInUseException(f"Table already exists: {name}")
        now = self.clock.now()
        with self.db.transaction() as tx:
            cur = tx.execute(
                "INSERT INTO table_ids (account, region, name) VALUES (?, ?, ?)",
                (ctx.account_id, ctx.region, name),
            )
            tid = int(cur.lastrowid or 0)
            table = Table(
                account=ctx.account_id, region=ctx.region, name=name, tid=tid,
                table_id=str(uuid.uuid4()), created=now, hash=hash_key, range=range_key,
                attribute_definitions=[dict(d) for d in defs_list], billing_mode=mode,
                throughput=throughput, indexes=indexes,
                tags={t["Key"]: t["Value"] for t in params.get("Tags") or []},
                deletion_protection=bool(params.get("DeletionProtectionEnabled", False)),
                sse=params.get("SSESpecification"),
                table_class=params.get("TableClass") or "STANDARD",
            )  # fmt: skip
            spec = params.get("StreamSpecification") or {}
            if spec.get("StreamEnabled"):
                self._enable_stream(tx, table, spec, now)
            self.save_table(tx, table)
        return {"TableDescription": self._describe(table, creating=True)}

    def _gsi(self, gsi: dict[str, Any], defs: dict[str, str], mode: str) -> Index:
        iname = gsi["IndexName"]
        check_table_name(iname, "indexName")
        ih, ir = _key_schema(gsi["KeySchema"], defs, "globalSecondaryIndexes.keySchema")
        ptype, non_key = _projection(gsi.get("Projection") or {}, iname)
        pt = gsi.get("ProvisionedThroughput")
        if mode == "PROVISIONED" and not pt:
            raise invalid_params(f"ProvisionedThroughput must be specified for index: {iname}")
        if mode == "PAY_PER_REQUEST" and pt:
            raise invalid_params(
                "One or more parameter values were invalid: ProvisionedThroughput should not be "
                f"specified for index: {iname} when BillingMode is PAY_PER_REQUEST"
            )
        return Index(iname, "GSI", ih, ir, ptype, non_key, throughput=dict(pt or {}))

    def _enable_stream(self, tx: Any, table: Table, spec: dict[str, Any], now: float) -> None:
        view = spec.get("StreamViewType")
        if view not in VIEW_TYPES:
            raise invalid_params("StreamViewType must be provided when StreamEnabled is true" if
                                 view is None else f"Invalid StreamViewType: {view}")  # fmt: skip
        label = _label(now)
        arn = f"{table.arn}/stream/{label}"
        shard = f"shardId-{int(now * 1000):020d}-{ids.token(8).lower()}"
        tx.execute(
            "INSERT INTO streams (arn, account, region, table_name, tid, label, view_type, "
            "shard_id, created) VALUES (?,?,?,?,?,?,?,?,?)",
            (arn, table.account, table.region, table.name, table.tid, label, view, shard, now),
        )
        table.stream_arn, table.stream_label, table.stream_view_type = arn, label, view

    def _disable_stream(self, tx: Any, table: Table, now: float) -> None:
        tx.execute("UPDATE streams SET disabled = ? WHERE arn = ? AND disabled IS NULL",
                   (now, table.stream_arn))  # fmt: skip
        table.stream_view_type = None

    def _describe(self, table: Table, creating: bool = False) -> dict[str, Any]:
        return describe_table(self, table)

    def describe_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.table(ctx, params["TableName"], described=True)
        return {"Table": self._describe(table)}

    def list_tables(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("Limit", 100)
        if limit < 1 or limit > 100:
            raise _constraint(limit, "limit", "Member must have value less than or equal to 100"
                              if limit > 100 else "Member must have value greater than or equal to 1")  # fmt: skip
        names = [t.name for t in self.all_tables(ctx)]
        start = params.get("ExclusiveStartTableName")
        if start:
            names = [n for n in names if n > start]
        out: dict[str, Any] = {"TableNames": names[:limit]}
        if len(names) > limit:
            out["LastEvaluatedTableName"] = names[limit - 1]
        return out

    def update_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.table_copy(ctx, params["TableName"])
        now = self.clock.now()
        defs = {d["AttributeName"]: d["AttributeType"] for d in table.attribute_definitions}
        for d in params.get("AttributeDefinitions") or []:
            defs[d["AttributeName"]] = d["AttributeType"]
        with self.db.transaction() as tx:
            mode = params.get("BillingMode")
            if mode and mode != table.billing_mode:
                table.billing_mode = mode
                table.billing_updated = now
                table.throughput = _throughput(params, mode)
            elif params.get("ProvisionedThroughput"):
                if table.billing_mode != "PROVISIONED":
                    raise invalid_params(
                        "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
                        "BillingMode is PAY_PER_REQUEST"
                    )
                table.throughput = _throughput(params, "PROVISIONED")
            updates = params.get("GlobalSecondaryIndexUpdates") or []
            if len([u for u in updates if "Create" in u or "Delete" in u]) > 1:
                raise LimitExceededException(
                    "Subscriber limit exceeded: Only 1 online index can be created or deleted "
                    "simultaneously per table"
                )
            for upd in updates:
                self._index_update(tx, table, upd, defs)
            spec = params.get("StreamSpecification")
            if spec is not None:
                if spec.get("StreamEnabled"):
                    if table.stream_view_type is not None:
                        raise DdbValidationError(
                            f"Table already has an enabled stream: TableName: {table.name}"
                        )
                    self._enable_stream(tx, table, spec, now)
                else:
                    if table.stream_view_type is None:
                        raise DdbValidationError(
                            "Table already has no enabled stream" if False else
                            f"Stream is not enabled for table: {table.name}"
                        )  # fmt: skip
                    self._disable_stream(tx, table, now)
            if "DeletionProtectionEnabled" in params:
                table.deletion_protection = bool(params["DeletionProtectionEnabled"])
            if params.get("SSESpecification") is not None:
                table.sse = params["SSESpecification"]
            if params.get("TableClass"):
                table.table_class = params["TableClass"]
            used = set(table.key_names())
            for ix in table.indexes:
                used.update(ix.key_names())
            table.attribute_definitions = [
                {"AttributeName": n, "AttributeType": t} for n, t in defs.items() if n in used
            ]
            self.save_table(tx, table)
        return {"TableDescription": self._describe(table)}

    def _index_update(
        self, tx: Any, table: Table, upd: dict[str, Any], defs: dict[str, str]
    ) -> None:
        if "Create" in upd:
            new = self._gsi(upd["Create"], defs, table.billing_mode)
            if table.index(new.name) is not None:
                raise invalid_params(f"Index already exists: {new.name}")
            table.indexes.append(new)
            self.items.backfill_index(tx, table, new)
        elif "Delete" in upd:
            iname = upd["Delete"]["IndexName"]
            ix = table.index(iname)
            if ix is None or ix.kind != "GSI":
                raise ResourceNotFoundException(
                    f"Requested resource not found: Index: {iname} not found"
                )
            table.indexes.remove(ix)
            tx.execute("DELETE FROM index_items WHERE tid = ? AND iname = ?", (table.tid, iname))
        elif "Update" in upd:
            iname = upd["Update"]["IndexName"]
            ix = table.index(iname)
            if ix is None or ix.kind != "GSI":
                raise ResourceNotFoundException(
                    f"Requested resource not found: Index: {iname} not found"
                )
            ix.throughput = dict(upd["Update"].get("ProvisionedThroughput") or ix.throughput)

    def delete_table(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.table(ctx, params["TableName"], described=True)
        if table.deletion_protection:
            raise DdbValidationError(
                "Resource cannot be deleted as it is currently protected against deletion. "
                "Disable deletion protection first."
            )
        desc = self._describe(table)
        desc["TableStatus"] = "DELETING"
        now = self.clock.now()
        with self.db.transaction() as tx:
            if table.stream_view_type is not None:
                self._disable_stream(tx, table, now)
            self.items.delete_table_data(tx, table.tid)
            self.forget_table(tx, table)
        return {"TableDescription": desc}

    # -- TTL --------------------------------------------------------------------------------

    def update_time_to_live(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.table_copy(ctx, params["TableName"])
        spec = params["TimeToLiveSpecification"]
        enabled = bool(spec["Enabled"])
        attr = spec["AttributeName"]
        if enabled and table.ttl_status == "ENABLED":
            raise DdbValidationError("TimeToLive is already enabled")
        if not enabled and table.ttl_status != "ENABLED":
            raise DdbValidationError("TimeToLive is already disabled")
        with self.db.transaction() as tx:
            table.ttl_status = "ENABLED" if enabled else "DISABLED"
            table.ttl_attribute = attr if enabled else None
            self._reindex_ttl(tx, table)
            self.save_table(tx, table)
        return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attr}}

    def _reindex_ttl(self, tx: Any, table: Table) -> None:
        from overcast.services.dynamodb.storage import loads, ttl_of

        if table.ttl_status != "ENABLED":
            tx.execute("UPDATE items SET expires = NULL WHERE tid = ?", (table.tid,))
            return
        rows = tx.execute("SELECT pk, sk, item FROM items WHERE tid = ?", (table.tid,)).fetchall()
        for pk, sk, blob in rows:
            tx.execute(
                "UPDATE items SET expires = ? WHERE tid = ? AND pk = ? AND sk = ?",
                (ttl_of(table, loads(blob)), table.tid, pk, sk),
            )

    def describe_time_to_live(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.table(ctx, params["TableName"], described=True)
        desc: dict[str, Any] = {"TimeToLiveStatus": table.ttl_status}
        if table.ttl_attribute:
            desc["AttributeName"] = table.ttl_attribute
        return {"TimeToLiveDescription": desc}

    # -- tags -------------------------------------------------------------------------------

    def _by_arn(self, ctx: RequestContext, arn: str, copy: bool = False) -> Table:
        t = self.find_table(ctx, arn) if ":table/" in arn else None
        if t is None or t.arn != arn.split("/index/")[0]:
            raise ResourceNotFoundException(
                f"Requested resource not found: ResourcArn: {arn} not found"
            )
        return Table.from_json(t.to_json()) if copy else t

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self._by_arn(ctx, params["ResourceArn"], copy=True)
        with self.db.transaction() as tx:
            for t in params["Tags"]:
                table.tags[t["Key"]] = t["Value"]
            if len(table.tags) > 50:
                raise LimitExceededException("Too many tags: the limit is 50 tags per resource")
            self.save_table(tx, table)
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self._by_arn(ctx, params["ResourceArn"], copy=True)
        with self.db.transaction() as tx:
            for k in params["TagKeys"]:
                table.tags.pop(k, None)
            self.save_table(tx, table)
        return {}

    def list_tags_of_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self._by_arn(ctx, params["ResourceArn"])
        return {"Tags": [{"Key": k, "Value": v} for k, v in table.tags.items()]}

    # -- odds and ends clients call -----------------------------------------------------------

    def describe_limits(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "AccountMaxReadCapacityUnits": 80000, "AccountMaxWriteCapacityUnits": 80000,
            "TableMaxReadCapacityUnits": 40000, "TableMaxWriteCapacityUnits": 40000,
        }  # fmt: skip

    def describe_continuous_backups(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        self.table(ctx, params["TableName"], described=True)
        return {"ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"},
        }}  # fmt: skip
