"""This service's tables. Configurations are stored as the JSON documents AWS returns
(FunctionConfiguration, AliasConfiguration, ...), keyed by account, region and name."""

from __future__ import annotations

from overcast.store import Migration

MIGRATIONS = [
    Migration(
        "0001_lambda",
        """
        CREATE TABLE functions (
            account_id TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
            version TEXT NOT NULL,
            config TEXT NOT NULL,
            code_blob TEXT NOT NULL,
            created REAL NOT NULL,
            PRIMARY KEY (account_id, region, name, version)
        );
        CREATE TABLE function_meta (
            account_id TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '{}',
            reserved_concurrency INTEGER,
            next_version INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (account_id, region, name)
        );
        CREATE TABLE aliases (
            account_id TEXT NOT NULL, region TEXT NOT NULL, function TEXT NOT NULL,
            name TEXT NOT NULL, config TEXT NOT NULL,
            PRIMARY KEY (account_id, region, function, name)
        );
        CREATE TABLE layers (
            account_id TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
            version INTEGER NOT NULL, config TEXT NOT NULL, code_blob TEXT NOT NULL,
            PRIMARY KEY (account_id, region, name, version)
        );
        CREATE TABLE layer_meta (
            account_id TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
            next_version INTEGER NOT NULL,
            PRIMARY KEY (account_id, region, name)
        );
        CREATE TABLE permissions (
            account_id TEXT NOT NULL, region TEXT NOT NULL, function TEXT NOT NULL,
            qualifier TEXT NOT NULL, sid TEXT NOT NULL, statement TEXT NOT NULL,
            PRIMARY KEY (account_id, region, function, qualifier, sid)
        );
        CREATE TABLE provisioned (
            account_id TEXT NOT NULL, region TEXT NOT NULL, function TEXT NOT NULL,
            qualifier TEXT NOT NULL, requested INTEGER NOT NULL, modified TEXT NOT NULL,
            PRIMARY KEY (account_id, region, function, qualifier)
        );
        CREATE TABLE event_invoke_configs (
            account_id TEXT NOT NULL, region TEXT NOT NULL, function TEXT NOT NULL,
            qualifier TEXT NOT NULL, config TEXT NOT NULL,
            PRIMARY KEY (account_id, region, function, qualifier)
        );
        CREATE TABLE url_configs (
            account_id TEXT NOT NULL, region TEXT NOT NULL, function TEXT NOT NULL,
            qualifier TEXT NOT NULL, url_id TEXT NOT NULL UNIQUE, config TEXT NOT NULL,
            PRIMARY KEY (account_id, region, function, qualifier)
        );
        """,
    )
]
