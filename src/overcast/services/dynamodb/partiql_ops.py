"""PartiQL: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction.

Statements are parsed by `engines.ddb.partiql`; SELECT runs as a Query when the WHERE clause pins
the partition key and as a Scan otherwise; INSERT, UPDATE and DELETE become write plans, committed
like any other write.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson

from overcast.core.context import RequestContext
from overcast.engines.ddb import keys as keycodec
from overcast.engines.ddb.ast import Parsed
from overcast.engines.ddb.errors import DdbValidationError
from overcast.engines.ddb.evaluate import Scope, condition, projection
from overcast.engines.ddb.partiql import (
    Delete,
    Insert,
    Select,
    Statement,
    Update,
    key_equalities,
    parse_statement,
)
from overcast.engines.ddb.update import apply_update
from overcast.engines.ddb.values import Item, check_item, check_item_size
from overcast.services.dynamodb.batch import BatchMixin
from overcast.services.dynamodb.errors import (
    ConditionalCheckFailedException,
    DuplicateItemException,
    TransactionCanceledException,
)
from overcast.services.dynamodb.items import WritePlan
from overcast.services.dynamodb.reads import ReadsMixin
from overcast.services.dynamodb.schema import Table
from overcast.services.dynamodb.storage import dumps, loads

_EMPTY_SCOPE = Scope()


def _token(lek: Item) -> str:
    return base64.urlsafe_b64encode(dumps(lek)).decode()


def _untoken(token: str) -> Item:
    try:
        return loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, orjson.JSONDecodeError):
        raise DdbValidationError("Invalid NextToken") from None


class PartiqlMixin(ReadsMixin, BatchMixin):
    """The PartiQL operations."""

    def _pkey(self, table: Table, stmt: Update | Delete) -> tuple[Item, bytes, bytes]:
        eq = key_equalities(stmt.where)
        key: Item = {}
        for name, typ in [table.hash, *([table.range] if table.range else [])]:
            v = eq.get(name)
            if v is None or typ not in v:
                raise DdbValidationError(
                    "Where clause does not contain a mandatory equality on all key attributes"
                )
            key[name] = v
        return self.key_of_request(table, key)

    def _plan_statement(
        self, table: Table, stmt: Statement, conn: Any
    ) -> tuple[WritePlan | None, list[Item]]:
        """A write statement's plan (None when it changes nothing) and its RETURNING items."""
        if isinstance(stmt, Insert):
            item = check_item(stmt.item)
            pk, sk = self.key_of_item(table, item)
            size = check_item_size(item)
            if self.items.get(conn, table.tid, pk, sk) is not None:
                raise DuplicateItemException("Duplicate primary key exists in table")
            key = {k: item[k] for k in table.key_names()}
            return WritePlan(table, pk, sk, key, None, item, size), []
        if isinstance(stmt, Update):
            key, pk, sk = self._pkey(table, stmt)
            old = self.items.get(conn, table.tid, pk, sk)
            if old is None or (
                stmt.where is not None and not condition(stmt.where, old, _EMPTY_SCOPE)
            ):
                raise ConditionalCheckFailedException("The conditional request failed")
            parsed = Parsed("UpdateExpression", actions=tuple(stmt.actions))
            new, touched = apply_update(parsed, old, _EMPTY_SCOPE, table.key_names())
            self.key_of_item(table, new)
            size = check_item_size(new, update=True)
            returned = _returning(stmt.returning, old, new)
            return WritePlan(table, pk, sk, key, old, new, size, touched), returned
        if isinstance(stmt, Delete):
            key, pk, sk = self._pkey(table, stmt)
            old = self.items.get(conn, table.tid, pk, sk)
            if old is None:
                return None, []
            if stmt.where is not None and not condition(stmt.where, old, _EMPTY_SCOPE):
                raise ConditionalCheckFailedException("The conditional request failed")
            returned = [old] if stmt.returning == "ALL_OLD" else []
            return WritePlan(table, pk, sk, key, old, None, 0), returned
        raise DdbValidationError("Unsupported statement")

    def _partiql_select(self, table: Table, stmt: Select, params: dict[str, Any]) -> dict[str, Any]:
        ix = table.index(stmt.index) if stmt.index else None
        if stmt.index and ix is None:
            raise DdbValidationError(f"The table does not have the specified index: {stmt.index}")
        hash_key = ix.hash if ix else table.hash
        eq = key_equalities(stmt.where)
        page_params: dict[str, Any] = {"Limit": params.get("Limit")}
        if params.get("ReturnConsumedCapacity"):
            page_params["ReturnConsumedCapacity"] = params["ReturnConsumedCapacity"]
        if params.get("NextToken"):
            page_params["ExclusiveStartKey"] = _untoken(params["NextToken"])
        hv = eq.get(hash_key[0])
        iname = ix.name if ix else None
        if hv is not None and hash_key[1] in hv:
            start = self._start(table, ix, page_params, True)
            rows = self.items.query(self.db.read(), table.tid, iname, keycodec.encode_key(hv),
                                    "", [], True, start)  # fmt: skip
        else:
            start = self._start(table, ix, page_params, False)
            rows = self.items.scan(self.db.read(), table.tid, iname, None, start)
        paths = stmt.paths
        select = "SPECIFIC_ATTRIBUTES" if paths is not None else (
            "ALL_PROJECTED_ATTRIBUTES" if ix else "ALL_ATTRIBUTES")  # fmt: skip
        page = self._page(table, ix, page_params, rows, stmt.where, paths, _EMPTY_SCOPE, select)
        out: dict[str, Any] = {"Items": page["Items"]}
        if "LastEvaluatedKey" in page:
            out["NextToken"] = _token(page["LastEvaluatedKey"])
            out["LastEvaluatedKey"] = page["LastEvaluatedKey"]
        if "ConsumedCapacity" in page:
            out["ConsumedCapacity"] = page["ConsumedCapacity"]
        return out

    async def execute_statement(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        stmt = parse_statement(params["Statement"], params.get("Parameters"))
        table = self.table(ctx, stmt.table)
        if isinstance(stmt, Select):
            return self._partiql_select(table, stmt, params)

        def write(tx: Any) -> dict[str, Any]:
            # Looked up again at commit time: the table may have changed while this waited.
            plan, returned = self._plan_statement(self.table(ctx, stmt.table), stmt, tx)
            if plan is not None:
                self.commit(tx, plan)
            return {"Items": returned} if returned else {}

        result: dict[str, Any] = await self.writes.submit(write)
        return result

    async def batch_execute_statement(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        statements = params["Statements"]
        if len(statements) > 25:
            raise DdbValidationError(
                "1 validation error detected: Value at 'statements' failed to satisfy constraint: "
                "Member must have length less than or equal to 25"
            )
        parsed = [parse_statement(s["Statement"], s.get("Parameters")) for s in statements]
        reads = [isinstance(s, Select) for s in parsed]
        if any(reads) and not all(reads):
            raise DdbValidationError("Only read or write statements allowed in one batch")
        responses: list[dict[str, Any]] = []

        def work(tx: Any) -> dict[str, Any]:
            for stmt in parsed:
                table = self.table(ctx, stmt.table)
                try:
                    if isinstance(stmt, Select):
                        item = self._get_by_key(table, stmt, tx)
                        resp: dict[str, Any] = {"TableName": table.name}
                        if item is not None:
                            resp["Item"] = item
                        responses.append(resp)
                        continue
                    plan, _ = self._plan_statement(table, stmt, tx)
                    if plan is not None:
                        self.commit(tx, plan)
                    responses.append({"TableName": table.name})
                except (ConditionalCheckFailedException, DuplicateItemException,
                        DdbValidationError) as e:  # fmt: skip
                    code = e.code.replace("Exception", "")
                    responses.append({"TableName": table.name,
                                      "Error": {"Code": code, "Message": e.message}})  # fmt: skip
            return {"Responses": responses}

        if all(reads):
            return work(self.db.read())
        result: dict[str, Any] = await self.writes.submit(work)
        return result

    def _get_by_key(self, table: Table, stmt: Select, conn: Any) -> Item | None:
        eq = key_equalities(stmt.where)
        key = {n: eq[n] for n in table.key_names() if n in eq}
        if len(key) != len(table.key_names()):
            raise DdbValidationError(
                "Select statements within BatchExecuteStatement must specify the primary key in "
                "the where clause"
            )
        _, pk, sk = self.key_of_request(table, key)
        item = self.items.get(conn, table.tid, pk, sk)
        if item is None:
            return None
        if stmt.where is not None and not condition(stmt.where, item, _EMPTY_SCOPE):
            return None
        if stmt.paths is not None:
            return projection(item, [tuple(p) for p in stmt.paths])
        return item

    async def execute_transaction(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        statements = params["TransactStatements"]
        if len(statements) > 100:
            raise DdbValidationError(
                "1 validation error detected: Value at 'transactStatements' failed to satisfy "
                "constraint: Member must have length less than or equal to 100"
            )
        parsed = [parse_statement(s["Statement"], s.get("Parameters")) for s in statements]
        reads = [isinstance(s, Select) for s in parsed]
        if any(reads) and not all(reads):
            raise DdbValidationError("Only read or write statements allowed in one transaction")

        def work(tx: Any) -> dict[str, Any]:
            if all(reads):
                items = []
                for stmt in parsed:
                    assert isinstance(stmt, Select)
                    item = self._get_by_key(self.table(ctx, stmt.table), stmt, tx)
                    items.append({"Item": item} if item is not None else {})
                return {"Responses": items}
            plans: list[WritePlan | None] = []
            reasons: list[dict[str, Any]] = []
            failed = False
            seen: set[tuple[int, bytes, bytes]] = set()
            for stmt in parsed:
                table = self.table(ctx, stmt.table)
                try:
                    plan, _ = self._plan_statement(table, stmt, tx)
                    reasons.append({"Code": "None"})
                except (ConditionalCheckFailedException, DuplicateItemException) as e:
                    failed = True
                    plan = None
                    code = "ConditionalCheckFailed" if isinstance(
                        e, ConditionalCheckFailedException) else "DuplicateItem"  # fmt: skip
                    reasons.append({"Code": code, "Message": e.message})
                if plan is not None:
                    ident = (table.tid, plan.pk, plan.sk)
                    if ident in seen:
                        raise DdbValidationError(
                            "Transaction request cannot include multiple operations on one item"
                        )
                    seen.add(ident)
                plans.append(plan)
            if failed:
                codes = ", ".join(r["Code"] for r in reasons)
                raise TransactionCanceledException(
                    "Transaction cancelled, please refer cancellation reasons for specific "
                    f"reasons [{codes}]",
                    fields={"CancellationReasons": reasons},
                )
            for plan in plans:
                if plan is not None:
                    self.commit(tx, plan)
            return {}

        result: dict[str, Any] = await self.writes.submit(work)
        return result


def _returning(mode: str | None, old: Item, new: Item) -> list[Item]:
    if mode == "ALL_OLD":
        return [old]
    if mode == "ALL_NEW":
        return [new]
    if mode in ("MODIFIED_OLD", "MODIFIED_NEW"):
        src, other = (old, new) if mode == "MODIFIED_OLD" else (new, old)
        return [{k: v for k, v in src.items() if other.get(k) != v}]
    return []
