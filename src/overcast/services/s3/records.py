"""The S3 records: buckets, object versions, multipart uploads and their parts."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class Bucket:
    name: str
    account_id: str
    region: str
    created: float
    versioning: str  # '' (never enabled), 'Enabled' or 'Suspended'

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Bucket:
        """From `name, account_id, region, created, versioning`, in that order."""
        return cls(row[0], row[1], row[2], row[3], row[4])


@dataclass(slots=True)
class ObjectVersion:
    """One version of one key (or a delete marker). `meta` holds what S3 stores alongside the
    bytes: `headers` (Content-* members), `user` (x-amz-meta-*), `checksum` ({algorithm, value,
    type}), `parts` ([[size, checksum], ...] for multipart objects), `tags`, `acl`, `sse`."""

    id: int
    bucket: str
    key: str
    version_id: str
    is_latest: bool
    delete_marker: bool
    blob_id: str | None
    size: int
    etag: str
    last_modified: float
    storage_class: str
    owner: str
    meta: dict[str, Any] = field(default_factory=dict)
    data: bytes | None = None  # the bytes of a small object stored inline (read on demand)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ObjectVersion:
        """From repo's object columns in their order (`id, bucket, key, ... meta`), then
        optionally `data`. By position: it runs for every object read and listed."""
        return cls(
            row[0],
            row[1],
            row[2],
            row[3],
            bool(row[4]),
            bool(row[5]),
            row[6],
            row[7],
            row[8],
            row[9],
            row[10],
            row[11],
            orjson.loads(row[12]),
            row[13] if len(row) > 13 else None,
        )

    @property
    def parts(self) -> list[list[Any]]:
        parts: list[list[Any]] = self.meta.get("parts") or []
        return parts

    @property
    def tags(self) -> list[dict[str, str]]:
        tags: list[dict[str, str]] = self.meta.get("tags") or []
        return tags


@dataclass(frozen=True, slots=True)
class Upload:
    upload_id: str
    bucket: str
    key: str
    initiated: float
    owner: str
    storage_class: str
    checksum_algorithm: str | None
    checksum_type: str | None
    meta: dict[str, Any]

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Upload:
        return cls(
            row["upload_id"],
            row["bucket"],
            row["key"],
            row["initiated"],
            row["owner"],
            row["storage_class"],
            row["checksum_algorithm"],
            row["checksum_type"],
            orjson.loads(row["meta"]),
        )


@dataclass(frozen=True, slots=True)
class Part:
    part_number: int
    blob_id: str
    size: int
    etag: str
    last_modified: float
    checksum: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Part:
        return cls(
            row["part_number"],
            row["blob_id"],
            row["size"],
            row["etag"],
            row["last_modified"],
            row["checksum"],
        )


def canonical_id(account_id: str) -> str:
    """A stable 64-hex canonical user id for an account (S3 owners are canonical ids)."""
    return hashlib.sha256(f"overcast:{account_id}".encode()).hexdigest()


def owner(account_id: str) -> dict[str, str]:
    """The Owner structure S3 returns for an account."""
    return {"ID": canonical_id(account_id), "DisplayName": "webfile"}
