"""Single-item operations: PutItem, GetItem, UpdateItem, DeleteItem.

Each write reads the old item, checks the condition, and writes the item, its index entries and
its stream record in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from overcast.core.context import RequestContext
from overcast.engines.ddb import legacy
from overcast.engines.ddb.ast import Parsed
from overcast.engines.ddb.errors import DdbValidationError
from overcast.engines.ddb.evaluate import Scope, condition, projection
from overcast.engines.ddb.parser import parse_condition, parse_projection, parse_update
from overcast.engines.ddb.update import apply_update
from overcast.engines.ddb.validate import check_scope, no_mixing
from overcast.engines.ddb.values import (
    MAX_ITEM_SIZE,
    Item,
    check_item_size,
    check_item_sized,
    item_size,
    size_error,
)
from overcast.services.dynamodb.base import DynamoBase, read_units, write_units
from overcast.services.dynamodb.errors import ConditionalCheckFailedException
from overcast.services.dynamodb.schema import Table

_RV_PUT_DELETE = ("NONE", "ALL_OLD")
_RV_UPDATE = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")
# Request members that bring expressions or their legacy forms: a request with none of them (most
# reads and plain puts) has nothing to parse or check, and an empty scope.
_EXPRESSION_MEMBERS = frozenset((
    "ConditionExpression", "Expected", "UpdateExpression", "AttributeUpdates",
    "ProjectionExpression", "AttributesToGet", "ExpressionAttributeNames",
    "ExpressionAttributeValues",
))  # fmt: skip


@dataclass(slots=True)
class WritePlan:
    """One checked write, ready to commit: the outcome of an item operation before it is stored.
    Transactions and batches build several and commit them together."""

    table: Table
    pk: bytes
    sk: bytes
    key: Item
    old: Item | None
    new: Item | None
    size: int
    touched: list[tuple[str | int, ...]] | None = None


def check_return_values(params: dict[str, Any], allowed: tuple[str, ...]) -> str:
    rv = params.get("ReturnValues") or "NONE"
    if rv not in allowed:
        raise DdbValidationError("Return values set to invalid value")
    return str(rv)


def conditional_failed(
    params: dict[str, Any], old: Item | None, message: str = "The conditional request failed"
) -> ConditionalCheckFailedException:
    """ConditionalCheckFailedException, with the item when ReturnValuesOnConditionCheckFailure
    asks for it."""
    fields = {}
    if params.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old is not None:
        fields["Item"] = old
    return ConditionalCheckFailedException(message, fields=fields)


class ItemsMixin(DynamoBase):
    """Single-item reads and writes."""

    # -- request parsing ----------------------------------------------------------------------

    def condition_of(
        self, params: dict[str, Any], extra: list[Parsed] | None = None
    ) -> tuple[Parsed | None, Scope]:
        """The request's condition (ConditionExpression or Expected) and its checked scope."""
        if not extra and _plain(params):
            return None, Scope()
        no_mixing(
            params, ["AttributeUpdates", "Expected"], ["UpdateExpression", "ConditionExpression"]
        )
        parsed = list(extra or [])
        cond: Parsed | None = None
        text = params.get("ConditionExpression")
        if text is not None:
            cond = parse_condition(text)
            parsed.append(cond)
        elif params.get("Expected"):
            cond = legacy.expected(params["Expected"], params.get("ConditionalOperator"))
        scope = check_scope(params, parsed)
        return cond, scope

    def projection_of(
        self, params: dict[str, Any], extra: list[Parsed] | None = None
    ) -> tuple[list[tuple[str | int, ...]] | None, Scope]:
        """Resolved projection paths (ProjectionExpression or AttributesToGet), and the scope."""
        if not extra and _plain(params):
            return None, Scope()
        no_mixing(params, ["AttributesToGet"], ["ProjectionExpression"])
        parsed = list(extra or [])
        text = params.get("ProjectionExpression")
        if text is not None:
            p = parse_projection(text)
            parsed.append(p)
            scope = check_scope(params, parsed)
            return [scope.resolve(path) for path in p.paths], scope
        scope = check_scope(params, parsed)
        if params.get("AttributesToGet"):
            return legacy.attributes_to_get(params["AttributesToGet"]), scope
        return None, scope

    # -- operations ---------------------------------------------------------------------------

    def get_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.table(ctx, params["TableName"])
        paths = None if _plain(params) else self.projection_of(params)[0]
        _, pk, sk = self.key_of_request(table, params["Key"])
        out: dict[str, Any] = {}
        item, size = self.read_item(self.db.read(), table, pk, sk, paths, self.raw(ctx))
        if item is not None:
            out["Item"] = item
        if "ReturnConsumedCapacity" in params and params["ReturnConsumedCapacity"] != "NONE":
            units = read_units(size, bool(params.get("ConsistentRead")))
            out["ConsumedCapacity"] = self.capacity(params, table, units, False)
        return out

    def read_item(
        self,
        conn: Any,
        table: Table,
        pk: bytes,
        sk: bytes,
        paths: list[tuple[str | int, ...]] | None,
        raw: bool,
    ) -> tuple[Item | orjson.Fragment | None, int]:
        """An item to answer with (projected, or as its stored JSON when `raw` and unprojected)
        and the item's full size; (None, 0) when there is none."""
        if raw and paths is None:
            row = self.items.get_raw(conn, table.tid, pk, sk)
            return (orjson.Fragment(row[0]), row[1]) if row is not None else (None, 0)
        item = self.items.get(conn, table.tid, pk, sk)
        if item is None:
            return None, 0
        return (projection(item, paths) if paths is not None else item), item_size(item)

    def plan_put(self, table: Table, params: dict[str, Any], conn: Any) -> WritePlan:
        """Check a PutItem (inside the caller's transaction) and return its plan."""
        item, size = check_item_sized(params["Item"])
        pk, sk = self.key_of_item(table, item)
        if size > MAX_ITEM_SIZE:
            raise size_error()
        hash_name = table.hash[0]
        key = {hash_name: item[hash_name]}
        if table.range is not None:
            key[table.range[0]] = item[table.range[0]]
        if _plain(params) and table.stream_view_type is None and not table.indexes:
            # No condition, and nothing else may need the old item but ReturnValues.
            if params.get("ReturnValues", "NONE") == "NONE":
                return WritePlan(table, pk, sk, key, None, item, size)
            return WritePlan(table, pk, sk, key, self.items.get(conn, table.tid, pk, sk), item,
                             size)  # fmt: skip
        cond, scope = self.condition_of(params)
        # The old item matters only to a condition, ReturnValues, indexes or a stream; a plain
        # overwrite of a plain table skips the read.
        need_old = (
            cond is not None
            or params.get("ReturnValues", "NONE") != "NONE"
            or bool(table.indexes)
            or table.stream_view_type is not None
        )
        old = self.items.get(conn, table.tid, pk, sk) if need_old else None
        if (
            cond is not None
            and cond.node is not None
            and not condition(cond.node, old or {}, scope)
        ):
            raise conditional_failed(params, old)
        return WritePlan(table, pk, sk, key, old, item, size)

    def plan_delete(self, table: Table, params: dict[str, Any], conn: Any) -> WritePlan:
        key, pk, sk = self.key_of_request(table, params["Key"])
        cond, scope = self.condition_of(params)
        old = self.items.get(conn, table.tid, pk, sk)
        if (
            cond is not None
            and cond.node is not None
            and not condition(cond.node, old or {}, scope)
        ):
            raise conditional_failed(params, old)
        return WritePlan(table, pk, sk, key, old, None, 0)

    def plan_update(self, table: Table, params: dict[str, Any], conn: Any) -> WritePlan:
        key, pk, sk = self.key_of_request(table, params["Key"])
        update: Parsed | None = None
        extra: list[Parsed] = []
        if params.get("UpdateExpression") is not None:
            update = parse_update(params["UpdateExpression"])
            extra.append(update)
        elif params.get("AttributeUpdates"):
            update = legacy.attribute_updates(params["AttributeUpdates"])
            for name in params["AttributeUpdates"]:
                if name in table.key_names():
                    raise DdbValidationError(
                        "One or more parameter values were invalid: Cannot update attribute "
                        f"{name}. This attribute is part of the key"
                    )
        cond, scope = self.condition_of(params, extra)
        old = self.items.get(conn, table.tid, pk, sk)
        if (
            cond is not None
            and cond.node is not None
            and not condition(cond.node, old or {}, scope)
        ):
            raise conditional_failed(params, old)
        base = old if old is not None else dict(key)
        touched: list[tuple[str | int, ...]] = []
        new = base
        if update is not None:
            new, touched = apply_update(update, base, scope, table.key_names())
        self.key_of_item(table, new)
        size = check_item_size(new, update=True)
        return WritePlan(table, pk, sk, key, old, new, size, touched)

    def commit(self, conn: Any, plan: WritePlan, identity: dict[str, str] | None = None) -> None:
        """Store one planned write (item, index entries, stream record) on `conn`."""
        if plan.new is None and plan.old is None:
            return
        self.items.write_item(conn, plan.table, plan.pk, plan.sk, plan.old, plan.new,
                              self.clock.now(), plan.size, identity)  # fmt: skip

    def _write_result(self, params: dict[str, Any], plan: WritePlan, rv: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if rv == "ALL_OLD" and plan.old is not None:
            out["Attributes"] = plan.old
        elif rv == "ALL_NEW" and plan.new is not None:
            out["Attributes"] = plan.new
        elif rv in ("UPDATED_OLD", "UPDATED_NEW"):
            src = plan.old if rv == "UPDATED_OLD" else plan.new
            if src is not None and plan.touched:
                got = projection(src, plan.touched)
                if got:
                    out["Attributes"] = got
        if params.get("ReturnConsumedCapacity", "NONE") != "NONE":
            size = max(plan.size, item_size(plan.old) if plan.old else 0)
            units = write_units(size)
            idx = {ix.name: units for ix in plan.table.indexes if ix.kind == "GSI"
                   and ((plan.old is not None and ix.hash[0] in plan.old)
                        or (plan.new is not None and ix.hash[0] in plan.new))}  # fmt: skip
            out["ConsumedCapacity"] = self.capacity(params, plan.table, units, True, idx)
        metrics = self.collection_metrics(params, plan.table, plan.key)
        if metrics is not None:
            out["ItemCollectionMetrics"] = metrics
        return out

    # Each write runs inside a group commit (see writes.py); the *_tx forms take the open
    # transaction and are what the batcher calls (and what in-process callers may call).

    def put_item_tx(self, tx: Any, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.table(ctx, params["TableName"])
        rv = check_return_values(params, _RV_PUT_DELETE)
        plan = self.plan_put(table, params, tx)
        self.commit(tx, plan)
        return self._write_result(params, plan, rv)

    def delete_item_tx(
        self, tx: Any, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        table = self.table(ctx, params["TableName"])
        rv = check_return_values(params, _RV_PUT_DELETE)
        plan = self.plan_delete(table, params, tx)
        self.commit(tx, plan)
        return self._write_result(params, plan, rv)

    def update_item_tx(
        self, tx: Any, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        table = self.table(ctx, params["TableName"])
        rv = check_return_values(params, _RV_UPDATE)
        plan = self.plan_update(table, params, tx)
        self.commit(tx, plan)
        return self._write_result(params, plan, rv)

    async def put_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.table(ctx, params["TableName"])
        result: dict[str, Any] = await self.writes.submit(
            lambda tx: self.put_item_tx(tx, ctx, params)
        )
        return result

    async def delete_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.table(ctx, params["TableName"])
        result: dict[str, Any] = await self.writes.submit(
            lambda tx: self.delete_item_tx(tx, ctx, params)
        )
        return result

    async def update_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.table(ctx, params["TableName"])
        result: dict[str, Any] = await self.writes.submit(
            lambda tx: self.update_item_tx(tx, ctx, params)
        )
        return result


def _plain(params: dict[str, Any]) -> bool:
    """Whether a request carries no expression, legacy condition or projection at all."""
    return params.keys().isdisjoint(_EXPRESSION_MEMBERS)
