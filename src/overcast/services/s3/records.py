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
        return cls(row["name"], row["account_id"], row["region"], row["created"], row["versioning"])


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
        return cls(
            id=row["id"],
            bucket=row["bucket"],
            key=row["key"],
            version_id=row["version_id"],
            is_latest=bool(row["is_latest"]),
            delete_marker=bool(row["delete_marker"]),
            blob_id=row["blob_id"],
            size=row["size"],
            etag=row["etag"],
            last_modified=row["last_modified"],
            storage_class=row["storage_class"],
            owner=row["owner"],
            meta=orjson.loads(row["meta"]),
            data=row["data"] if "data" in row.keys() else None,  # noqa: SIM118
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
