"""BatchGetItem, BatchWriteItem, TransactGetItems and TransactWriteItems.

Batches and transactions plan every write first (conditions checked against the stored items) and
commit the plans in one database transaction; a transaction with a failed condition commits
nothing and reports every action's reason in request order.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from overcast.core.context import RequestContext
from overcast.engines.ddb.errors import DdbValidationError
from overcast.engines.ddb.evaluate import condition
from overcast.services.dynamodb.base import read_units, write_units
from overcast.services.dynamodb.errors import (
    ConditionalCheckFailedException,
    IdempotentParameterMismatchException,
    TransactionCanceledException,
)
from overcast.services.dynamodb.items import ItemsMixin, WritePlan
from overcast.services.dynamodb.storage import _default

BATCH_GET_BYTES = 16 * 1024 * 1024
TOKEN_TTL = 600.0


def _too_many(member: str, value: Any, limit: int) -> DdbValidationError:
    return DdbValidationError(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must have length less than or equal to {limit}"
    )


def _duplicates() -> DdbValidationError:
    return DdbValidationError("Provided list of item keys contains duplicates")


class BatchMixin(ItemsMixin):
    """Batches and transactions."""

    def batch_get_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        requests = params["RequestItems"]
        total = sum(len(r.get("Keys") or []) for r in requests.values())
        if total > 100:
            raise DdbValidationError("Too many items requested for the BatchGetItem call")
        responses: dict[str, list[Any]] = {}
        unprocessed: dict[str, Any] = {}
        capacity: list[dict[str, Any]] = []
        read_bytes = 0
        conn = self.db.read()
        raw = self.raw(ctx)
        for name, req in requests.items():
            table = self.table(ctx, name)
            paths, _ = self.projection_of(req)
            seen: set[tuple[bytes, bytes]] = set()
            got: list[Any] = []
            units = 0.0
            for i, key in enumerate(req["Keys"]):
                _, pk, sk = self.key_of_request(table, key)
                if (pk, sk) in seen:
                    raise _duplicates()
                seen.add((pk, sk))
                if read_bytes >= BATCH_GET_BYTES:
                    rest = {**req, "Keys": req["Keys"][i:]}
                    unprocessed[name] = rest
                    break
                item, size = self.read_item(conn, table, pk, sk, paths, raw)
                if item is not None:
                    read_bytes += size
                    units += read_units(size, bool(req.get("ConsistentRead")))
                    got.append(item)
            responses[name] = got
            cap = self.capacity(params, table, units, False)
            if cap is not None:
                capacity.append(cap)
        out: dict[str, Any] = {"Responses": responses, "UnprocessedKeys": unprocessed}
        if capacity:
            out["ConsumedCapacity"] = capacity
        return out

    def batch_write_item_tx(
        self, tx: Any, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        requests = params["RequestItems"]
        total = sum(len(r) for r in requests.values())
        if total > 25 or any(len(r) < 1 for r in requests.values()):
            raise DdbValidationError(
                "1 validation error detected: Value '{...}' at 'requestItems' failed to satisfy "
                "constraint: Map value must satisfy constraint: [Member must have length less "
                "than or equal to 25, Member must have length greater than or equal to 1]"
            )
        capacity: list[dict[str, Any]] = []
        metrics: dict[str, list[Any]] = {}
        for name, reqs in requests.items():
            table = self.table(ctx, name)
            seen: set[tuple[bytes, bytes]] = set()
            units = 0.0
            for req in reqs:
                if "PutRequest" in req:
                    plan = self.plan_put(table, {"Item": req["PutRequest"]["Item"]}, tx)
                elif "DeleteRequest" in req:
                    plan = self.plan_delete(table, {"Key": req["DeleteRequest"]["Key"]}, tx)
                else:
                    raise DdbValidationError(
                        "Supplied AttributeValue has more than one datatypes set, must contain "
                        "exactly one of the supported datatypes"
                    )
                if (plan.pk, plan.sk) in seen:
                    raise _duplicates()
                seen.add((plan.pk, plan.sk))
                self.commit(tx, plan)
                units += write_units(max(plan.size, 1))
                m = self.collection_metrics(params, table, plan.key)
                if m is not None:
                    metrics.setdefault(name, []).append(m)
            cap = self.capacity(params, table, units, True)
            if cap is not None:
                capacity.append(cap)
        out: dict[str, Any] = {"UnprocessedItems": {}}
        if capacity:
            out["ConsumedCapacity"] = capacity
        if params.get("ReturnItemCollectionMetrics") == "SIZE":
            out["ItemCollectionMetrics"] = metrics
        return out

    async def batch_write_item(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self.writes.submit(
            lambda tx: self.batch_write_item_tx(tx, ctx, params)
        )
        return result

    # -- transactions -------------------------------------------------------------------------

    def transact_get_items(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        actions = params["TransactItems"]
        if len(actions) > 100:
            raise _too_many("transactItems", "[...]", 100)
        conn = self.db.read()
        raw = self.raw(ctx)
        responses: list[dict[str, Any]] = []
        caps: dict[str, float] = {}
        tables = {}
        seen: set[tuple[int, bytes, bytes]] = set()
        for action in actions:
            get = action["Get"]
            table = self.table(ctx, get["TableName"])
            tables[table.name] = table
            paths, _ = self.projection_of(get)
            _, pk, sk = self.key_of_request(table, get["Key"])
            if (table.tid, pk, sk) in seen:
                raise DdbValidationError(
                    "Transaction request cannot include multiple operations on one item"
                )
            seen.add((table.tid, pk, sk))
            item, size = self.read_item(conn, table, pk, sk, paths, raw)
            caps[table.name] = caps.get(table.name, 0.0) + 2 * read_units(size, True)
            responses.append({} if item is None else {"Item": item})
        out: dict[str, Any] = {"Responses": responses}
        consumed = [c for n, u in caps.items()
                    if (c := self.capacity(params, tables[n], u, False)) is not None]  # fmt: skip
        if consumed:
            out["ConsumedCapacity"] = consumed
        return out

    async def transact_write_items(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        actions = params["TransactItems"]
        if len(actions) > 100:
            raise _too_many("transactItems", "[...]", 100)
        token = params.get("ClientRequestToken")
        digest = ""
        now = self.clock.now()
        if token:
            digest = hashlib.sha256(
                orjson.dumps(actions, default=_default, option=orjson.OPT_SORT_KEYS)
            ).hexdigest()
        result: dict[str, Any] = await self.writes.submit(
            lambda tx: self.transact_write_tx(tx, ctx, params, token, digest, now)
        )
        return result

    def transact_write_tx(
        self,
        tx: Any,
        ctx: RequestContext,
        params: dict[str, Any],
        token: str | None,
        digest: str,
        now: float,
    ) -> dict[str, Any]:
        actions = params["TransactItems"]
        if token:
            # Checked inside the write transaction, so that two requests with the same token in
            # one group commit cannot both run.
            row = tx.execute(
                "SELECT digest, created, response FROM transactions WHERE account = ? AND "
                "region = ? AND token = ?",
                (ctx.account_id, ctx.region, token),
            ).fetchone()
            if row is not None and now - row["created"] < TOKEN_TTL:
                if row["digest"] != digest:
                    raise IdempotentParameterMismatchException(
                        "Request with the same client token was already used with different "
                        "parameters"
                    )
                return dict(orjson.loads(row["response"]))
        plans, reasons, failed = self._plan_transaction(ctx, actions, tx)
        if failed:
            codes = ", ".join(r["Code"] for r in reasons)
            raise TransactionCanceledException(
                "Transaction cancelled, please refer cancellation reasons for specific "
                f"reasons [{codes}]",
                fields={"CancellationReasons": reasons},
            )
        caps: dict[str, float] = {}
        for plan in plans:
            if plan is None:
                continue
            self.commit(tx, plan)
        for plan in plans:
            if plan is not None:
                name = plan.table.name
                caps[name] = caps.get(name, 0.0) + 2 * write_units(max(plan.size, 1))
        out: dict[str, Any] = {}
        consumed = [
            c for n, u in caps.items()
            if (c := self.capacity(params, self.table(ctx, n), u, True)) is not None
        ]  # fmt: skip
        if consumed:
            out["ConsumedCapacity"] = consumed
        if token:
            tx.execute(
                "INSERT OR REPLACE INTO transactions (account, region, token, digest, created,"
                " response) VALUES (?, ?, ?, ?, ?, ?)",
                (ctx.account_id, ctx.region, token, digest, now, orjson.dumps(out)),
            )
        return out

    def _plan_transaction(
        self, ctx: RequestContext, actions: list[dict[str, Any]], tx: Any
    ) -> tuple[list[WritePlan | None], list[dict[str, Any]], bool]:
        plans: list[WritePlan | None] = []
        reasons: list[dict[str, Any]] = []
        failed = False
        seen: set[tuple[int, bytes, bytes]] = set()
        for action in actions:
            if len(action) != 1:
                raise DdbValidationError(
                    "TransactItems can only contain one of Check, Put, Update or Delete"
                )
            ((kind, spec),) = action.items()
            table = self.table(ctx, spec["TableName"])
            try:
                if kind == "Put":
                    plan: WritePlan | None = self.plan_put(table, spec, tx)
                elif kind == "Delete":
                    plan = self.plan_delete(table, spec, tx)
                elif kind == "Update":
                    plan = self.plan_update(table, spec, tx)
                else:
                    plan = self._condition_check(table, spec, tx)
                reasons.append({"Code": "None"})
            except ConditionalCheckFailedException as e:
                failed = True
                plan = None
                reason: dict[str, Any] = {"Code": "ConditionalCheckFailed", "Message": e.message}
                if "Item" in e.fields:
                    reason["Item"] = e.fields["Item"]
                reasons.append(reason)
                _, pk, sk = self.key_of_request(table, _key_for(table, spec))
                ident = (table.tid, pk, sk)
            if plan is not None:
                ident = (table.tid, plan.pk, plan.sk)
            if ident in seen:
                raise DdbValidationError(
                    "Transaction request cannot include multiple operations on one item"
                )
            seen.add(ident)
            plans.append(plan if kind != "ConditionCheck" else None)
        return plans, reasons, failed

    def _condition_check(self, table: Any, spec: dict[str, Any], tx: Any) -> WritePlan:
        if not spec.get("ConditionExpression"):
            raise DdbValidationError(
                "The ConditionExpression parameter is required for a ConditionCheck"
            )
        key, pk, sk = self.key_of_request(table, spec["Key"])
        cond, scope = self.condition_of(spec)
        old = self.items.get(tx, table.tid, pk, sk)
        assert cond is not None and cond.node is not None
        if not condition(cond.node, old or {}, scope):
            fields = {}
            if spec.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old is not None:
                fields["Item"] = old
            raise ConditionalCheckFailedException("The conditional request failed", fields=fields)
        return WritePlan(table, pk, sk, key, old, old, 0)


def _key_for(table: Any, spec: dict[str, Any]) -> dict[str, Any]:
    if "Key" in spec:
        return dict(spec["Key"])
    item = spec["Item"]
    return {k: item[k] for k in table.key_names() if k in item}
