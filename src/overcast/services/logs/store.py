"""The Logs tables."""

from __future__ import annotations

from overcast.store import Migration

MIGRATIONS = [
    Migration(
        "0001_logs",
        """
        CREATE TABLE log_groups (
            account_id TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
            created INTEGER NOT NULL, retention INTEGER, kms_key TEXT,
            tags TEXT NOT NULL DEFAULT '{}', class TEXT NOT NULL DEFAULT 'STANDARD',
            PRIMARY KEY (account_id, region, name)
        );
        CREATE TABLE log_streams (
            account_id TEXT NOT NULL, region TEXT NOT NULL, grp TEXT NOT NULL, name TEXT NOT NULL,
            created INTEGER NOT NULL, first_ts INTEGER, last_ts INTEGER, last_ingest INTEGER,
            stored_bytes INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (account_id, region, grp, name)
        );
        CREATE TABLE log_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            account_id TEXT NOT NULL, region TEXT NOT NULL, grp TEXT NOT NULL,
            stream TEXT NOT NULL, ts INTEGER NOT NULL, ingest INTEGER NOT NULL,
            message TEXT NOT NULL
        );
        CREATE INDEX log_events_stream ON log_events (account_id, region, grp, stream, ts, id);
        CREATE INDEX log_events_group ON log_events (account_id, region, grp, ts, id);
        """,
    )
]
