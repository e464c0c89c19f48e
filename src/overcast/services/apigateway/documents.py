"""How both APIs keep their state: one JSON document per API (REST API or HTTP API), read and
rewritten whole inside a transaction, plus account-level records (domain names, and for REST APIs
API keys and usage plans) as one JSON document per row. Documents are small, and rewriting them
whole keeps every change atomic. `version` changes on every write, so that the data planes'
compiled caches know when to rebuild."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from overcast.store import Migration, Store

# The conflict target of an upsert, where it is not the record's key column alone.
_CONFLICT = {"domain_names": "account, region, name"}


class ApiDocuments:
    """Typed access to one API Gateway database: `API_TABLE` holds the API documents (keyed by
    `api_id`, the id found at doc["api"][API_ID]); `RECORD_KEYS` names each record table's key."""

    API_TABLE: ClassVar[str]
    API_ID: ClassVar[str]
    RECORD_KEYS: ClassVar[dict[str, str]] = {"domain_names": "name"}

    def __init__(self, store: Store, name: str, migrations: list[Migration]) -> None:
        self.db = store.open(name, migrations)
        self.version = 0
        self._owner_cache: dict[str, tuple[str, str] | None] = {}

    def _bump(self) -> None:
        self.version += 1

    # -- API documents ------------------------------------------------------------------------

    def get_api(self, account: str, region: str, api_id: str) -> dict[str, Any] | None:
        """One API's document, or None."""
        row = self.db.query_one(
            f"SELECT doc FROM {self.API_TABLE} WHERE api_id=? AND account=? AND region=?",
            (api_id, account, region),
        )
        return json.loads(row["doc"]) if row else None

    def list_apis(self, account: str, region: str) -> list[dict[str, Any]]:
        """Every API document of an account and region, by id."""
        rows = self.db.query(
            f"SELECT doc FROM {self.API_TABLE} WHERE account=? AND region=? ORDER BY api_id",
            (account, region),
        )
        return [json.loads(r["doc"]) for r in rows]

    def put_api(self, account: str, region: str, doc: dict[str, Any]) -> None:
        """Write an API document (insert or replace)."""
        api_id = doc["api"][self.API_ID]
        with self.db.transaction() as tx:
            tx.execute(
                f"INSERT INTO {self.API_TABLE}(api_id, account, region, doc) VALUES (?,?,?,?) "
                "ON CONFLICT(api_id) DO UPDATE SET doc=excluded.doc",
                (api_id, account, region, json.dumps(doc)),
            )
        self._owner_cache.pop(api_id, None)
        self._bump()

    def delete_api(self, account: str, region: str, api_id: str) -> None:
        """Remove an API document."""
        with self.db.transaction() as tx:
            tx.execute(
                f"DELETE FROM {self.API_TABLE} WHERE api_id=? AND account=? AND region=?",
                (api_id, account, region),
            )
        self._owner_cache.pop(api_id, None)
        self._bump()

    def owner(self, api_id: str) -> tuple[str, str] | None:
        """(account, region) of an API id, or None when no API here has it (cached)."""
        if api_id in self._owner_cache:
            return self._owner_cache[api_id]
        row = self.db.query_one(
            f"SELECT account, region FROM {self.API_TABLE} WHERE api_id=?", (api_id,)
        )
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
        """One record of `table`, or None."""
        key = self.RECORD_KEYS[table]
        row = self.db.query_one(
            f"SELECT doc FROM {table} WHERE {key}=? AND account=? AND region=?",
            (rid, account, region),
        )
        return json.loads(row["doc"]) if row else None

    def list_records(self, table: str, account: str, region: str) -> list[dict[str, Any]]:
        """Every record of `table` in an account and region, by key."""
        key = self.RECORD_KEYS[table]
        rows = self.db.query(
            f"SELECT doc FROM {table} WHERE account=? AND region=? ORDER BY {key}",
            (account, region),
        )
        return [json.loads(r["doc"]) for r in rows]

    def put_record(
        self, table: str, account: str, region: str, rid: str, doc: dict[str, Any]
    ) -> None:
        """Write a record (insert or replace)."""
        key = self.RECORD_KEYS[table]
        conflict = _CONFLICT.get(table, key)
        with self.db.transaction() as tx:
            tx.execute(
                f"INSERT INTO {table}({key}, account, region, doc) VALUES (?,?,?,?) "
                f"ON CONFLICT({conflict}) DO UPDATE SET doc=excluded.doc",
                (rid, account, region, json.dumps(doc)),
            )
        self._bump()

    def delete_record(self, table: str, account: str, region: str, rid: str) -> None:
        """Remove a record."""
        key = self.RECORD_KEYS[table]
        with self.db.transaction() as tx:
            tx.execute(
                f"DELETE FROM {table} WHERE {key}=? AND account=? AND region=?",
                (rid, account, region),
            )
        self._bump()
