"""The S3 database: buckets, their configuration sub-resources, object versions and uploads.

Bucket names are global in a partition (as in AWS), so a bucket row is keyed by its name and
carries its owning account and region; every other row hangs off a bucket. Object keys are TEXT
compared with SQLite's BINARY collation, which for UTF-8 is the byte order S3 lists in.
"""

from __future__ import annotations

from overcast.store import Migration

MIGRATIONS = [
    Migration(
        "0001_s3",
        """
        CREATE TABLE buckets (
            name TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            created REAL NOT NULL,
            versioning TEXT NOT NULL DEFAULT '',
            mfa_delete TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX buckets_owner ON buckets(account_id, name);

        CREATE TABLE bucket_config (
            bucket TEXT NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (bucket, kind)
        );

        CREATE TABLE objects (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            bucket TEXT NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
            key TEXT NOT NULL,
            version_id TEXT NOT NULL,
            is_latest INTEGER NOT NULL,
            delete_marker INTEGER NOT NULL DEFAULT 0,
            blob_id TEXT,
            size INTEGER NOT NULL DEFAULT 0,
            etag TEXT NOT NULL DEFAULT '',
            last_modified REAL NOT NULL,
            storage_class TEXT NOT NULL DEFAULT 'STANDARD',
            owner TEXT NOT NULL,
            meta TEXT NOT NULL DEFAULT '{}'
        );
        CREATE UNIQUE INDEX objects_version ON objects(bucket, key, version_id);
        CREATE INDEX objects_key ON objects(bucket, key, id);
        CREATE INDEX objects_latest ON objects(bucket, key) WHERE is_latest = 1;
        CREATE INDEX objects_blob ON objects(blob_id);

        CREATE TABLE uploads (
            upload_id TEXT PRIMARY KEY,
            bucket TEXT NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
            key TEXT NOT NULL,
            initiated REAL NOT NULL,
            owner TEXT NOT NULL,
            storage_class TEXT NOT NULL DEFAULT 'STANDARD',
            checksum_algorithm TEXT,
            checksum_type TEXT,
            meta TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX uploads_key ON uploads(bucket, key, initiated);

        CREATE TABLE parts (
            upload_id TEXT NOT NULL REFERENCES uploads(upload_id) ON DELETE CASCADE,
            part_number INTEGER NOT NULL,
            blob_id TEXT NOT NULL,
            size INTEGER NOT NULL,
            etag TEXT NOT NULL,
            last_modified REAL NOT NULL,
            checksum TEXT,
            PRIMARY KEY (upload_id, part_number)
        );
        CREATE INDEX parts_blob ON parts(blob_id);
        """,
    ),
    # Small objects live in their row: one durable commit instead of a file, its fsyncs and a
    # rename. A row has either `data` or `blob_id` (delete markers have neither).
    Migration("0002_inline_data", "ALTER TABLE objects ADD COLUMN data BLOB;"),
    # Only the start-up sweep looks rows up by blob id, and only rows that have one: inline
    # rows then write one index page less per commit.
    Migration(
        "0003_objects_blob_partial",
        """
        DROP INDEX objects_blob;
        CREATE INDEX objects_blob ON objects(blob_id) WHERE blob_id IS NOT NULL;
        """,
    ),
    # One b-tree page per index per write is what a small PUT's commit mostly costs: the table
    # loses AUTOINCREMENT (a sqlite_sequence page per insert; the provider hands out ids, which
    # still only grow) and its three (bucket, key, ...) indexes become one, ordered as versions
    # are listed (key, newest first) and carrying what lookups filter on, so finding the
    # current version or a version id reads no table row that is not returned.
    Migration(
        "0004_objects_one_key_index",
        """
        CREATE TABLE objects_new (
            id INTEGER PRIMARY KEY,
            bucket TEXT NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
            key TEXT NOT NULL,
            version_id TEXT NOT NULL,
            is_latest INTEGER NOT NULL,
            delete_marker INTEGER NOT NULL DEFAULT 0,
            blob_id TEXT,
            size INTEGER NOT NULL DEFAULT 0,
            etag TEXT NOT NULL DEFAULT '',
            last_modified REAL NOT NULL,
            storage_class TEXT NOT NULL DEFAULT 'STANDARD',
            owner TEXT NOT NULL,
            meta TEXT NOT NULL DEFAULT '{}',
            data BLOB
        );
        INSERT INTO objects_new(id, bucket, key, version_id, is_latest, delete_marker, blob_id,
            size, etag, last_modified, storage_class, owner, meta, data)
        SELECT id, bucket, key, version_id, is_latest, delete_marker, blob_id, size, etag,
            last_modified, storage_class, owner, meta, data FROM objects;
        DROP TABLE objects;
        ALTER TABLE objects_new RENAME TO objects;
        CREATE INDEX objects_key ON objects(bucket, key, id DESC, is_latest, version_id);
        CREATE INDEX objects_blob ON objects(blob_id) WHERE blob_id IS NOT NULL;
        """,
    ),
]
