"""HTTP APIs on disk: one JSON document per API, rewritten whole inside a transaction."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from overcast.store import Migration, Store

MIGRATIONS = [
    Migration(
        "0001_http_apis",
        """
        CREATE TABLE http_apis (
            api_id TEXT PRIMARY KEY,
            account TEXT NOT NULL,
            region TEXT NOT NULL,
            doc TEXT NOT NULL
        );
        CREATE INDEX http_apis_owner ON http_apis(account, region);
        """,
    ),
    Migration(
        "0002_domain_names",
        """
        CREATE TABLE domain_names (
            account TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            doc TEXT NOT NULL,
            PRIMARY KEY (account, region, name)
        );
        """,
    ),
]


class HttpApiState:
    """Typed access to the apigatewayv2 database; `version` changes on every write."""

    def __init__(self, store: Store) -> None:
        self.db = store.open("apigatewayv2", MIGRATIONS)
        self.version = 0
        self._owner_cache: dict[str, tuple[str, str] | None] = {}

    def get(self, account: str, region: str, api_id: str) -> dict[str, Any] | None:
        row = self.db.query_one(
            "SELECT doc FROM http_apis WHERE api_id=? AND account=? AND region=?",
            (api_id, account, region),
        )
        return json.loads(row["doc"]) if row else None

    def list_apis(self, account: str, region: str) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT doc FROM http_apis WHERE account=? AND region=? ORDER BY api_id",
            (account, region),
        )
        return [json.loads(r["doc"]) for r in rows]

    def put(self, account: str, region: str, doc: dict[str, Any]) -> None:
        api_id = doc["api"]["ApiId"]
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO http_apis(api_id, account, region, doc) VALUES (?,?,?,?) "
                "ON CONFLICT(api_id) DO UPDATE SET doc=excluded.doc",
                (api_id, account, region, json.dumps(doc)),
            )
        self._owner_cache.pop(api_id, None)
        self.version += 1

    def delete(self, account: str, region: str, api_id: str) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "DELETE FROM http_apis WHERE api_id=? AND account=? AND region=?",
                (api_id, account, region),
            )
        self._owner_cache.pop(api_id, None)
        self.version += 1

    def owner(self, api_id: str) -> tuple[str, str] | None:
        """(account, region) of an HTTP API id, or None (cached)."""
        if api_id in self._owner_cache:
            return self._owner_cache[api_id]
        row = self.db.query_one("SELECT account, region FROM http_apis WHERE api_id=?", (api_id,))
        found = (row["account"], row["region"]) if row else None
        if len(self._owner_cache) > 10000:
            self._owner_cache.clear()
        self._owner_cache[api_id] = found
        return found

    def get_domain(self, account: str, region: str, name: str) -> dict[str, Any] | None:
        row = self.db.query_one(
            "SELECT doc FROM domain_names WHERE account=? AND region=? AND name=?",
            (account, region, name),
        )
        return json.loads(row["doc"]) if row else None

    def list_domains(self, account: str, region: str) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT doc FROM domain_names WHERE account=? AND region=? ORDER BY name",
            (account, region),
        )
        return [json.loads(r["doc"]) for r in rows]

    def put_domain(self, account: str, region: str, doc: dict[str, Any]) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO domain_names(account, region, name, doc) VALUES (?,?,?,?) "
                "ON CONFLICT(account, region, name) DO UPDATE SET doc=excluded.doc",
                (account, region, doc["DomainName"], json.dumps(doc)),
            )

    def delete_domain(self, account: str, region: str, name: str) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "DELETE FROM domain_names WHERE account=? AND region=? AND name=?",
                (account, region, name),
            )

    @contextmanager
    def editing(self, account: str, region: str, api_id: str) -> Iterator[dict[str, Any] | None]:
        """Read-modify-write one API document in a transaction."""
        with self.db.transaction():
            doc = self.get(account, region, api_id)
            yield doc
            if doc is not None:
                self.put(account, region, doc)
