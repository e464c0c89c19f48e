"""Where REST APIs, API keys, usage plans, usage and domain names are kept.

Each REST API is one JSON document (the AWS-shaped members of RestApi plus its resources, models,
validators, authorizers, gateway responses, deployments and stages); `documents` holds the
read-modify-write logic both APIs share.
"""

from __future__ import annotations

import json
from typing import Any

from overcast.services.apigateway.documents import ApiDocuments
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


class ApiState(ApiDocuments):
    """The apigateway database: REST API documents, API keys, usage plans, usage counts, domain
    names and account settings."""

    API_TABLE = "rest_apis"
    API_ID = "id"
    RECORD_KEYS = {"api_keys": "key_id", "usage_plans": "plan_id", "domain_names": "name"}

    def __init__(self, store: Store) -> None:
        super().__init__(store, "apigateway", MIGRATIONS)

    # -- account-level records ----------------------------------------------------------------

    def put_record(
        self, table: str, account: str, region: str, rid: str, doc: dict[str, Any]
    ) -> None:
        """Write a record; an API key's value is a column too, to find keys by value."""
        if table != "api_keys":
            super().put_record(table, account, region, rid, doc)
            return
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO api_keys(key_id, account, region, value, doc) VALUES (?,?,?,?,?) "
                "ON CONFLICT(key_id) DO UPDATE SET doc=excluded.doc, value=excluded.value",
                (rid, account, region, doc.get("value", ""), json.dumps(doc)),
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
