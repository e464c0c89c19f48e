"""CloudFormation's records and their tables: stacks, stack resources, stack events, change sets
and exports. Every row carries account and region (stack ids are ARNs that contain both)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar

from overcast.store import Database, Migration

MIGRATIONS = [
    Migration(
        "0001_stacks",
        """
        CREATE TABLE stacks (
            stack_id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            status TEXT NOT NULL,
            reason TEXT,
            description TEXT,
            template_body TEXT NOT NULL,
            processed TEXT NOT NULL,
            parameters TEXT NOT NULL,
            outputs TEXT NOT NULL,
            tags TEXT NOT NULL,
            capabilities TEXT NOT NULL,
            created REAL NOT NULL,
            updated REAL,
            deleted REAL,
            disable_rollback INTEGER NOT NULL DEFAULT 0,
            termination_protection INTEGER NOT NULL DEFAULT 0,
            endpoint TEXT NOT NULL,
            operation TEXT,
            previous TEXT
        );
        CREATE INDEX stacks_name ON stacks(account_id, region, name);
        CREATE TABLE stack_resources (
            stack_id TEXT NOT NULL,
            logical_id TEXT NOT NULL,
            type TEXT NOT NULL,
            physical_id TEXT,
            status TEXT NOT NULL,
            reason TEXT,
            properties TEXT NOT NULL,
            attributes TEXT NOT NULL,
            ref TEXT,
            updated REAL NOT NULL,
            undo TEXT,
            PRIMARY KEY (stack_id, logical_id)
        );
        CREATE TABLE stack_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            stack_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            logical_id TEXT NOT NULL,
            physical_id TEXT,
            type TEXT NOT NULL,
            status TEXT NOT NULL,
            reason TEXT,
            ts REAL NOT NULL,
            properties TEXT
        );
        CREATE INDEX stack_events_stack ON stack_events(stack_id, seq);
        CREATE TABLE change_sets (
            change_set_id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            stack_id TEXT NOT NULL,
            name TEXT NOT NULL,
            type TEXT NOT NULL,
            status TEXT NOT NULL,
            execution_status TEXT NOT NULL,
            reason TEXT,
            description TEXT,
            created REAL NOT NULL,
            template_body TEXT NOT NULL,
            processed TEXT NOT NULL,
            parameters TEXT NOT NULL,
            tags TEXT NOT NULL,
            capabilities TEXT NOT NULL,
            changes TEXT NOT NULL
        );
        CREATE INDEX change_sets_stack ON change_sets(stack_id, name);
        CREATE TABLE exports (
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            stack_id TEXT NOT NULL,
            PRIMARY KEY (account_id, region, name)
        );
        """,
    ),
    Migration(
        "0002_imports",
        """
        CREATE TABLE imports (
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            stack_id TEXT NOT NULL,
            PRIMARY KEY (account_id, region, name, stack_id)
        );
        """,
    ),
]

TERMINAL_DELETED = "DELETE_COMPLETE"
_R = TypeVar("_R")


@dataclass(frozen=True, slots=True)
class Stack:
    stack_id: str
    account_id: str
    region: str
    name: str
    status: str
    reason: str | None
    description: str | None
    template_body: str
    processed: dict[str, Any]
    parameters: list[dict[str, Any]]  # [{ParameterKey, ParameterValue, NoEcho?}] resolved text
    outputs: list[dict[str, Any]]
    tags: list[dict[str, str]]
    capabilities: list[str]
    created: float
    updated: float | None = None
    deleted: float | None = None
    disable_rollback: bool = False
    termination_protection: bool = False
    endpoint: str = "http://127.0.0.1:4566"
    operation: dict[str, Any] | None = None  # the operation running now (to resume or fail it)
    previous: dict[str, Any] | None = None  # template and parameters before an update

    def param_text(self) -> dict[str, str]:
        """Parameter values by key, as text."""
        return {p["ParameterKey"]: p["ParameterValue"] for p in self.parameters}


@dataclass(frozen=True, slots=True)
class StackResource:
    stack_id: str
    logical_id: str
    type: str
    physical_id: str | None
    status: str
    reason: str | None
    properties: dict[str, Any]
    attributes: dict[str, Any]
    ref: str | None
    updated: float
    undo: dict[str, Any] | None = None  # what to restore on rollback (see executor)


@dataclass(frozen=True, slots=True)
class StackEvent:
    seq: int
    stack_id: str
    event_id: str
    logical_id: str
    physical_id: str | None
    type: str
    status: str
    reason: str | None
    ts: float
    properties: str | None


@dataclass(frozen=True, slots=True)
class ChangeSet:
    change_set_id: str
    account_id: str
    region: str
    stack_id: str
    name: str
    type: str  # CREATE | UPDATE
    status: str
    execution_status: str
    reason: str | None
    description: str | None
    created: float
    template_body: str
    processed: dict[str, Any]
    parameters: list[dict[str, Any]]
    tags: list[dict[str, str]]
    capabilities: list[str]
    changes: list[dict[str, Any]] = field(default_factory=list)


def _j(value: Any) -> str:
    return json.dumps(value, default=str)


# Which fields each table keeps as JSON text and as 0/1; every other field is stored as is.
# A record's fields are its table's columns, in order.
_JSON: dict[type, frozenset[str]] = {
    Stack: frozenset(
        ("processed", "parameters", "outputs", "tags", "capabilities", "operation", "previous")
    ),
    StackResource: frozenset(("properties", "attributes", "undo")),
    StackEvent: frozenset(),
    ChangeSet: frozenset(("processed", "parameters", "tags", "capabilities", "changes")),
}
_BOOLS: dict[type, frozenset[str]] = {
    Stack: frozenset(("disable_rollback", "termination_protection")),
}


def _row_of(record: Any, skip: tuple[str, ...] = ()) -> tuple[list[str], tuple[Any, ...]]:
    """A record as (columns, values) for an INSERT."""
    as_json = _JSON[type(record)]
    names, values = [], []
    for f in fields(record):
        if f.name in skip:
            continue
        value = getattr(record, f.name)
        if f.name in as_json and value is not None:
            value = _j(value)
        elif isinstance(value, bool):
            value = int(value)
        names.append(f.name)
        values.append(value)
    return names, tuple(values)


def _insert(tx: sqlite3.Connection, verb: str, table: str, record: Any, *skip: str) -> None:
    names, values = _row_of(record, skip)
    marks = ",".join("?" * len(names))
    tx.execute(f"{verb} INTO {table} ({', '.join(names)}) VALUES ({marks})", values)


def _record(cls: type[_R], row: sqlite3.Row) -> _R:
    """A record from its table's row."""
    as_json, bools = _JSON[cls], _BOOLS.get(cls, frozenset())
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        value = row[f.name]
        if f.name in as_json:
            value = json.loads(value) if value else None
        elif f.name in bools:
            value = bool(value)
        values[f.name] = value
    return cls(**values)


def _stack(row: sqlite3.Row) -> Stack:
    return _record(Stack, row)


def _resource(row: sqlite3.Row) -> StackResource:
    return _record(StackResource, row)


def _change_set(row: sqlite3.Row) -> ChangeSet:
    return _record(ChangeSet, row)


class StackStore:
    """Reads and writes CloudFormation's tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- stacks --------------------------------------------------------------------------------

    def put_stack(self, s: Stack) -> None:
        with self.db.transaction() as tx:
            _insert(tx, "INSERT OR REPLACE", "stacks", s)

    def update_stack(self, stack: Stack, **changes: Any) -> Stack:
        """Write a changed copy of a stack and return it."""
        new = replace(stack, **changes)
        self.put_stack(new)
        return new

    def get_stack(self, stack_id: str) -> Stack | None:
        row = self.db.query_one("SELECT * FROM stacks WHERE stack_id = ?", (stack_id,))
        return _stack(row) if row else None

    def find_stack(self, account: str, region: str, name_or_id: str) -> Stack | None:
        """A live stack by name, or any stack (deleted included) by its id."""
        if name_or_id.startswith("arn:"):
            row = self.db.query_one(
                "SELECT * FROM stacks WHERE stack_id = ? AND account_id = ? AND region = ?",
                (name_or_id, account, region),
            )
        else:
            row = self.db.query_one(
                "SELECT * FROM stacks WHERE account_id = ? AND region = ? AND name = ? "
                "AND status != ? ORDER BY created DESC LIMIT 1",
                (account, region, name_or_id, TERMINAL_DELETED),
            )
        return _stack(row) if row else None

    def list_stacks(self, account: str, region: str) -> list[Stack]:
        rows = self.db.query(
            "SELECT * FROM stacks WHERE account_id = ? AND region = ? ORDER BY created DESC",
            (account, region),
        )
        return [_stack(r) for r in rows]

    def in_progress(self) -> list[Stack]:
        """Stacks with an operation recorded as running (for recovery at start)."""
        return [
            _stack(r) for r in self.db.query("SELECT * FROM stacks WHERE operation IS NOT NULL")
        ]

    def delete_stack_rows(self, stack_id: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM stack_resources WHERE stack_id = ?", (stack_id,))

    # -- resources -----------------------------------------------------------------------------

    def put_resource(self, r: StackResource) -> None:
        with self.db.transaction() as tx:
            _insert(tx, "INSERT OR REPLACE", "stack_resources", r)

    def delete_resource(self, stack_id: str, logical_id: str) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "DELETE FROM stack_resources WHERE stack_id = ? AND logical_id = ?",
                (stack_id, logical_id),
            )

    def resources(self, stack_id: str) -> list[StackResource]:
        rows = self.db.query(
            "SELECT * FROM stack_resources WHERE stack_id = ? ORDER BY logical_id", (stack_id,)
        )
        return [_resource(r) for r in rows]

    def find_by_physical_id(
        self, account: str, region: str, physical_id: str
    ) -> StackResource | None:
        row = self.db.query_one(
            "SELECT r.* FROM stack_resources r JOIN stacks s ON s.stack_id = r.stack_id "
            "WHERE s.account_id = ? AND s.region = ? AND r.physical_id = ?",
            (account, region, physical_id),
        )
        return _resource(row) if row else None

    # -- events --------------------------------------------------------------------------------

    def add_event(self, e: StackEvent) -> None:
        with self.db.transaction() as tx:
            _insert(tx, "INSERT", "stack_events", e, "seq")

    def events(self, stack_id: str) -> list[StackEvent]:
        """Newest first, as DescribeStackEvents returns them."""
        rows = self.db.query(
            "SELECT * FROM stack_events WHERE stack_id = ? ORDER BY seq DESC", (stack_id,)
        )
        return [_record(StackEvent, r) for r in rows]

    # -- change sets ---------------------------------------------------------------------------

    def put_change_set(self, c: ChangeSet) -> None:
        with self.db.transaction() as tx:
            _insert(tx, "INSERT OR REPLACE", "change_sets", c)

    def get_change_set(self, change_set_id: str) -> ChangeSet | None:
        row = self.db.query_one(
            "SELECT * FROM change_sets WHERE change_set_id = ?", (change_set_id,)
        )
        return _change_set(row) if row else None

    def find_change_set(self, stack_id: str, name: str) -> ChangeSet | None:
        row = self.db.query_one(
            "SELECT * FROM change_sets WHERE stack_id = ? AND name = ? ORDER BY created DESC",
            (stack_id, name),
        )
        return _change_set(row) if row else None

    def change_sets(self, stack_id: str) -> list[ChangeSet]:
        rows = self.db.query(
            "SELECT * FROM change_sets WHERE stack_id = ? ORDER BY created", (stack_id,)
        )
        return [_change_set(r) for r in rows]

    def delete_change_set(self, change_set_id: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM change_sets WHERE change_set_id = ?", (change_set_id,))

    def delete_change_sets_of(self, stack_id: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM change_sets WHERE stack_id = ?", (stack_id,))

    # -- exports -------------------------------------------------------------------------------

    def exports(self, account: str, region: str) -> dict[str, tuple[str, str]]:
        """Export name → (value, exporting stack id)."""
        rows = self.db.query(
            "SELECT name, value, stack_id FROM exports WHERE account_id = ? AND region = ?",
            (account, region),
        )
        return {r["name"]: (r["value"], r["stack_id"]) for r in rows}

    def set_imports(self, account: str, region: str, stack_id: str, names: set[str]) -> None:
        """Record the exports a stack imports (replacing what it imported before)."""
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM imports WHERE stack_id = ?", (stack_id,))
            for name in sorted(names):
                tx.execute(
                    "INSERT INTO imports VALUES (?,?,?,?)", (account, region, name, stack_id)
                )

    def importers(self, account: str, region: str, name: str) -> list[str]:
        """Names of the live stacks that import an export."""
        rows = self.db.query(
            "SELECT s.name FROM imports i JOIN stacks s ON s.stack_id = i.stack_id "
            "WHERE i.account_id = ? AND i.region = ? AND i.name = ? AND s.status != ?",
            (account, region, name, TERMINAL_DELETED),
        )
        return [r["name"] for r in rows]

    def set_exports(
        self, account: str, region: str, stack_id: str, exports: dict[str, str]
    ) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM exports WHERE stack_id = ?", (stack_id,))
            for name, value in exports.items():
                tx.execute(
                    "INSERT INTO exports VALUES (?,?,?,?,?)",
                    (account, region, name, value, stack_id),
                )
