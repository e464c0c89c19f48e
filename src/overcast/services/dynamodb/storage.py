"""Item rows, index entries and stream records: the SQL behind every DynamoDB operation.

`write_item` is the one place an item changes: it replaces (or deletes) the item row, brings each
index entry in line, and appends the stream record, all on the caller's transaction, so the three
commit together or not at all.
"""

from __future__ import annotations

import base64
import sqlite3
import uuid
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from overcast.engines.ddb import keys as keycodec
from overcast.engines.ddb.values import Item, item_size
from overcast.services.dynamodb.schema import Index, Table

STREAM_RETENTION = 24 * 3600.0
SERVICE_IDENTITY = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}


def _default(obj: Any) -> Any:
    if isinstance(obj, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(obj)).decode()
    raise TypeError(type(obj).__name__)


def dumps(item: Item) -> bytes:
    """An item as stored: DynamoDB JSON with binaries base64-encoded (as on the wire)."""
    return orjson.dumps(item, default=_default)


def _decode_binary(value: Any) -> None:
    for k, v in value.items():
        if k == "B":
            value[k] = base64.b64decode(v)
        elif k == "BS":
            value[k] = [base64.b64decode(x) for x in v]
        elif k == "M":
            for x in v.values():
                _decode_binary(x)
        elif k == "L":
            for x in v:
                _decode_binary(x)


def loads(blob: bytes) -> Item:
    """An item back from its stored form (binaries as bytes)."""
    item: Item = orjson.loads(blob)
    # Only walk items that may hold binaries: a cheap byte search spares the common case.
    if b'"B":' in blob or b'"BS":' in blob:
        for v in item.values():
            _decode_binary(v)
    return item


def loads_many(blobs: list[bytes]) -> list[Item]:
    """Many stored items at once: one JSON document for the lot costs far less than one each."""
    if not blobs:
        return []
    doc = b"[" + b",".join(blobs) + b"]"
    items: list[Item] = orjson.loads(doc)
    if b'"B":' in doc or b'"BS":' in doc:
        for item in items:
            for v in item.values():
                _decode_binary(v)
    return items


def raw_list(blobs: list[bytes]) -> orjson.Fragment:
    """Stored items as one JSON array, ready to go out as they are."""
    return orjson.Fragment(b"[" + b",".join(blobs) + b"]")


def key_of(table_keys: tuple[str, ...], item: Item) -> Item:
    """The key attributes of an item."""
    return {k: item[k] for k in table_keys if k in item}


def encode_pk_sk(hash_name: str, range_name: str | None, item: Item) -> tuple[bytes, bytes]:
    """The (pk, sk) byte keys of an item for a key schema."""
    pk = keycodec.encode_key(item[hash_name])
    sk = keycodec.encode_key(item[range_name]) if range_name else b""
    return pk, sk


def index_entry(table: Table, ix: Index, item: Item) -> tuple[bytes, bytes, Item] | None:
    """(pk, sk, projected item) of an item in an index, or None if the item is not in it
    (sparse: it lacks an index key, or its type differs)."""
    hv = item.get(ix.hash[0])
    if hv is None or ix.hash[1] not in hv:
        return None
    rv = None
    if ix.range is not None:
        rv = item.get(ix.range[0])
        if rv is None or ix.range[1] not in rv:
            return None
    pk = keycodec.encode_key(hv)
    sk = keycodec.encode_key(rv) if rv is not None else b""
    if ix.projection == "ALL":
        projected = item
    else:
        names = {*table.key_names(), *ix.key_names()}
        if ix.projection == "INCLUDE":
            names.update(ix.non_key)
        projected = {k: v for k, v in item.items() if k in names}
    return pk, sk, projected


def ttl_of(table: Table, item: Item | None) -> float | None:
    """The expiry (epoch seconds) of an item when TTL is on and it carries a number there."""
    if item is None or table.ttl_status != "ENABLED" or not table.ttl_attribute:
        return None
    v = item.get(table.ttl_attribute)
    if v is None or "N" not in v:
        return None
    try:
        return float(Decimal(v["N"]))
    except (InvalidOperation, OverflowError):
        return None


class ItemStore:
    """SQL over the items, index_items and stream_records tables."""

    def __init__(self) -> None:
        self._cursor: tuple[sqlite3.Connection, sqlite3.Cursor] | None = None

    def _cursor_of(self, conn: sqlite3.Connection) -> sqlite3.Cursor:
        """A kept cursor of `conn` (plain tuple rows), for statements that leave none open: a
        write, or a lookup of a unique key (fetching its row steps the statement to its end,
        which resets it). Spares a cursor per statement."""
        cached = self._cursor
        if cached is not None and cached[0] is conn:
            return cached[1]
        cur = conn.cursor()
        cur.row_factory = None
        self._cursor = (conn, cur)
        return cur

    # -- reads --------------------------------------------------------------------------------

    def get(self, conn: sqlite3.Connection, tid: int, pk: bytes, sk: bytes) -> Item | None:
        row = self.get_raw(conn, tid, pk, sk)
        return loads(row[0]) if row is not None else None

    def get_raw(
        self, conn: sqlite3.Connection, tid: int, pk: bytes, sk: bytes
    ) -> tuple[bytes, int] | None:
        """An item's stored JSON and size, undecoded."""
        cur = self._cursor_of(conn)
        row: tuple[bytes, int] | None = cur.execute(
            "SELECT item, size FROM items WHERE tid = ? AND pk = ? AND sk = ?", (tid, pk, sk)
        ).fetchone()
        return row

    def query(
        self,
        conn: sqlite3.Connection,
        tid: int,
        index: str | None,
        pk: bytes,
        where: str,
        args: list[Any],
        forward: bool,
        start: tuple[bytes, ...] | None,
    ) -> Iterator[tuple[bytes, int]]:
        """Item blobs (and their stored sizes) of one partition in key order."""
        order = "ASC" if forward else "DESC"
        cmp = ">" if forward else "<"
        if index is None:
            sql = f"SELECT item, size FROM items WHERE tid = ? AND pk = ?{where}"
            params: list[Any] = [tid, pk, *args]
            if start is not None:
                sql += f" AND sk {cmp} ?"
                params.append(start[0])
            sql += f" ORDER BY sk {order}"
        else:
            sql = (
                f"SELECT item, size FROM index_items WHERE tid = ? AND iname = ? AND pk = ?{where}"
            )
            params = [tid, index, pk, *args]
            if start is not None:
                sql += f" AND (sk, tpk, tsk) {cmp} (?, ?, ?)"
                params.extend(start)
            sql += f" ORDER BY sk {order}, tpk {order}, tsk {order}"
        return _rows(conn, sql, params)

    def scan(
        self,
        conn: sqlite3.Connection,
        tid: int,
        index: str | None,
        segment: tuple[int, int] | None,
        start: tuple[bytes, ...] | None,
    ) -> Iterator[tuple[bytes, int]]:
        """Item blobs of a whole table or index, in (pk, sk) order, optionally one segment."""
        if index is None:
            sql = "SELECT item, size FROM items WHERE tid = ?"
            params: list[Any] = [tid]
            if start is not None:
                sql += " AND (pk, sk) > (?, ?)"
                params.extend(start)
            order = " ORDER BY pk, sk"
        else:
            sql = "SELECT item, size FROM index_items WHERE tid = ? AND iname = ?"
            params = [tid, index]
            if start is not None:
                sql += " AND (pk, sk, tpk, tsk) > (?, ?, ?, ?)"
                params.extend(start)
            order = " ORDER BY pk, sk, tpk, tsk"
        if segment is not None:
            sql += " AND seg % ? = ?"
            params.extend([segment[1], segment[0]])
        return _rows(conn, sql + order, params)

    def counts(self, conn: sqlite3.Connection, tid: int) -> tuple[int, int]:
        row = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM items WHERE tid = ?", (tid,)
        ).fetchone()
        return int(row[0]), int(row[1])

    def index_counts(self, conn: sqlite3.Connection, tid: int, iname: str) -> tuple[int, int]:
        row = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM index_items WHERE tid = ? AND iname = ?",
            (tid, iname),
        ).fetchone()
        return int(row[0]), int(row[1])

    # -- writes -------------------------------------------------------------------------------

    def write_item(
        self,
        conn: sqlite3.Connection,
        table: Table,
        pk: bytes,
        sk: bytes,
        old: Item | None,
        new: Item | None,
        now: float,
        size: int | None = None,
        identity: dict[str, str] | None = None,
    ) -> None:
        """Replace (new) or delete (new=None) one item with its index entries and stream record.
        Must run inside a transaction."""
        tid = table.tid
        if new is not None:
            self._cursor_of(conn).execute(
                "INSERT OR REPLACE INTO items (tid, pk, sk, seg, size, expires, item) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (tid, pk, sk, keycodec.segment_of(pk), size if size is not None
                 else item_size(new), ttl_of(table, new), dumps(new)),
            )  # fmt: skip
        elif old is not None:
            conn.execute("DELETE FROM items WHERE tid = ? AND pk = ? AND sk = ?", (tid, pk, sk))
        for ix in table.indexes:
            self._reindex(conn, table, ix, pk, sk, old, new)
        if table.stream_arn and table.stream_view_type and (old is not None or new is not None):
            if old is None or new is None or old != new:
                self._stream_record(conn, table, old, new, now, identity)

    def _reindex(
        self,
        conn: sqlite3.Connection,
        table: Table,
        ix: Index,
        pk: bytes,
        sk: bytes,
        old: Item | None,
        new: Item | None,
    ) -> None:
        before = index_entry(table, ix, old) if old is not None else None
        after = index_entry(table, ix, new) if new is not None else None
        if before is not None and (after is None or before[:2] != after[:2]):
            conn.execute(
                "DELETE FROM index_items WHERE tid = ? AND iname = ? AND pk = ? AND sk = ? "
                "AND tpk = ? AND tsk = ?",
                (table.tid, ix.name, before[0], before[1], pk, sk),
            )
        if after is not None:
            conn.execute(
                "INSERT OR REPLACE INTO index_items (tid, iname, pk, sk, tpk, tsk, seg, size, item)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (table.tid, ix.name, after[0], after[1], pk, sk, keycodec.segment_of(after[0]),
                 item_size(after[2]), dumps(after[2])),
            )  # fmt: skip

    def backfill_index(self, conn: sqlite3.Connection, table: Table, ix: Index) -> None:
        """Build a new index from the table's items (UpdateTable Create)."""
        rows = conn.execute("SELECT pk, sk, item FROM items WHERE tid = ?", (table.tid,))
        for pk, sk, blob in rows.fetchall():
            self._reindex(conn, table, ix, pk, sk, None, loads(blob))

    def _stream_record(
        self,
        conn: sqlite3.Connection,
        table: Table,
        old: Item | None,
        new: Item | None,
        now: float,
        identity: dict[str, str] | None,
    ) -> None:
        view = table.stream_view_type or "KEYS_ONLY"
        source = new if new is not None else old
        assert source is not None
        keys = key_of(table.key_names(), source)
        data: dict[str, Any] = {"ApproximateCreationDateTime": int(now), "Keys": keys}
        size = item_size(keys)
        if view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") and new is not None:
            data["NewImage"] = new
            size += item_size(new)
        if view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") and old is not None:
            data["OldImage"] = old
            size += item_size(old)
        data["SizeBytes"] = size
        data["StreamViewType"] = view
        record: dict[str, Any] = {
            "eventID": uuid.uuid4().hex,
            "eventName": "INSERT" if old is None else ("REMOVE" if new is None else "MODIFY"),
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": table.region,
            "dynamodb": data,
        }
        if identity is not None:
            record["userIdentity"] = identity
        conn.execute(
            "INSERT INTO stream_records (stream, created, record) VALUES (?, ?, ?)",
            (table.stream_arn, now, orjson.dumps(record, default=_default)),
        )

    def delete_table_data(self, conn: sqlite3.Connection, tid: int) -> None:
        conn.execute("DELETE FROM items WHERE tid = ?", (tid,))
        conn.execute("DELETE FROM index_items WHERE tid = ?", (tid,))


def _rows(conn: sqlite3.Connection, sql: str, params: list[Any]) -> Iterator[tuple[bytes, int]]:
    """A lazy cursor of (item blob, size) tuples (plain tuples: no Row objects per row)."""
    cur = conn.cursor()
    cur.row_factory = None
    result: Iterator[tuple[bytes, int]] = cur.execute(sql, params)
    return result


def load_record(blob: bytes, seq: int) -> dict[str, Any]:
    """A stored stream record with its sequence number, binaries decoded."""
    record: dict[str, Any] = orjson.loads(blob)
    data = record["dynamodb"]
    if b'"B":' in blob or b'"BS":' in blob:
        for part in ("Keys", "NewImage", "OldImage"):
            if part in data:
                for v in data[part].values():
                    _decode_binary(v)
    data["SequenceNumber"] = seq_text(seq)
    return record


def seq_text(seq: int) -> str:
    """A sequence number as the API shows it: a decimal string of 21 digits."""
    return f"{seq + 100000000000000000000:021d}"


def seq_value(text: str) -> int:
    """The integer position of a sequence number string."""
    return int(text) - 100000000000000000000
