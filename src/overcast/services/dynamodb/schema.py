"""The DynamoDB database: its migrations and the table metadata records.

Both providers of this package (dynamodb and dynamodbstreams) open the one database "dynamodb".
Items live in `items` keyed by (tid, pk, sk): `tid` is the surrogate id of one table incarnation,
itself keyed by (account, region, name) in `tables`, so every item key is scoped to its account and
region, and a table recreated under the same name never sees the old items. `pk`/`sk` are the
sortable key encodings of `engines.ddb.keys`, so ORDER BY sk is DynamoDB's order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from overcast.store import Migration

MIGRATIONS = [
    Migration(
        "0001_dynamodb",
        """
        CREATE TABLE tables (
            account TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            tid INTEGER NOT NULL UNIQUE,
            meta BLOB NOT NULL,
            PRIMARY KEY (account, region, name)
        );
        CREATE TABLE table_ids (tid INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT, region TEXT,
                                name TEXT);
        CREATE TABLE items (
            tid INTEGER NOT NULL,
            pk BLOB NOT NULL,
            sk BLOB NOT NULL,
            seg INTEGER NOT NULL,
            size INTEGER NOT NULL,
            expires REAL,
            item BLOB NOT NULL,
            PRIMARY KEY (tid, pk, sk)
        ) WITHOUT ROWID;
        CREATE INDEX items_expiry ON items(expires) WHERE expires IS NOT NULL;
        CREATE TABLE index_items (
            tid INTEGER NOT NULL,
            iname TEXT NOT NULL,
            pk BLOB NOT NULL,
            sk BLOB NOT NULL,
            tpk BLOB NOT NULL,
            tsk BLOB NOT NULL,
            seg INTEGER NOT NULL,
            size INTEGER NOT NULL,
            item BLOB NOT NULL,
            PRIMARY KEY (tid, iname, pk, sk, tpk, tsk)
        ) WITHOUT ROWID;
        CREATE TABLE streams (
            arn TEXT PRIMARY KEY,
            account TEXT NOT NULL,
            region TEXT NOT NULL,
            table_name TEXT NOT NULL,
            tid INTEGER NOT NULL,
            label TEXT NOT NULL,
            view_type TEXT NOT NULL,
            shard_id TEXT NOT NULL,
            created REAL NOT NULL,
            disabled REAL
        );
        CREATE INDEX streams_by_table ON streams(account, region, table_name);
        CREATE TABLE stream_records (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            stream TEXT NOT NULL,
            created REAL NOT NULL,
            record BLOB NOT NULL
        );
        CREATE INDEX stream_records_by_stream ON stream_records(stream, seq);
        CREATE INDEX stream_records_by_age ON stream_records(created);
        CREATE TABLE transactions (
            account TEXT NOT NULL,
            region TEXT NOT NULL,
            token TEXT NOT NULL,
            digest TEXT NOT NULL,
            created REAL NOT NULL,
            response BLOB NOT NULL,
            PRIMARY KEY (account, region, token)
        );
        """,
    )
]


@dataclass(slots=True)
class Index:
    """A GSI or LSI definition and its state."""

    name: str
    kind: str  # "GSI" or "LSI"
    hash: tuple[str, str]
    range: tuple[str, str] | None
    projection: str  # ALL, KEYS_ONLY, INCLUDE
    non_key: tuple[str, ...] = ()
    status: str = "ACTIVE"
    throughput: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "kind": self.kind, "hash": list(self.hash),
            "range": list(self.range) if self.range else None, "projection": self.projection,
            "non_key": list(self.non_key), "status": self.status, "throughput": self.throughput,
        }  # fmt: skip

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Index:
        return cls(
            d["name"], d["kind"], (d["hash"][0], d["hash"][1]),
            (d["range"][0], d["range"][1]) if d["range"] else None, d["projection"],
            tuple(d["non_key"]), d["status"], d["throughput"],
        )  # fmt: skip

    def key_names(self) -> tuple[str, ...]:
        return (self.hash[0], self.range[0]) if self.range else (self.hash[0],)


@dataclass(slots=True)
class Table:
    """One table's metadata. The store row is the truth; providers cache these in memory."""

    account: str
    region: str
    name: str
    tid: int
    table_id: str
    created: float
    hash: tuple[str, str]
    range: tuple[str, str] | None
    attribute_definitions: list[dict[str, str]]
    billing_mode: str = "PAY_PER_REQUEST"
    throughput: dict[str, Any] = field(default_factory=dict)
    indexes: list[Index] = field(default_factory=list)
    stream_view_type: str | None = None
    stream_arn: str | None = None
    stream_label: str | None = None
    ttl_attribute: str | None = None
    ttl_status: str = "DISABLED"
    tags: dict[str, str] = field(default_factory=dict)
    deletion_protection: bool = False
    sse: dict[str, Any] | None = None
    table_class: str = "STANDARD"
    status: str = "ACTIVE"
    billing_updated: float | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:dynamodb:{self.region}:{self.account}:table/{self.name}"

    def key_names(self) -> tuple[str, ...]:
        return (self.hash[0], self.range[0]) if self.range else (self.hash[0],)

    def index(self, name: str) -> Index | None:
        for ix in self.indexes:
            if ix.name == name:
                return ix
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account, "region": self.region, "name": self.name, "tid": self.tid,
            "table_id": self.table_id, "created": self.created, "hash": list(self.hash),
            "range": list(self.range) if self.range else None,
            "attribute_definitions": self.attribute_definitions,
            "billing_mode": self.billing_mode, "throughput": self.throughput,
            "indexes": [ix.to_json() for ix in self.indexes],
            "stream_view_type": self.stream_view_type, "stream_arn": self.stream_arn,
            "stream_label": self.stream_label, "ttl_attribute": self.ttl_attribute,
            "ttl_status": self.ttl_status, "tags": self.tags,
            "deletion_protection": self.deletion_protection, "sse": self.sse,
            "table_class": self.table_class, "status": self.status,
            "billing_updated": self.billing_updated,
        }  # fmt: skip

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Table:
        return cls(
            d["account"], d["region"], d["name"], d["tid"], d["table_id"], d["created"],
            (d["hash"][0], d["hash"][1]), (d["range"][0], d["range"][1]) if d["range"] else None,
            d["attribute_definitions"], d["billing_mode"], d["throughput"],
            [Index.from_json(x) for x in d["indexes"]], d["stream_view_type"], d["stream_arn"],
            d["stream_label"], d["ttl_attribute"], d["ttl_status"], d["tags"],
            d["deletion_protection"], d["sse"], d["table_class"], d["status"],
            d.get("billing_updated"),
        )  # fmt: skip
