"""What every DynamoDB operation shares: the database, the cached table metadata, key checks and
consumed-capacity figures. The provider's mixins build on this class."""

from __future__ import annotations

import math
from typing import Any

import orjson

from overcast.core.clock import Clock
from overcast.core.context import RequestContext
from overcast.engines.ddb import keys as keycodec
from overcast.engines.ddb.errors import DdbValidationError, invalid_params
from overcast.engines.ddb.values import Item, check_value
from overcast.services.dynamodb.errors import not_found
from overcast.services.dynamodb.schema import MIGRATIONS, Table
from overcast.services.dynamodb.storage import ItemStore
from overcast.store import Database, Store
from overcast.store.group import GroupCommit


def table_name_of(name: str) -> str:
    """TableName may be a table ARN."""
    if name.startswith("arn:"):
        return name.rsplit("/", 1)[-1] if "/table/" not in name else name.split("/table/")[1]
    return name


def open_db(store: Store) -> Database:
    """The one database both DynamoDB providers use."""
    return store.open("dynamodb", MIGRATIONS)


class DynamoBase:
    """Shared state and helpers of the DynamoDB provider."""

    SERVICE = "dynamodb"

    def __init__(self, store: Store, clock: Clock, *, raw_json: bool = False) -> None:
        self.db = open_db(store)
        self.clock = clock
        # Items are stored as their wire JSON. With `raw_json`, a read answering a client
        # directly hands them on as that text (orjson.Fragment), which the JSON codec passes on
        # untouched: no decode here and no encode there. Internal callers always get dicts.
        self.raw_json = raw_json
        self.items = ItemStore()
        self.writes = GroupCommit(self.db, savepoint="ddb_write")
        self._tables: dict[tuple[str, str, str], Table] = {}
        self._loaded = False

    def raw(self, ctx: RequestContext) -> bool:
        """Whether items read for this request may go back as their stored JSON text."""
        return self.raw_json and ctx.http is not None and not ctx.internal

    # -- table metadata -----------------------------------------------------------------------

    def _load(self) -> None:
        for row in self.db.query("SELECT meta FROM tables"):
            t = Table.from_json(orjson.loads(row[0]))
            self._tables[(t.account, t.region, t.name)] = t
        self._loaded = True

    def find_table(self, ctx: RequestContext, name: str) -> Table | None:
        """A table's metadata from the cache (the store is the truth; the cache mirrors it)."""
        if not self._loaded:
            self._load()
        return self._tables.get((ctx.account_id, ctx.region, table_name_of(name)))

    def table(self, ctx: RequestContext, name: str, *, described: bool = False) -> Table:
        """A table, or ResourceNotFoundException."""
        t = self.find_table(ctx, name)
        if t is None:
            raise not_found(table_name_of(name) if described else None)
        return t

    def table_copy(self, ctx: RequestContext, name: str) -> Table:
        """A private copy of a table's metadata to change; `save_table` publishes it on commit."""
        return Table.from_json(self.table(ctx, name, described=True).to_json())

    def all_tables(self, ctx: RequestContext) -> list[Table]:
        if not self._loaded:
            self._load()
        return sorted(
            (t for (a, r, _), t in self._tables.items() if a == ctx.account_id and r == ctx.region),
            key=lambda t: t.name,
        )

    def save_table(self, tx: Any, table: Table) -> None:
        """Write a table's metadata (inside a transaction) and refresh the cache after commit."""
        tx.execute(
            "INSERT OR REPLACE INTO tables (account, region, name, tid, meta) VALUES (?,?,?,?,?)",
            (table.account, table.region, table.name, table.tid, orjson.dumps(table.to_json())),
        )
        key = (table.account, table.region, table.name)

        def publish() -> None:
            self._tables[key] = table

        self.db.after_commit(publish)

    def forget_table(self, tx: Any, table: Table) -> None:
        tx.execute(
            "DELETE FROM tables WHERE account = ? AND region = ? AND name = ?",
            (table.account, table.region, table.name),
        )
        key = (table.account, table.region, table.name)

        def drop() -> None:
            self._tables.pop(key, None)

        self.db.after_commit(drop)

    # -- keys ---------------------------------------------------------------------------------

    def key_of_request(self, table: Table, key: dict[str, Any]) -> tuple[Item, bytes, bytes]:
        """A request's Key checked against the schema: (key item, pk bytes, sk bytes)."""
        rng = table.range
        if not isinstance(key, dict) or len(key) != (1 if rng is None else 2):
            raise DdbValidationError("The provided key element does not match the schema")
        name = table.hash[0]
        hv, pk = _key_part(name, table.hash[1], key.get(name))
        if rng is None:
            out: Item = {name: hv}
            sk = b""
        else:
            rv, sk = _key_part(rng[0], rng[1], key.get(rng[0]))
            out = {name: hv, rng[0]: rv}
        _check_key_sizes(pk, sk)
        return out, pk, sk

    def key_of_item(self, table: Table, item: Item) -> tuple[bytes, bytes]:
        """Check a (normalised) item's key and index key attributes; return (pk, sk)."""
        pk = _item_key(item, table.hash)
        sk = _item_key(item, table.range) if table.range is not None else b""
        for ix in table.indexes:
            for name, typ in (ix.hash, ix.range) if ix.range else (ix.hash,):
                v = item.get(name)
                if v is None:
                    continue
                if typ not in v:
                    raise invalid_params(
                        f"Type mismatch for Index Key {name} Expected: {typ} Actual: "
                        f"{next(iter(v))} IndexName: {ix.name}"
                    )
                if typ in ("S", "B") and len(v[typ]) == 0:
                    raise DdbValidationError(
                        "One or more parameter values are not valid. A value specified for a "
                        "secondary index key is not supported. The AttributeValue for a key "
                        f"attribute cannot contain an empty {'string' if typ == 'S' else 'binary'}"
                        f" value. IndexName: {ix.name}, IndexKey: {name}"
                    )
        _check_key_sizes(pk, sk)
        return pk, sk

    # -- capacity -----------------------------------------------------------------------------

    def capacity(
        self,
        params: dict[str, Any],
        table: Table,
        units: float,
        write: bool,
        indexes: dict[str, float] | None = None,
    ) -> dict[str, Any] | None:
        """ConsumedCapacity for ReturnConsumedCapacity TOTAL or INDEXES (None for NONE)."""
        mode = params.get("ReturnConsumedCapacity", "NONE")
        if mode not in ("TOTAL", "INDEXES"):
            return None
        total = units + sum((indexes or {}).values())
        kind = "WriteCapacityUnits" if write else "ReadCapacityUnits"
        out: dict[str, Any] = {"TableName": table.name, "CapacityUnits": total, kind: total}
        if mode == "INDEXES":
            out["Table"] = {"CapacityUnits": units, kind: units}
            gsi = {
                n: {"CapacityUnits": u, kind: u}
                for n, u in (indexes or {}).items()
                if (ix := table.index(n)) is not None and ix.kind == "GSI"
            }
            lsi = {
                n: {"CapacityUnits": u, kind: u}
                for n, u in (indexes or {}).items()
                if (ix := table.index(n)) is not None and ix.kind == "LSI"
            }
            if gsi:
                out["GlobalSecondaryIndexes"] = gsi
            if lsi:
                out["LocalSecondaryIndexes"] = lsi
        return out

    def collection_metrics(
        self, params: dict[str, Any], table: Table, key: Item
    ) -> dict[str, Any] | None:
        """ItemCollectionMetrics: only for tables with LSIs, when asked for."""
        if params.get("ReturnItemCollectionMetrics") != "SIZE":
            return None
        if not any(ix.kind == "LSI" for ix in table.indexes):
            return None
        return {
            "ItemCollectionKey": {table.hash[0]: key[table.hash[0]]},
            "SizeEstimateRangeGB": [0.0, 1.0],
        }


def write_units(size: int) -> float:
    """Write capacity of one item write: 1 per KB, at least 1."""
    return float(max(1, math.ceil(size / 1024)))


def read_units(size: int, consistent: bool) -> float:
    """Read capacity: 1 per 4 KB (half for eventually consistent reads), at least one unit."""
    units = max(1, math.ceil(size / 4096))
    return float(units) if consistent else units / 2


def _key_part(name: str, typ: str, v: Any) -> tuple[dict[str, Any], bytes]:
    """One attribute of a request's Key, checked against its schema type: (value, key bytes)."""
    if not isinstance(v, dict) or len(v) != 1 or typ not in v:
        raise DdbValidationError("The provided key element does not match the schema")
    x = v[typ]
    if typ == "S" and type(x) is str:  # the usual key: no normalising to do
        if not x:
            raise _empty_key(name, typ)
        return v, x.encode()
    if typ == "N" and type(x) is str and keycodec.is_plain_int(x):
        return v, keycodec.encode_plain_int(x)
    checked = check_value(v)
    if typ != "N" and len(checked[typ]) == 0:
        raise _empty_key(name, typ)
    return checked, keycodec.encode_key(checked)


def _item_key(item: Item, attr: tuple[str, str]) -> bytes:
    """The key bytes of an item's key attribute, after checking it is there with its type."""
    name, typ = attr
    v = item.get(name)
    if v is None:
        raise invalid_params(f"Missing the key {name} in the item")
    if typ not in v:
        raise invalid_params(
            f"Type mismatch for key {name} expected: {typ} actual: {next(iter(v))}"
        )
    # The value itself was checked with the item: only a key's own rule is left.
    x = v[typ]
    if typ == "S":
        if not x:
            raise _empty_key(name, typ)
        return bytes(x.encode())
    if typ == "N":
        return keycodec.encode_number(x)
    if not x:
        raise _empty_key(name, typ)
    return bytes(x)


def _empty_key(name: str, t: str) -> DdbValidationError:
    kind = "string" if t == "S" else "binary"
    return DdbValidationError(
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        f"cannot contain an empty {kind} value. Key: {name}"
    )


def _check_key_sizes(pk: bytes, sk: bytes) -> None:
    if len(pk) > 2048:
        raise invalid_params("Size of hashkey has exceeded the maximum size limit of2048 bytes")
    if len(sk) > 1024:
        raise invalid_params(
            "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
        )
