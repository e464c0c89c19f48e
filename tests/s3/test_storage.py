"""An object behaves the same wherever its bytes live: inline in its row (up to INLINE_MAX), in a
blob file, or in a blob file written while its digests were computed (from ingest.PARALLEL on).
Reads, ranges, copies, versions, overwrites across the two kinds and deletes."""

from __future__ import annotations

import base64
import hashlib
import random
import zlib
from typing import Any

import pytest
from botocore.exceptions import ClientError

from overcast.services.s3.ingest import PARALLEL
from overcast.services.s3.objects import INLINE_MAX

SIZES = {
    "inline": INLINE_MAX,
    "blob": INLINE_MAX + 1,
    "blob-hashed-while-written": PARALLEL + 7,
}


def body_of(size: int, seed: int = 0) -> bytes:
    return random.Random(size * 31 + seed).randbytes(size)


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_read_paths(s3: Any, bucket: str, size: int) -> None:
    body = body_of(size)
    put = s3.put_object(Bucket=bucket, Key="k", Body=body, ChecksumAlgorithm="CRC32")
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert put["ChecksumCRC32"] == crc
    assert "VersionId" not in put  # never-versioned bucket
    got = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert got["Body"].read() == body and got["ChecksumCRC32"] == crc
    assert got["ContentLength"] == size
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["ContentLength"] == size and head["ETag"] == put["ETag"]
    part = s3.get_object(Bucket=bucket, Key="k", Range=f"bytes={size - 10}-")
    assert part["Body"].read() == body[-10:]
    assert part["ContentRange"] == f"bytes {size - 10}-{size - 1}/{size}"
    middle = s3.get_object(Bucket=bucket, Key="k", Range="bytes=3-9")["Body"].read()
    assert middle == body[3:10]
    whole = s3.get_object(Bucket=bucket, Key="k", PartNumber=1)
    assert whole["Body"].read() == body


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_copy_versions_and_delete(s3: Any, bucket: str, size: int) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first, second = body_of(size, 1), body_of(size, 2)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=first)["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=second)["VersionId"]
    assert v1 != v2
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "k"})
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == second
    old = s3.get_object(Bucket=bucket, Key="k", VersionId=v1)
    assert old["Body"].read() == first
    listed = s3.list_object_versions(Bucket=bucket, Prefix="k")["Versions"]
    assert [(v["Key"], v["VersionId"], v["Size"]) for v in listed] == [
        ("k", v2, size),
        ("k", v1, size),
    ]
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == first
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v1)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="k")
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == second


def test_overwrites_across_kinds(s3: Any, bucket: str) -> None:
    """Each overwrite replaces the one version of a key, whichever kind either of them is."""
    for i, size in enumerate([10, PARALLEL + 1, INLINE_MAX, INLINE_MAX + 1, 0, PARALLEL + 1]):
        body = body_of(size, i)
        s3.put_object(Bucket=bucket, Key="k", Body=body)
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == body
        versions = s3.list_object_versions(Bucket=bucket)["Versions"]
        assert [(v["VersionId"], v["Size"]) for v in versions] == [("null", size)]
