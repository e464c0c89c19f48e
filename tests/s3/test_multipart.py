"""Multipart uploads through boto3: ETags, part rules, copies, listings, part reads."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

MiB = 1024 * 1024


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def multipart_etag(parts: list[bytes]) -> str:
    digests = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(digests).hexdigest()}-{len(parts)}"'


def upload(s3: Any, bucket: str, key: str, parts: list[bytes], **create: Any) -> dict[str, Any]:
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)
    done = []
    for i, data in enumerate(parts, start=1):
        extra = (
            {"ChecksumAlgorithm": create["ChecksumAlgorithm"]}
            if "ChecksumAlgorithm" in create
            else {}
        )
        r = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=i, Body=data, **extra
        )
        entry = {"PartNumber": i, "ETag": r["ETag"]}
        for name, value in r.items():
            if name.startswith("Checksum") and name != "ChecksumType":
                entry[name] = value
        done.append(entry)
    out: dict[str, Any] = s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=up["UploadId"], MultipartUpload={"Parts": done}
    )
    return out


def test_complete_upload_etag_and_content(s3: Any, bucket: str) -> None:
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), b"tail"]
    out = upload(s3, bucket, "big", parts, ContentType="application/x-test", Metadata={"m": "1"})
    assert out["ETag"] == multipart_etag(parts)
    got = s3.get_object(Bucket=bucket, Key="big")
    assert got["Body"].read() == b"".join(parts)
    assert got["ContentType"] == "application/x-test" and got["Metadata"] == {"m": "1"}
    part2 = s3.get_object(Bucket=bucket, Key="big", PartNumber=2)
    assert part2["Body"].read() == parts[1]
    assert part2["PartsCount"] == 3
    assert part2["ContentRange"] == f"bytes {5 * MiB}-{10 * MiB - 1}/{10 * MiB + 4}"
    head = s3.head_object(Bucket=bucket, Key="big", PartNumber=3)
    assert head["ContentLength"] == 4
    attrs = s3.get_object_attributes(
        Bucket=bucket, Key="big", ObjectAttributes=["ObjectParts", "ObjectSize"]
    )
    assert attrs["ObjectParts"]["TotalPartsCount"] == 3 and attrs["ObjectSize"] == 10 * MiB + 4


def test_composite_and_full_object_checksums(s3: Any, bucket: str) -> None:
    parts = [os.urandom(5 * MiB), b"end"]
    out = upload(s3, bucket, "sha", parts, ChecksumAlgorithm="SHA256")
    assert out["ChecksumSHA256"].endswith("-2") and out["ChecksumType"] == "COMPOSITE"
    head = s3.head_object(Bucket=bucket, Key="sha", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == out["ChecksumSHA256"]
    out = upload(s3, bucket, "crc", parts, ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
    assert out["ChecksumType"] == "FULL_OBJECT"
    # A full-object CRC equals the CRC of the whole body, so botocore validates it on GET.
    got = s3.get_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED")
    assert got["Body"].read() == b"".join(parts)
    assert got["ChecksumCRC32"] == out["ChecksumCRC32"]


def test_entity_too_small(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        upload(s3, bucket, "small", [b"a" * 1024, b"b"])
    assert code(exc) == "EntityTooSmall"


def test_invalid_part_and_order(s3: Any, bucket: str) -> None:
    up = s3.create_multipart_upload(Bucket=bucket, Key="k")
    uid = up["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"x" * (5 * MiB))[
        "ETag"
    ]
    e2 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=2, Body=b"y")["ETag"]
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]},
        )  # fmt: skip
    assert code(exc) == "InvalidPartOrder"
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 3, "ETag": e2}]},
        )  # fmt: skip
    assert code(exc) == "InvalidPart"
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]},
        )  # fmt: skip
    assert code(exc) == "InvalidPart"
    parts = s3.list_parts(Bucket=bucket, Key="k", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 5 * MiB), (2, 1)]
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=uid)
    with pytest.raises(ClientError) as exc:
        s3.list_parts(Bucket=bucket, Key="k", UploadId=uid)
    assert code(exc) == "NoSuchUpload"
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"x")
    assert code(exc) == "NoSuchUpload"


def test_list_multipart_uploads(s3: Any, bucket: str) -> None:
    ids = [
        s3.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"] for k in ("x/1", "x/2", "y")
    ]
    out = s3.list_multipart_uploads(Bucket=bucket)
    assert sorted(u["UploadId"] for u in out["Uploads"]) == sorted(ids)
    out = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["x/"]
    assert [u["Key"] for u in out["Uploads"]] == ["y"]
    out = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=1)
    assert out["IsTruncated"] and len(out["Uploads"]) == 1


def test_upload_part_copy(s3: Any, bucket: str) -> None:
    source = os.urandom(6 * MiB)
    s3.put_object(Bucket=bucket, Key="src", Body=source)
    up = s3.create_multipart_upload(Bucket=bucket, Key="dst")
    uid = up["UploadId"]
    p1 = s3.upload_part_copy(
        Bucket=bucket, Key="dst", UploadId=uid, PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange=f"bytes=0-{5 * MiB - 1}",
    )  # fmt: skip
    p2 = s3.upload_part_copy(
        Bucket=bucket, Key="dst", UploadId=uid, PartNumber=2,
        CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange=f"bytes={5 * MiB}-{6 * MiB - 1}",
    )  # fmt: skip
    s3.complete_multipart_upload(
        Bucket=bucket, Key="dst", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]},
                                   {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]}]},
    )  # fmt: skip
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == source


def test_upload_file_download_file_round_trip(s3: Any, bucket: str, tmp_path: Any) -> None:
    from boto3.s3.transfer import TransferConfig

    data = os.urandom(20 * MiB + 17)
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    cfg = TransferConfig(
        multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=4
    )
    s3.upload_file(str(src), bucket, "file.bin", Config=cfg)
    assert s3.head_object(Bucket=bucket, Key="file.bin")["ETag"].endswith('-5"')
    dst = tmp_path / "out.bin"
    s3.download_file(bucket, "file.bin", str(dst), Config=cfg)
    assert hashlib.md5(dst.read_bytes()).digest() == hashlib.md5(data).digest()
