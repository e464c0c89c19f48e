"""Query and Scan: key ranges over the sortable key encodings, Limit and the 1 MB page applied to
what is read, then FilterExpression (so Count ≤ ScannedCount, as on AWS), projections, Select
modes, secondary indexes and parallel scan segments."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import orjson

from overcast.core.context import RequestContext
from overcast.engines.ddb import keys as keycodec
from overcast.engines.ddb import legacy
from overcast.engines.ddb.ast import Node, Parsed, Path
from overcast.engines.ddb.errors import DdbValidationError, invalid_params
from overcast.engines.ddb.evaluate import Scope, condition, projection
from overcast.engines.ddb.parser import parse_condition, parse_projection
from overcast.engines.ddb.validate import KeyRange, build_range, check_scope, key_range, no_mixing
from overcast.engines.ddb.values import Item, check_value
from overcast.services.dynamodb.base import DynamoBase
from overcast.services.dynamodb.schema import Index, Table
from overcast.services.dynamodb.storage import loads, loads_many, raw_list

PAGE_BYTES = 1024 * 1024
_SELECTS = ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT")


def _successor(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with `prefix`."""
    b = bytearray(prefix)
    while b:
        if b[-1] < 0xFF:
            b[-1] += 1
            return bytes(b)
        b.pop()
    return None


def range_sql(kr: KeyRange) -> tuple[str, list[Any]]:
    """The SQL condition on `sk` for a key range."""
    if kr.sort_op is None:
        return "", []
    enc = [keycodec.encode_key(v) for v in kr.sort_values]
    op = kr.sort_op
    if op in ("=", "<", "<=", ">", ">="):
        return f" AND sk {op} ?", [enc[0]]
    if op == "BETWEEN":
        if enc[0] > enc[1]:
            raise DdbValidationError(
                "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be "
                "greater than or equal to lower bound"
            )
        return " AND sk >= ? AND sk <= ?", enc
    # begins_with
    upper = _successor(enc[0])
    if upper is None:
        return " AND sk >= ?", [enc[0]]
    return " AND sk >= ? AND sk < ?", [enc[0], upper]


class ReadsMixin(DynamoBase):
    """Query and Scan."""

    def _index(self, table: Table, params: dict[str, Any]) -> Index | None:
        name = params.get("IndexName")
        if name is None:
            return None
        ix = table.index(name)
        if ix is None:
            raise DdbValidationError(f"The table does not have the specified index: {name}")
        if ix.kind == "GSI" and params.get("ConsistentRead"):
            raise DdbValidationError(
                "Consistent reads are not supported on global secondary indexes"
            )
        return ix

    def _select(self, params: dict[str, Any], ix: Index | None, paths: list[Any] | None) -> str:
        select = params.get("Select")
        if select is not None and select not in _SELECTS:
            raise DdbValidationError(
                f"1 validation error detected: Value '{select}' at 'select' failed to satisfy "
                "constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, "
                "ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
            )
        if paths is not None:
            if select not in (None, "SPECIFIC_ATTRIBUTES"):
                what = (
                    "ProjectionExpression"
                    if params.get("ProjectionExpression")
                    else "AttributesToGet"
                )
                raise DdbValidationError(f"Cannot specify the {what} when choosing to get {select}")
            return "SPECIFIC_ATTRIBUTES"
        if select == "SPECIFIC_ATTRIBUTES":
            raise DdbValidationError(
                "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
                "SPECIFIC_ATTRIBUTES"
            )
        if select == "ALL_PROJECTED_ATTRIBUTES" and ix is None:
            raise DdbValidationError(
                "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
            )
        if (
            select == "ALL_ATTRIBUTES"
            and ix is not None
            and ix.kind == "GSI"
            and ix.projection != "ALL"
        ):
            raise invalid_params(
                f"Select type ALL_ATTRIBUTES is not supported for global secondary index "
                f"{ix.name} because its projection type is not ALL"
            )
        if select is None:
            return "ALL_PROJECTED_ATTRIBUTES" if ix is not None else "ALL_ATTRIBUTES"
        return str(select)

    def _filter_and_projection(
        self, params: dict[str, Any], kind: str, extra: list[Parsed]
    ) -> tuple[Node | None, list[Any] | None, Scope]:
        legacy_filter = "QueryFilter" if kind == "Query" else "ScanFilter"
        legacy_keys = ["KeyConditions"] if kind == "Query" else []
        no_mixing(params, [*legacy_keys, legacy_filter, "AttributesToGet"],
                  ["KeyConditionExpression", "FilterExpression", "ProjectionExpression"])  # fmt: skip
        parsed = list(extra)
        filt: Node | None = None
        if params.get("FilterExpression") is not None:
            f = parse_condition(params["FilterExpression"], "FilterExpression")
            parsed.append(f)
            filt = f.node
        elif params.get(legacy_filter):
            filt = legacy.filter_conditions(
                params[legacy_filter], params.get("ConditionalOperator")
            ).node
        proj: Parsed | None = None
        if params.get("ProjectionExpression") is not None:
            proj = parse_projection(params["ProjectionExpression"])
            parsed.append(proj)
        scope = check_scope(params, parsed)
        paths: list[Any] | None = None
        if proj is not None:
            paths = [scope.resolve(p) for p in proj.paths]
        elif params.get("AttributesToGet"):
            paths = legacy.attributes_to_get(params["AttributesToGet"])
        return filt, paths, scope

    def _start(
        self, table: Table, ix: Index | None, params: dict[str, Any], query: bool
    ) -> tuple[bytes, ...] | None:
        esk = params.get("ExclusiveStartKey")
        if not esk:
            return None
        names = list(table.key_names())
        if ix is not None:
            names += [n for n in ix.key_names() if n not in names]
        if set(esk) != set(names):
            raise DdbValidationError(
                "The provided starting key is invalid: The provided key element does not match "
                "the schema"
            )
        key = {k: check_value(v) for k, v in esk.items()}
        tpk = keycodec.encode_key(key[table.hash[0]])
        tsk = keycodec.encode_key(key[table.range[0]]) if table.range else b""
        if ix is None:
            return (tsk,) if query else (tpk, tsk)
        ipk = keycodec.encode_key(key[ix.hash[0]])
        isk = keycodec.encode_key(key[ix.range[0]]) if ix.range else b""
        return (isk, tpk, tsk) if query else (ipk, isk, tpk, tsk)

    def query(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.table(ctx, params["TableName"])
        ix = self._index(table, params)
        hash_key, range_key = (ix.hash, ix.range) if ix else (table.hash, table.range)
        extra: list[Parsed] = []
        kc: Parsed | None = None
        if params.get("KeyConditionExpression") is not None:
            kc = parse_condition(params["KeyConditionExpression"], "KeyConditionExpression")
            extra.append(kc)
        elif not params.get("KeyConditions"):
            raise DdbValidationError(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified "
                "in the request."
            )
        filt, paths, scope = self._filter_and_projection(params, "Query", extra)
        if kc is not None:
            kr = key_range(kc, scope, hash_key, range_key)
        else:
            kr = build_range(legacy.key_conditions(params["KeyConditions"]), hash_key, range_key)
        if filt is not None:
            _check_filter_keys(filt, scope, (hash_key[0], *([range_key[0]] if range_key else [])))
        select = self._select(params, ix, paths)
        where, args = range_sql(kr)
        start = self._start(table, ix, params, True)
        rows = self.items.query(
            self.db.read(), table.tid, ix.name if ix else None, keycodec.encode_key(kr.hash_value),
            where, args, params.get("ScanIndexForward", True) is not False, start,
        )  # fmt: skip
        return self._page(table, ix, params, rows, filt, paths, scope, select, self.raw(ctx))

    def scan(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        table = self.table(ctx, params["TableName"])
        ix = self._index(table, params)
        total = params.get("TotalSegments")
        seg = params.get("Segment")
        segment: tuple[int, int] | None = None
        if total is not None or seg is not None:
            if total is None:
                raise DdbValidationError(
                    "The TotalSegments parameter is required but was not present in the request "
                    "when Segment parameter is present"
                )
            if seg is None:
                raise DdbValidationError(
                    "The Segment parameter is required but was not present in the request when "
                    "parameter TotalSegments is present"
                )
            if total < 1 or total > 1000000:
                raise DdbValidationError(
                    f"1 validation error detected: Value '{total}' at 'totalSegments' failed to "
                    "satisfy constraint: Member must have value less than or equal to 1000000"
                )
            if seg >= total:
                raise DdbValidationError(
                    "The Segment parameter is zero-based and must be less than parameter "
                    f"TotalSegments: Segment: {seg} is not less than TotalSegments: {total}"
                )
            segment = (seg, total)
        filt, paths, scope = self._filter_and_projection(params, "Scan", [])
        select = self._select(params, ix, paths)
        start = self._start(table, ix, params, False)
        rows = self.items.scan(self.db.read(), table.tid, ix.name if ix else None, segment, start)
        return self._page(table, ix, params, rows, filt, paths, scope, select, self.raw(ctx))

    def _page(
        self,
        table: Table,
        ix: Index | None,
        params: dict[str, Any],
        rows: Iterator[tuple[bytes, int]],
        filt: Node | None,
        paths: list[Any] | None,
        scope: Scope,
        select: str,
        raw: bool = False,
    ) -> dict[str, Any]:
        """One page of items read from `rows`. With `raw` (see DynamoBase.raw), an unfiltered,
        unprojected page goes out as the stored JSON text of its items."""
        limit = params.get("Limit")
        if limit is not None and limit < 1:
            raise DdbValidationError(
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
                "constraint: Member must have value greater than or equal to 1"
            )
        fetch_table = (
            ix is not None
            and ix.kind == "LSI"
            and ix.projection != "ALL"
            and (
                select == "ALL_ATTRIBUTES"
                or (paths is not None and not all(_projected(table, ix, p[0]) for p in paths))
            )
        )
        key_names = list(table.key_names())
        if ix is not None:
            key_names += [n for n in ix.key_names() if n not in key_names]
        out_items: list[Item] = []
        items_text: orjson.Fragment | None = None
        scanned = 0
        count = 0
        read_bytes = 0
        last: Item | None = None
        more = False
        plain = filt is None and paths is None and not fetch_table and select != "COUNT"
        if plain:
            # The common case (no filter, no projection): only decode and count.
            cap = limit if limit is not None else -1
            blobs: list[bytes] = []
            for blob, size in rows:
                if scanned == cap or read_bytes >= PAGE_BYTES:
                    more = True
                    break
                blobs.append(blob)
                scanned += 1
                read_bytes += size
            count = scanned
            if raw:
                items_text = raw_list(blobs)
                last = loads(blobs[-1]) if blobs else None
            else:
                out_items = loads_many(blobs)  # one JSON document for the page: far cheaper
                last = out_items[-1] if out_items else None
        for blob, size in () if plain else rows:
            if (limit is not None and scanned >= limit) or read_bytes >= PAGE_BYTES:
                more = True
                break
            item = loads(blob)
            scanned += 1
            read_bytes += size
            last = item
            if fetch_table:
                pk = keycodec.encode_key(item[table.hash[0]])
                sk = keycodec.encode_key(item[table.range[0]]) if table.range else b""
                item = self.items.get(self.db.read(), table.tid, pk, sk) or item
            if filt is not None and not condition(filt, item, scope):
                continue
            count += 1
            if select != "COUNT":
                out_items.append(projection(item, paths) if paths is not None else item)
        if limit is not None and scanned >= limit:
            more = True  # DynamoDB stops at Limit and hands back the key, more items or not
        out: dict[str, Any] = {"Count": count, "ScannedCount": scanned}
        if select != "COUNT":
            out["Items"] = out_items if items_text is None else items_text
        if more and last is not None:
            out["LastEvaluatedKey"] = {k: last[k] for k in key_names if k in last}
        if params.get("ReturnConsumedCapacity", "NONE") != "NONE":
            units = max(1, math.ceil(read_bytes / 4096))
            consistent = bool(params.get("ConsistentRead"))
            u = float(units) if consistent else units / 2
            per_index = {ix.name: u} if ix is not None else None
            out["ConsumedCapacity"] = self.capacity(
                params, table, 0.0 if ix else u, False, per_index
            )
        return out


def _projected(table: Table, ix: Index, name: Any) -> bool:
    if ix.projection == "ALL" or name in table.key_names() or name in ix.key_names():
        return True
    return ix.projection == "INCLUDE" and name in ix.non_key


def _check_filter_keys(node: Node, scope: Scope, keys: tuple[str, ...]) -> None:
    """A Query's filter may not name the key attributes."""
    stack: list[Any] = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Path):
            first = n.parts[0]
            name = scope.name(first) if isinstance(first, str) else first
            if name in keys:
                raise DdbValidationError(
                    "Filter Expression can only contain non-primary key attributes: Primary key "
                    f"attribute: {name}"
                )
            continue
        for attr in ("left", "right", "operand", "low", "high"):
            child = getattr(n, attr, None)
            if child is not None:
                stack.append(child)
        for attr in ("args", "options"):
            stack.extend(getattr(n, attr, ()) or ())
