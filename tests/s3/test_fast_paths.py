"""The fast paths of a small PutObject give what the general paths give, over many inputs:
overwriting an inline row in place (repo.insert_version) against DELETE + INSERT, the strict
base64 check of a checksum value against `b64decode(validate=True)`, and the rest parser's one
walk over the headers against its walk over the modelled members."""

from __future__ import annotations

import base64
import binascii
import itertools
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from overcast.core.http import HttpRequest
from overcast.protocol import get_codec
from overcast.protocol.rest import RestCodec
from overcast.services.s3 import checksums, repo
from overcast.services.s3.errors import S3Error
from overcast.services.s3.records import Bucket, ObjectVersion
from overcast.services.s3.schema import MIGRATIONS
from overcast.store import Store

# -- insert_version ---------------------------------------------------------------------------


def _general(
    conn: sqlite3.Connection, bucket: Bucket, obj: ObjectVersion, row_id: int
) -> list[str]:
    """What insert_version does for a never-versioned bucket, spelled out the long way."""
    rows = conn.execute(
        "DELETE FROM objects WHERE bucket = ? AND key = ? RETURNING blob_id", (obj.bucket, obj.key)
    ).fetchall()
    conn.execute(
        "INSERT INTO objects(id, bucket, key, version_id, is_latest, delete_marker, blob_id,"
        " size, etag, last_modified, storage_class, owner, meta, data)"
        " VALUES (?,?,?,'null',1,?,?,?,?,?,?,?,?,?)",
        (
            row_id,
            obj.bucket,
            obj.key,
            int(obj.delete_marker),
            obj.blob_id,
            obj.size,
            obj.etag,
            obj.last_modified,
            obj.storage_class,
            obj.owner,
            repo.dumps(obj.meta),
            obj.data,
        ),
    )
    return [r[0] for r in rows if r[0]]


def _version(key: str, n: int, blob: bool, marker: bool = False) -> ObjectVersion:
    return ObjectVersion(
        0,
        "b",
        key,
        "",
        True,
        marker,
        None if marker or not blob else f"blob-{key}-{n}",
        0 if marker else n,
        "" if marker else f'"{n:032x}"',
        1000.0 + n,
        "STANDARD",
        "000000000000",
        {"headers": {"ContentType": "binary/octet-stream"}, "n": n},
        None if marker or blob else bytes([n % 256]) * n,
    )


def _db(path: Path) -> sqlite3.Connection:
    db = Store(path).open("s3", MIGRATIONS)
    db.conn.execute("INSERT INTO buckets(name, account_id, region, created) VALUES ('b','0','r',0)")
    return db.conn


def _rows(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute("SELECT * FROM objects ORDER BY id")]


def test_overwriting_in_place_matches_delete_and_insert(tmp_path: Path) -> None:
    # Every sequence of writes to two keys (inline bytes, a blob, a delete marker) leaves the
    # same rows and frees the same blobs as DELETE + INSERT does.
    fast, slow = _db(tmp_path / "fast"), _db(tmp_path / "slow")
    bucket = Bucket("b", "0", "r", 0.0, "")
    kinds = [(False, False), (True, False), (False, True)]  # (blob?, delete marker?)
    rng = random.Random(7)
    row_id = 1
    for step in range(300):
        key = rng.choice(["k1", "k2"])
        blob, marker = rng.choice(kinds)
        row_id += rng.randint(1, 3)
        obj, freed = repo.insert_version(fast, bucket, _version(key, step, blob, marker), row_id)
        assert (obj.id, obj.version_id, obj.is_latest) == (row_id, "null", True)
        assert freed == _general(slow, bucket, _version(key, step, blob, marker), row_id)
        assert _rows(fast) == _rows(slow), f"step {step}"


@pytest.mark.parametrize("versioning", ["Enabled", "Suspended"])
def test_versioned_buckets_keep_the_general_path(tmp_path: Path, versioning: str) -> None:
    conn = _db(tmp_path)
    plain = Bucket("b", "0", "r", 0.0, "")
    repo.insert_version(conn, plain, _version("k", 1, blob=False), 10)
    bucket = Bucket("b", "0", "r", 0.0, versioning)
    obj, freed = repo.insert_version(conn, bucket, _version("k", 2, blob=False), 11)
    rows = conn.execute("SELECT id, version_id, is_latest FROM objects ORDER BY id").fetchall()
    if versioning == "Enabled":  # the null version stays, noncurrent
        assert [tuple(r) for r in rows] == [(10, "null", 0), (11, obj.version_id, 1)]
    else:  # the null version is replaced
        assert [tuple(r) for r in rows] == [(11, "null", 1)]
    assert freed == []


# -- checksum values --------------------------------------------------------------------------


def _checksum_values() -> list[str]:
    values = {"".join(t) for n in range(6) for t in itertools.product("QB+/=a\n -_", repeat=n)}
    rng = random.Random(3)
    for _ in range(3000):
        values.add("".join(rng.choice("QUJD+/=ab\n é_-") for _ in range(rng.randint(0, 14))))
    for raw in (b"abcd", b"abcdefgh", b"\0" * 20, b"\xff" * 32, b"\x01" * 64):
        v = base64.b64encode(raw).decode()
        values.update({v, v + "=", "=" + v, v[:-1], v + "A", v.replace("=", ""), " " + v})
    return sorted(values)


def _old_check(algorithm: str, value: str) -> bool:
    size = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}[algorithm]
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    return len(raw) == size


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_checksum_format_check_matches_b64decode_validate(algorithm: str) -> None:
    for value in _checksum_values():
        decl = checksums.Declared(algorithm, value)
        try:
            checksums.check_format(decl)
            ok = True
        except S3Error:
            ok = False
        assert ok is _old_check(algorithm, value), repr(value)


# -- the rest parser's header walk --------------------------------------------------------------

_HEADERS = [
    ("content-length", "1024"),
    ("content-type", "text/plain"),
    ("x-amz-checksum-crc32", "XJkWJA=="),
    ("x-amz-sdk-checksum-algorithm", "CRC32"),
    ("x-amz-meta-a", "1"),
    ("x-amz-meta-b-c", "two"),
    ("x-amz-meta-", "empty name"),
    ("x-amz-tagging", "a=b"),
    ("x-amz-date", "20260101T000000Z"),
    ("authorization", "AWS4-HMAC-SHA256 ..."),
    ("host", "127.0.0.1:4566"),
    ("x-amz-storage-class", "STANDARD"),
    ("cache-control", "no-cache"),
    ("x-amz-server-side-encryption", "AES256"),
]
_PATHS = ["/b/k", "/b/a%20b/c%2Fd", "/b/x/y/z", "/b/%E2%82%AC"]


@pytest.mark.parametrize("op_name", ["PutObject", "GetObject", "HeadObject", "CreateBucket"])
def test_header_walk_matches_member_walk(op_name: str) -> None:
    codec = get_codec("s3")
    assert isinstance(codec, RestCodec)
    op = codec.model.operation_model(op_name)
    plan = codec.request_plan(op)
    assert plan.header_index is not None
    rng = random.Random(op_name)
    for _ in range(300):
        headers = dict(rng.sample(_HEADERS, rng.randint(0, len(_HEADERS))))
        path = rng.choice(_PATHS) if op_name != "CreateBucket" else "/b"
        req = HttpRequest(op.http["method"], path, "", headers, b"")
        fast = codec._parse(plan, req)
        plan.header_index = None  # the walk over the modelled members
        try:
            slow = codec._parse(plan, req)
        finally:
            plan.header_index = {w: (n, r) for w, n, r in plan.headers}
        assert fast == slow
        labels = plan.route.label_values(path)
        assert {name: fast[name] for name, _ in plan.labels} == labels
