"""A data directory written before migration 0004 (AUTOINCREMENT ids, four object indexes)
opens, reads as it did, and takes new versions in the right order."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from overcast.services.s3 import checksums
from overcast.services.s3.schema import MIGRATIONS
from overcast.store import Store
from tests.conftest import Server

BEFORE_0004 = [m for m in MIGRATIONS if m.name < "0004"]
OWNER = "000000000000"


def _meta(data: bytes) -> str:
    return json.dumps({
        "headers": {"ContentType": "text/plain"},
        "user": {"n": str(len(data))},
        "checksum": {"algorithm": "CRC32", "value": checksums.compute("CRC32", data),
                     "type": "FULL_OBJECT"},
        "tags": [{"Key": "t", "Value": "v"}],
        "sse": {"ServerSideEncryption": "AES256"},
    })  # fmt: skip


def _write_old_database(data_dir: Path) -> None:
    """Rows as the code before 0004 wrote them: ids from AUTOINCREMENT, in write order."""
    store = Store(data_dir)
    db = store.open("s3", BEFORE_0004)
    with db.transaction() as conn:
        assert {r[0] for r in conn.execute("SELECT name FROM _migrations")} >= {
            "0001_s3",
            "0003_objects_blob_partial",
        }
        for name, versioning in (("plain", ""), ("ver", "Enabled")):
            conn.execute(
                "INSERT INTO buckets(name, account_id, region, created, versioning)"
                " VALUES (?, ?, 'us-east-1', 1.7e9, ?)",
                (name, OWNER, versioning),
            )
        rows = [  # (bucket, key, version id, is latest, delete marker, data)
            ("plain", "k", "null", 1, 0, b"hello"),
            ("ver", "a", "v1", 0, 0, b"a1"),
            ("ver", "b", "vb", 0, 0, b"b1"),
            ("ver", "a", "v2", 0, 0, b"a22"),
            ("ver", "a", "v3", 1, 0, b"a333"),
            ("ver", "b", "mb", 1, 1, None),
        ]
        for n, (bucket, key, vid, latest, marker, data) in enumerate(rows):
            conn.execute(
                "INSERT INTO objects(bucket, key, version_id, is_latest, delete_marker, size,"
                " etag, last_modified, owner, meta, data) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    bucket, key, vid, latest, marker, len(data or b""),
                    f'"{hashlib.md5(data).hexdigest()}"' if data is not None else "",
                    1.7e9 + n, OWNER, _meta(data) if data is not None else "{}", data,
                ),
            )  # fmt: skip
    store.close()


def test_a_database_from_before_0004_opens_and_reads(
    server_factory: Callable[..., Server], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    _write_old_database(data_dir)
    srv = server_factory(data_dir).start()
    s3: Any = srv.client("s3")

    got = s3.get_object(Bucket="plain", Key="k")
    assert got["Body"].read() == b"hello" and got["Metadata"] == {"n": "5"}
    assert got["ContentType"] == "text/plain"
    assert s3.get_object_tagging(Bucket="plain", Key="k")["TagSet"] == [{"Key": "t", "Value": "v"}]

    def versions() -> list[tuple[str, str, bool]]:
        out = s3.list_object_versions(Bucket="ver")
        entries = out.get("Versions", []) + out.get("DeleteMarkers", [])
        ordered = sorted(entries, key=lambda v: (v["Key"], -v["LastModified"].timestamp()))
        return [(v["Key"], v["VersionId"], v["IsLatest"]) for v in ordered]

    assert versions() == [
        ("a", "v3", True),
        ("a", "v2", False),
        ("a", "v1", False),
        ("b", "mb", True),
        ("b", "vb", False),
    ]
    for vid, body in (("v1", b"a1"), ("v2", b"a22"), ("v3", b"a333")):
        assert s3.get_object(Bucket="ver", Key="a", VersionId=vid)["Body"].read() == body
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="ver")["Contents"]] == ["a"]
    pages = s3.get_paginator("list_object_versions").paginate(
        Bucket="ver", PaginationConfig={"PageSize": 2}
    )
    walked = [(v["Key"], v["VersionId"]) for p in pages for v in p.get("Versions", [])]
    assert walked == [("a", "v3"), ("a", "v2"), ("a", "v1"), ("b", "vb")]

    # Writes after the migration: a new version is the newest; removing it promotes the last one.
    new = s3.put_object(Bucket="ver", Key="a", Body=b"new")["VersionId"]
    assert versions()[:2] == [("a", new, True), ("a", "v3", False)]
    s3.delete_object(Bucket="ver", Key="a", VersionId=new)
    assert versions()[0] == ("a", "v3", True)
    assert s3.get_object(Bucket="ver", Key="a")["Body"].read() == b"a333"
    s3.delete_object(Bucket="ver", Key="b", VersionId="mb")
    assert s3.get_object(Bucket="ver", Key="b")["Body"].read() == b"b1"
    s3.put_object(Bucket="plain", Key="k", Body=b"again")
    s3.put_object(Bucket="plain", Key="k2", Body=b"two")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="plain")["Contents"]] == ["k", "k2"]
    assert s3.get_object(Bucket="plain", Key="k")["Body"].read() == b"again"
    srv.stop()

    # And once more after a restart, with the migrated schema in place.
    srv.start()
    s3 = srv.client("s3")
    assert versions()[0] == ("a", "v3", True)
    newer = s3.put_object(Bucket="ver", Key="a", Body=b"newer")["VersionId"]
    assert versions()[:2] == [("a", newer, True), ("a", "v3", False)]
