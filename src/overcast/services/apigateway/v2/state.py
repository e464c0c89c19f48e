"""HTTP APIs on disk: one JSON document per API (API, routes, integrations, authorizers, stages,
deployments) and one per domain name, through the shared `documents` logic."""

from __future__ import annotations

from overcast.services.apigateway.documents import ApiDocuments
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


class HttpApiState(ApiDocuments):
    """The apigatewayv2 database: HTTP API documents and domain names."""

    API_TABLE = "http_apis"
    API_ID = "ApiId"

    def __init__(self, store: Store) -> None:
        super().__init__(store, "apigatewayv2", MIGRATIONS)
