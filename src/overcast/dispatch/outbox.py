"""Reading and writing a database's `_outbox` table (its schema is migration `0000_outbox`).

Payloads are stored as CBOR so that what a provider passes (bytes, datetimes, nested dicts)
comes back to the target exactly as it went in; targets and policies as JSON text.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
from typing import Any

import cbor2

from overcast.dispatch.records import Delivery, RetryPolicy, Target
from overcast.store import Database

_COLUMNS = (
    "id, account_id, region, request_id, endpoint, target, payload, policy, on_failure,"
    " created, first_due, due, attempts, last_error, dedup_key"
)


def encode_payload(payload: dict[str, Any]) -> bytes:
    """The stored form of a payload (naive datetimes are taken as UTC)."""
    return cbor2.dumps(payload, timezone=datetime.UTC)


def decode_payload(data: bytes) -> dict[str, Any]:
    value = cbor2.loads(data)
    if not isinstance(value, dict):
        raise ValueError("outbox payload is not a map")
    return value


def _row_to_delivery(row: sqlite3.Row) -> Delivery:
    on_failure = row["on_failure"]
    return Delivery(
        id=row["id"],
        account_id=row["account_id"],
        region=row["region"],
        request_id=row["request_id"],
        endpoint=row["endpoint"],
        target=Target.from_json(json.loads(row["target"])),
        payload=decode_payload(row["payload"]),
        policy=RetryPolicy.from_json(json.loads(row["policy"])),
        on_failure=Target.from_json(json.loads(on_failure)) if on_failure else None,
        created=row["created"],
        first_due=row["first_due"],
        due=row["due"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        dedup_key=row["dedup_key"],
    )


def insert(
    conn: sqlite3.Connection,
    *,
    account_id: str,
    region: str,
    request_id: str,
    endpoint: str,
    target: Target,
    payload: dict[str, Any],
    policy: RetryPolicy,
    on_failure: Target | None,
    now: float,
    due: float,
    dedup_key: str | None,
) -> tuple[int, bool]:
    """Add a row in the caller's transaction; (id, created). With a dedup key that is already
    pending in the same account and region, nothing is written and the pending row's id returns."""
    cur = conn.execute(
        "INSERT INTO _outbox (account_id, region, request_id, endpoint, target, payload, policy,"
        " on_failure, created, first_due, due, attempts, dedup_key)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)"
        " ON CONFLICT (account_id, region, dedup_key) DO NOTHING",
        (
            account_id,
            region,
            request_id,
            endpoint,
            json.dumps(target.to_json()),
            encode_payload(payload),
            json.dumps(policy.to_json()),
            json.dumps(on_failure.to_json()) if on_failure else None,
            now,
            due,
            due,
            dedup_key,
        ),
    )
    if cur.rowcount == 1 and cur.lastrowid is not None:
        return cur.lastrowid, True
    row = conn.execute(
        "SELECT id FROM _outbox WHERE account_id = ? AND region = ? AND dedup_key = ?",
        (account_id, region, dedup_key),
    ).fetchone()
    return int(row[0]), False


def due_rows(db: Database, now: float, limit: int, skip: set[int]) -> list[Delivery]:
    """Up to `limit` rows due at `now`, oldest due first, leaving out the ids in `skip`."""
    if limit <= 0:
        return []
    rows = db.query(
        f"SELECT {_COLUMNS} FROM _outbox WHERE due <= ? ORDER BY due, id LIMIT ?",
        (now, limit + len(skip)),
    )
    return [_row_to_delivery(r) for r in rows if r["id"] not in skip][:limit]


def next_due_after(db: Database, now: float) -> float | None:
    """The earliest due time later than `now`, if any row has one."""
    row = db.query_one("SELECT MIN(due) FROM _outbox WHERE due > ?", (now,))
    return None if row is None or row[0] is None else float(row[0])


def pending(db: Database) -> list[Delivery]:
    """Every row not yet acknowledged, in due order."""
    return [
        _row_to_delivery(r) for r in db.query(f"SELECT {_COLUMNS} FROM _outbox ORDER BY due, id")
    ]


def delete(conn: sqlite3.Connection, delivery_id: int) -> bool:
    """Remove a row (acknowledged, cancelled or given up); False if it was already gone."""
    return conn.execute("DELETE FROM _outbox WHERE id = ?", (delivery_id,)).rowcount == 1


def delete_by_key(conn: sqlite3.Connection, account_id: str, region: str, key: str) -> bool:
    cur = conn.execute(
        "DELETE FROM _outbox WHERE account_id = ? AND region = ? AND dedup_key = ?",
        (account_id, region, key),
    )
    return cur.rowcount == 1


def reschedule(
    conn: sqlite3.Connection, delivery_id: int, *, attempts: int, due: float, error: str
) -> bool:
    """Record a failed (or deferred) attempt; False if the row is gone (cancelled meanwhile)."""
    cur = conn.execute(
        "UPDATE _outbox SET attempts = ?, due = ?, last_error = ? WHERE id = ?",
        (attempts, due, error, delivery_id),
    )
    return cur.rowcount == 1
