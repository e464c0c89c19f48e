"""Checksums as current SDKs send them: verified, stored, returned with ChecksumMode=ENABLED;
Content-MD5 checked; wrong values rejected with BadDigest."""

from __future__ import annotations

import base64
import hashlib
import random
import urllib.request
import zlib
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from overcast.services.s3.ingest import PARALLEL
from overcast.services.s3.objects import INLINE_MAX

BODY = b"The quick brown fox jumps over the lazy dog" * 1000


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"])
def test_checksum_stored_and_returned(s3: Any, bucket: str, algorithm: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="c", Body=BODY, ChecksumAlgorithm=algorithm)
    value = put[f"Checksum{algorithm}"]
    got = s3.get_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert got["Body"].read() == BODY
    assert got[f"Checksum{algorithm}"] == value and got["ChecksumType"] == "FULL_OBJECT"
    head = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == value


def test_known_values(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="c", Body=BODY, ChecksumAlgorithm="SHA256")
    assert put["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    put = s3.put_object(Bucket=bucket, Key="c", Body=BODY, ChecksumAlgorithm="CRC32")
    assert put["ChecksumCRC32"] == base64.b64encode(zlib.crc32(BODY).to_bytes(4, "big")).decode()


def test_default_crc64nvme_when_none_sent(s3: Any, bucket: str, server: Any) -> None:
    req = urllib.request.Request(f"{server.url}/{bucket}/plain", data=b"abc", method="PUT")
    with urllib.request.urlopen(req) as resp:
        assert resp.headers["x-amz-checksum-crc64nvme"]


def _raw_put(url: str, headers: dict[str, str], body: bytes = b"hello") -> tuple[int, str]:
    req = urllib.request.Request(url, data=body, method="PUT", headers=headers)
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("x-amz-checksum-crc32", base64.b64encode(b"\x00\x00\x00\x01").decode()),
        ("x-amz-checksum-sha256", base64.b64encode(b"\x00" * 32).decode()),
        ("Content-MD5", base64.b64encode(b"\x00" * 16).decode()),
    ],
)
def test_wrong_digest_is_bad_digest(server: Any, bucket: str, header: str, value: str) -> None:
    status, body = _raw_put(f"{server.url}/{bucket}/k", {header: value})
    assert status == 400 and "<Code>BadDigest</Code>" in body


def test_content_md5_checked(s3: Any, bucket: str, server: Any) -> None:
    good = base64.b64encode(hashlib.md5(b"hello").digest()).decode()
    assert _raw_put(f"{server.url}/{bucket}/k", {"Content-MD5": good})[0] == 200
    status, body = _raw_put(f"{server.url}/{bucket}/k", {"Content-MD5": "not-base64!"})
    assert status == 400 and "<Code>InvalidDigest</Code>" in body


def test_bad_checksum_leaves_nothing(s3: Any, bucket: str, server: Any) -> None:
    bad = base64.b64encode(b"\x00\x00\x00\x01").decode()
    _raw_put(f"{server.url}/{bucket}/never", {"x-amz-checksum-crc32": bad})
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="never")


def _blob_files(data_dir: Path) -> set[Path]:
    return {p for p in (data_dir / "blobs" / "s3").rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "size",
    [1000, INLINE_MAX + 1, PARALLEL + 1],
    ids=["inline", "blob", "blob-hashed-while-written"],
)
@pytest.mark.parametrize("header", ["x-amz-checksum-crc32", "Content-MD5"])
def test_bad_digest_leaves_no_file(
    server: Any, s3: Any, bucket: str, size: int, header: str
) -> None:
    body = random.Random(size).randbytes(size)
    wrong = {"x-amz-checksum-crc32": b"\x00\x00\x00\x01", "Content-MD5": b"\x00" * 16}[header]
    before = _blob_files(server.data_dir)
    status, text = _raw_put(
        f"{server.url}/{bucket}/k", {header: base64.b64encode(wrong).decode()}, body
    )
    assert status == 400 and "<Code>BadDigest</Code>" in text
    assert _blob_files(server.data_dir) - before == set()
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="k")
    # The same body with its right digest is stored whole.
    right = {"x-amz-checksum-crc32": zlib.crc32(body).to_bytes(4, "big"),
             "Content-MD5": hashlib.md5(body).digest()}[header]  # fmt: skip
    status, _ = _raw_put(
        f"{server.url}/{bucket}/k", {header: base64.b64encode(right).decode()}, body
    )
    assert status == 200
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == body
