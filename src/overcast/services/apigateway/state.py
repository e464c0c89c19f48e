"""Where REST APIs, API keys, usage plans, usage and domain names are kept.

Each REST API is one JSON document (the AWS-shaped members of RestApi plus its resources, models,
validators, authorizers, gateway responses, deployments and stages), read and rewritten whole
inside a transaction: documents are small and this keeps every change atomic.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from overcast.store import Migration, Store

MIGRATIONS = [
    Migration(
        "0001_apigateway",
        """
        CREATE TABLE rest_apis (
            api_id TEXT PRIMARY KEY,
            account TEXT NOT NULL,
            region TEXT NOT NULL,
            doc TEXT NOT NULL
        );
        CREATE INDEX rest_apis_owner ON rest_apis(account, region);
        CREATE TABLE api_keys (
            key_id TEXT PRIMARY KEY,
            account TEXT NOT NULL,
            region TEXT NOT NULL,
            value TEXT NOT NULL,
            doc TEXT NOT NULL
        );
        CREATE INDEX api_keys_value ON api_keys(account, region, value);
        CREATE TABLE usage_plans (
            plan_id TEXT PRIMARY KEY,
            account TEXT NOT NULL,
            region TEXT NOT NULL,
            doc TEXT NOT NULL
        );
        CREATE TABLE usage_counts (
            account TEXT NOT NULL,
            region TEXT NOT NULL,
            plan_id TEXT NOT NULL,
            key_id TEXT NOT NULL,
            day TEXT NOT NULL,
            used INTEGER NOT NULL,
            PRIMARY KEY (account, region, plan_id, key_id, day)
        );
        CREATE TABLE domain_names (
            account TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            doc TEXT NOT NULL,
            PRIMARY KEY (account, region, name)
        );
        """,
    ),
    Migration(
        "0002_account_settings",
        """
        CREATE TABLE account_settings (
            account TEXT NOT NULL,
            region TEXT NOT NULL,
            doc TEXT NOT NULL,
            PRIMARY KEY (account, region)
        );
        """,
    ),
]


class ApiState:
    """Typed access to the apigateway database; bumps `version` on every write so the data
    plane's compiled caches know when to rebuild."""

    def __init__(self, store: Store) -> None:
        self.db = store.open("apigateway", MIGRATIONS)
        self.version = 0
        self._owner_cache: dict[str, tuple[str, str] | None] = {}

    def _bump(self) -> None:
        self.version += 1

    # -- REST APIs ---------------------------------------------------------------------------

    def get_api(self, account: str, region: str, api_id: str) -> dict[str, Any] | None:
        row = self.db.query_one(
            "SELECT doc FROM rest_apis WHERE api_id=? AND account=? AND region=?",
            (api_id, account, region),
        )
        return json.loads(row["doc"]) if row else None

    def list_apis(self, account: str, region: str) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT doc FROM rest_apis WHERE account=? AND region=? ORDER BY api_id",
            (account, region),
        )
        return [json.loads(r["doc"]) for r in rows]

    def put_api(self, account: str, region: str, doc: dict[str, Any]) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO rest_apis(api_id, account, region, doc) VALUES (?,?,?,?) "
                "ON CONFLICT(api_id) DO UPDATE SET doc=excluded.doc",
                (doc["api"]["id"], account, region, json.dumps(doc)),
            )
        self._owner_cache.pop(doc["api"]["id"], None)
        self._bump()

    def delete_api(self, account: str, region: str, api_id: str) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "DELETE FROM rest_apis WHERE api_id=? AND account=? AND region=?",
                (api_id, account, region),
            )
        self._owner_cache.pop(api_id, None)
        self._bump()

    def owner(self, api_id: str) -> tuple[str, str] | None:
        """(account, region) of an API id, or None when no REST API has it (cached)."""
        if api_id in self._owner_cache:
            return self._owner_cache[api_id]
        row = self.db.query_one("SELECT account, region FROM rest_apis WHERE api_id=?", (api_id,))
        found = (row["account"], row["region"]) if row else None
        if len(self._owner_cache) > 10000:
            self._owner_cache.clear()
        self._owner_cache[api_id] = found
        return found

    @contextmanager
    def editing(self, account: str, region: str, api_id: str) -> Iterator[dict[str, Any] | None]:
        """Read-modify-write one API document in a transaction (yields None when missing)."""
        with self.db.transaction():
            doc = self.get_api(account, region, api_id)
            yield doc
            if doc is not None:
                self.put_api(account, region, doc)

    # -- account-level records ----------------------------------------------------------------

    def get_record(self, table: str, account: str, region: str, rid: str) -> dict[str, Any] | None:
        key = _KEY[table]
        row = self.db.query_one(
            f"SELECT doc FROM {table} WHERE {key}=? AND account=? AND region=?",
            (rid, account, region),
        )
        return json.loads(row["doc"]) if row else None

    def list_records(self, table: str, account: str, region: str) -> list[dict[str, Any]]:
        key = _KEY[table]
        rows = self.db.query(
            f"SELECT doc FROM {table} WHERE account=? AND region=? ORDER BY {key}",
            (account, region),
        )
        return [json.loads(r["doc"]) for r in rows]

    def put_record(
        self, table: str, account: str, region: str, rid: str, doc: dict[str, Any]
    ) -> None:
        key = _KEY[table]
        with self.db.transaction() as tx:
            if table == "api_keys":
                tx.execute(
                    "INSERT INTO api_keys(key_id, account, region, value, doc) VALUES (?,?,?,?,?) "
                    "ON CONFLICT(key_id) DO UPDATE SET doc=excluded.doc, value=excluded.value",
                    (rid, account, region, doc.get("value", ""), json.dumps(doc)),
                )
            elif table == "domain_names":
                tx.execute(
                    "INSERT INTO domain_names(account, region, name, doc) VALUES (?,?,?,?) "
                    "ON CONFLICT(account, region, name) DO UPDATE SET doc=excluded.doc",
                    (account, region, rid, json.dumps(doc)),
                )
            else:
                tx.execute(
                    f"INSERT INTO {table}({key}, account, region, doc) VALUES (?,?,?,?) "
                    f"ON CONFLICT({key}) DO UPDATE SET doc=excluded.doc",
                    (rid, account, region, json.dumps(doc)),
                )
        self._bump()

    def delete_record(self, table: str, account: str, region: str, rid: str) -> None:
        key = _KEY[table]
        with self.db.transaction() as tx:
            tx.execute(
                f"DELETE FROM {table} WHERE {key}=? AND account=? AND region=?",
                (rid, account, region),
            )
        self._bump()

    def domain_mappings(self) -> dict[str, tuple[str, str, dict[str, dict[str, Any]]]]:
        """Every custom domain name → (account, region, base path mappings)."""
        rows = self.db.query("SELECT account, region, name, doc FROM domain_names")
        return {
            r["name"].lower(): (r["account"], r["region"], json.loads(r["doc"]).get("mappings", {}))
            for r in rows
        }

    def key_by_value(self, account: str, region: str, value: str) -> dict[str, Any] | None:
        row = self.db.query_one(
            "SELECT doc FROM api_keys WHERE account=? AND region=? AND value=?",
            (account, region, value),
        )
        return json.loads(row["doc"]) if row else None

    # -- account settings ---------------------------------------------------------------------

    def get_account(self, account: str, region: str) -> dict[str, Any] | None:
        row = self.db.query_one(
            "SELECT doc FROM account_settings WHERE account=? AND region=?", (account, region)
        )
        return json.loads(row["doc"]) if row else None

    def put_account(self, account: str, region: str, doc: dict[str, Any]) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO account_settings(account, region, doc) VALUES (?,?,?) "
                "ON CONFLICT(account, region) DO UPDATE SET doc=excluded.doc",
                (account, region, json.dumps(doc)),
            )

    # -- usage --------------------------------------------------------------------------------

    def add_usage(self, counts: dict[tuple[str, str, str, str, str], int]) -> None:
        """Add request counts keyed by (account, region, plan, key, day)."""
        if not counts:
            return
        with self.db.transaction() as tx:
            for (account, region, plan, key, day), n in counts.items():
                tx.execute(
                    "INSERT INTO usage_counts(account, region, plan_id, key_id, day, used) "
                    "VALUES (?,?,?,?,?,?) ON CONFLICT(account, region, plan_id, key_id, day) "
                    "DO UPDATE SET used = used + excluded.used",
                    (account, region, plan, key, day, n),
                )

    def usage(
        self, account: str, region: str, plan: str, start: str, end: str
    ) -> list[tuple[str, str, int]]:
        """(key id, day, used) rows for a plan between two days (inclusive)."""
        rows = self.db.query(
            "SELECT key_id, day, used FROM usage_counts WHERE account=? AND region=? "
            "AND plan_id=? AND day>=? AND day<=? ORDER BY key_id, day",
            (account, region, plan, start, end),
        )
        return [(r["key_id"], r["day"], int(r["used"])) for r in rows]

    def set_usage(
        self, account: str, region: str, plan: str, key: str, day: str, used: int
    ) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO usage_counts(account, region, plan_id, key_id, day, used) "
                "VALUES (?,?,?,?,?,?) ON CONFLICT(account, region, plan_id, key_id, day) "
                "DO UPDATE SET used = excluded.used",
                (account, region, plan, key, day, used),
            )


_KEY = {
    "api_keys": "key_id",
    "usage_plans": "plan_id",
    "domain_names": "name",
}
