"""Reading and writing S3 rows. Each function takes an open sqlite3 connection (the caller holds
the transaction for writes) and returns records. Writes that drop a version return the blob ids
that no row names any more, for the caller to free once the transaction has committed."""

from __future__ import annotations

import secrets
import sqlite3
from typing import Any

import orjson

from overcast.services.s3.records import Bucket, ObjectVersion, Part, Upload

_OBJ_COLUMNS = (
    "id, bucket, key, version_id, is_latest, delete_marker, blob_id, size, etag, last_modified,"
    " storage_class, owner, meta"
)


def new_version_id() -> str:
    """A version id in S3's shape (32 url-safe characters)."""
    return secrets.token_urlsafe(24)


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# -- buckets ---------------------------------------------------------------------------------------


def get_bucket(conn: sqlite3.Connection, name: str) -> Bucket | None:
    row = conn.execute(
        "SELECT name, account_id, region, created, versioning FROM buckets WHERE name = ?", (name,)
    ).fetchone()
    return Bucket.from_row(row) if row else None


def list_buckets(conn: sqlite3.Connection, account_id: str) -> list[Bucket]:
    rows = conn.execute(
        "SELECT name, account_id, region, created, versioning FROM buckets"
        " WHERE account_id = ? ORDER BY name",
        (account_id,),
    ).fetchall()
    return [Bucket.from_row(r) for r in rows]


def get_config(conn: sqlite3.Connection, bucket: str, kind: str) -> Any | None:
    row = conn.execute(
        "SELECT value FROM bucket_config WHERE bucket = ? AND kind = ?", (bucket, kind)
    ).fetchone()
    return orjson.loads(row[0]) if row else None


def put_config(conn: sqlite3.Connection, bucket: str, kind: str, value: Any) -> None:
    conn.execute(
        "INSERT INTO bucket_config(bucket, kind, value) VALUES (?, ?, ?)"
        " ON CONFLICT(bucket, kind) DO UPDATE SET value = excluded.value",
        (bucket, kind, dumps(value)),
    )


def delete_config(conn: sqlite3.Connection, bucket: str, kind: str) -> None:
    conn.execute("DELETE FROM bucket_config WHERE bucket = ? AND kind = ?", (bucket, kind))


def buckets_with_config(conn: sqlite3.Connection, kind: str) -> list[tuple[str, Any]]:
    rows = conn.execute("SELECT bucket, value FROM bucket_config WHERE kind = ?", (kind,))
    return [(r[0], orjson.loads(r[1])) for r in rows]


# -- object versions -------------------------------------------------------------------------------


def latest(conn: sqlite3.Connection, bucket: str, key: str) -> ObjectVersion | None:
    """The current version of a key (possibly a delete marker), or None; with inline data."""
    row = conn.execute(
        f"SELECT {_OBJ_COLUMNS}, data FROM objects WHERE bucket = ? AND key = ? AND is_latest = 1"
        " ORDER BY id DESC LIMIT 1",
        (bucket, key),
    ).fetchone()
    return ObjectVersion.from_row(row) if row else None


def version(
    conn: sqlite3.Connection, bucket: str, key: str, version_id: str
) -> ObjectVersion | None:
    row = conn.execute(
        f"SELECT {_OBJ_COLUMNS}, data FROM objects WHERE bucket = ? AND key = ? AND version_id = ?",
        (bucket, key, version_id),
    ).fetchone()
    return ObjectVersion.from_row(row) if row else None


def versions_of(conn: sqlite3.Connection, bucket: str, key: str) -> list[ObjectVersion]:
    """Every version of a key, newest first."""
    rows = conn.execute(
        f"SELECT {_OBJ_COLUMNS} FROM objects WHERE bucket = ? AND key = ? ORDER BY id DESC",
        (bucket, key),
    ).fetchall()
    return [ObjectVersion.from_row(r) for r in rows]


_INSERT_VERSION = (
    "INSERT INTO objects(id, bucket, key, version_id, is_latest, delete_marker, blob_id, size,"
    " etag, last_modified, storage_class, owner, meta, data)"
    " VALUES (?,?,?,?,1,?,?,?,?,?,?,?,?,?)"
)
_DELETE_KEY = "DELETE FROM objects WHERE bucket = ? AND key = ? RETURNING blob_id"
_DELETE_NULL_VERSION = (
    "DELETE FROM objects WHERE bucket = ? AND key = ? AND version_id = 'null' RETURNING blob_id"
)
# A never-versioned bucket holds at most one row per key. When that row keeps its bytes inline,
# overwriting it in place (new id included: a rewrite, as DELETE + INSERT would be) frees
# nothing and saves a statement; a row with a blob file is deleted by the general path, which
# returns the blob to free.
_REPLACE_INLINE = (
    "UPDATE objects SET id = ?, version_id = 'null', is_latest = 1, delete_marker = ?,"
    " blob_id = ?, size = ?, etag = ?, last_modified = ?, storage_class = ?, owner = ?, meta = ?,"
    " data = ? WHERE bucket = ? AND key = ? AND blob_id IS NULL"
)


def insert_version(
    conn: sqlite3.Connection, bucket: Bucket, obj: ObjectVersion, row_id: int
) -> tuple[ObjectVersion, list[str]]:
    """Make `obj` the current version of its key under the bucket's versioning state, as row
    `row_id` (larger than every id its key has had: versions are ordered by id).

    Unversioned: replaces every version. Enabled: the previous current version stays, noncurrent.
    Suspended: replaces the `null` version only. Returns the stored record (id and version id
    filled in) and the blob ids freed."""
    freed: list[str] = []
    versioning = bucket.versioning
    # The columns both statements below write, in the order both name them.
    fields = (
        int(obj.delete_marker),
        obj.blob_id,
        obj.size,
        obj.etag,
        obj.last_modified,
        obj.storage_class,
        obj.owner,
        dumps(obj.meta),
        obj.data,
    )
    if not versioning:
        obj.version_id = "null"
        replaced = conn.execute(_REPLACE_INLINE, (row_id, *fields, obj.bucket, obj.key)).rowcount
        if replaced:
            obj.id = row_id
            obj.is_latest = True
            return obj, freed
        # No row, or one with a blob file: delete (never versioned: no other version is left)
        freed = [r[0] for r in conn.execute(_DELETE_KEY, (obj.bucket, obj.key)) if r[0]]
    elif versioning == "Enabled":
        obj.version_id = new_version_id()
    else:
        obj.version_id = "null"
        deleted = conn.execute(_DELETE_NULL_VERSION, (obj.bucket, obj.key))
        freed = [r[0] for r in deleted if r[0]]
    if versioning:
        conn.execute(
            "UPDATE objects SET is_latest = 0 WHERE bucket = ? AND key = ? AND is_latest = 1",
            (obj.bucket, obj.key),
        )
    conn.execute(_INSERT_VERSION, (row_id, obj.bucket, obj.key, obj.version_id, *fields))
    obj.id = row_id
    obj.is_latest = True
    return obj, freed


def delete_version(conn: sqlite3.Connection, obj: ObjectVersion) -> list[str]:
    """Remove one version for good; if it was current, the newest remaining becomes current."""
    conn.execute("DELETE FROM objects WHERE id = ?", (obj.id,))
    if obj.is_latest:
        conn.execute(
            "UPDATE objects SET is_latest = 1 WHERE id = (SELECT MAX(id) FROM objects"
            " WHERE bucket = ? AND key = ?)",
            (obj.bucket, obj.key),
        )
    return [obj.blob_id] if obj.blob_id else []


def update_meta(conn: sqlite3.Connection, obj: ObjectVersion) -> None:
    """Rewrite a version's stored metadata in place (tags and ACLs change without a new version)."""
    conn.execute("UPDATE objects SET meta = ? WHERE id = ?", (dumps(obj.meta), obj.id))


def max_object_id(conn: sqlite3.Connection) -> int:
    """The largest object row id in use (0 for none)."""
    return int(conn.execute("SELECT MAX(id) FROM objects").fetchone()[0] or 0)


def bucket_has_versions(conn: sqlite3.Connection, bucket: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM objects WHERE bucket = ? LIMIT 1", (bucket,)).fetchone()
        is not None
    )


def prefix_end(prefix: str) -> str | None:
    """The least string greater than every string that starts with `prefix` (None: no bound).
    Code-point order is UTF-8 byte order, so this bounds a key range in SQLite too."""
    while prefix:
        last = ord(prefix[-1]) + 1
        if last == 0xD800:
            last = 0xE000  # surrogates cannot be encoded, so they are never in a key
        if last <= 0x10FFFF:
            return prefix[:-1] + chr(last)
        prefix = prefix[:-1]
    return None


def _range(sql: str, args: list[Any], prefix: str) -> str:
    if prefix:
        sql += " AND key >= ?"
        args.append(prefix)
        end = prefix_end(prefix)
        if end is not None:
            sql += " AND key < ?"
            args.append(end)
    return sql


def scan_latest(
    conn: sqlite3.Connection,
    bucket: str,
    after: str | None,
    inclusive: bool,
    prefix: str,
    limit: int,
) -> list[ObjectVersion]:
    """Current, non-deleted versions under a prefix, in key order, from `after`."""
    sql = f"SELECT {_OBJ_COLUMNS} FROM objects WHERE bucket = ? AND is_latest = 1 AND delete_marker = 0"
    args: list[Any] = [bucket]
    if after is not None:
        sql += " AND key >= ?" if inclusive else " AND key > ?"
        args.append(after)
    sql = _range(sql, args, prefix) + " ORDER BY key LIMIT ?"
    args.append(limit)
    return [ObjectVersion.from_row(r) for r in conn.execute(sql, args).fetchall()]


def scan_versions(
    conn: sqlite3.Connection,
    bucket: str,
    after: tuple[str, int | None] | None,
    inclusive: bool,
    prefix: str,
    limit: int,
) -> list[ObjectVersion]:
    """Every version under a prefix in (key ascending, newest first) order, from a cursor:
    `(key, None)` starts after (or, inclusive, at) a key; `(key, id)` after one version."""
    sql = f"SELECT {_OBJ_COLUMNS} FROM objects WHERE bucket = ?"
    args: list[Any] = [bucket]
    if after is not None:
        key, row_id = after
        if row_id is not None:
            sql += " AND (key > ? OR (key = ? AND id < ?))"
            args += [key, key, row_id]
        else:
            sql += " AND key >= ?" if inclusive else " AND key > ?"
            args.append(key)
    sql = _range(sql, args, prefix) + " ORDER BY key, id DESC LIMIT ?"
    args.append(limit)
    return [ObjectVersion.from_row(r) for r in conn.execute(sql, args).fetchall()]


# -- multipart uploads -----------------------------------------------------------------------------

_UPLOAD_COLUMNS = (
    "upload_id, bucket, key, initiated, owner, storage_class, checksum_algorithm,"
    " checksum_type, meta"
)


def get_upload(conn: sqlite3.Connection, upload_id: str) -> Upload | None:
    row = conn.execute(
        f"SELECT {_UPLOAD_COLUMNS} FROM uploads WHERE upload_id = ?", (upload_id,)
    ).fetchone()
    return Upload.from_row(row) if row else None


def insert_upload(conn: sqlite3.Connection, up: Upload) -> None:
    conn.execute(
        f"INSERT INTO uploads({_UPLOAD_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",
        (
            up.upload_id,
            up.bucket,
            up.key,
            up.initiated,
            up.owner,
            up.storage_class,
            up.checksum_algorithm,
            up.checksum_type,
            dumps(up.meta),
        ),
    )


def list_uploads(conn: sqlite3.Connection, bucket: str) -> list[Upload]:
    rows = conn.execute(
        f"SELECT {_UPLOAD_COLUMNS} FROM uploads WHERE bucket = ? ORDER BY key, initiated, upload_id",
        (bucket,),
    ).fetchall()
    return [Upload.from_row(r) for r in rows]


def parts_of(conn: sqlite3.Connection, upload_id: str) -> list[Part]:
    rows = conn.execute(
        "SELECT part_number, blob_id, size, etag, last_modified, checksum FROM parts"
        " WHERE upload_id = ? ORDER BY part_number",
        (upload_id,),
    ).fetchall()
    return [Part.from_row(r) for r in rows]


def put_part(conn: sqlite3.Connection, upload_id: str, part: Part) -> list[str]:
    """Store a part (replacing one with the same number); returns the replaced blob, if any."""
    row = conn.execute(
        "SELECT blob_id FROM parts WHERE upload_id = ? AND part_number = ?",
        (upload_id, part.part_number),
    ).fetchone()
    conn.execute(
        "INSERT OR REPLACE INTO parts(upload_id, part_number, blob_id, size, etag, last_modified,"
        " checksum) VALUES (?,?,?,?,?,?,?)",
        (
            upload_id,
            part.part_number,
            part.blob_id,
            part.size,
            part.etag,
            part.last_modified,
            part.checksum,
        ),
    )
    return [row[0]] if row else []


def delete_upload(conn: sqlite3.Connection, upload_id: str) -> list[str]:
    """Remove an upload and its parts; returns the parts' blob ids."""
    blobs = [
        r[0] for r in conn.execute("SELECT blob_id FROM parts WHERE upload_id = ?", (upload_id,))
    ]
    conn.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))
    conn.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
    return blobs


def referenced_blobs(conn: sqlite3.Connection) -> set[str]:
    """Every blob id some row names (what the start-up sweep must keep)."""
    ids = {r[0] for r in conn.execute("SELECT blob_id FROM objects WHERE blob_id IS NOT NULL")}
    ids.update(r[0] for r in conn.execute("SELECT blob_id FROM parts"))
    return ids
