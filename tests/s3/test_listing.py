"""Listings through boto3: byte order, prefixes and delimiters, paging in all three styles."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

import pytest

KEYS = ["a/1", "a/2", "a/b/3", "b", "c/x", "c/y", "d", "é", "z", "~", "ÿ", "\u4e2d"]


@pytest.fixture
def filled(s3: Any, bucket: str) -> str:
    for k in KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    return bucket


def utf8_sorted(keys: list[str]) -> list[str]:
    return sorted(keys, key=lambda k: k.encode())


def test_order_is_utf8_bytes(s3: Any, filled: str) -> None:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=filled)["Contents"]]
    assert keys == utf8_sorted(KEYS)


def test_prefix_and_delimiter(s3: Any, filled: str) -> None:
    out = s3.list_objects_v2(Bucket=filled, Delimiter="/")
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["a/", "c/"]
    assert [o["Key"] for o in out["Contents"]] == utf8_sorted(
        ["b", "d", "é", "z", "~", "ÿ", "\u4e2d"]
    )
    assert out["KeyCount"] == 9
    out = s3.list_objects_v2(Bucket=filled, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in out["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["a/b/"]
    out = s3.list_objects(Bucket=filled, Prefix="c/")
    assert [o["Key"] for o in out["Contents"]] == ["c/x", "c/y"]


@pytest.mark.parametrize("page_size", [1, 2, 3, 5])
def test_v2_paging_with_delimiter(s3: Any, filled: str, page_size: int) -> None:
    seen: list[str] = []
    token = None
    while True:
        kwargs = {"ContinuationToken": token} if token else {}
        out = s3.list_objects_v2(Bucket=filled, Delimiter="/", MaxKeys=page_size, **kwargs)
        page = [o["Key"] for o in out.get("Contents", [])] + [
            p["Prefix"] for p in out.get("CommonPrefixes", [])
        ]
        assert len(page) <= page_size
        seen += page
        if not out["IsTruncated"]:
            break
        token = out["NextContinuationToken"]
    expected = ["a/", "b", "c/", "d", "z", "~", "é", "ÿ", "\u4e2d"]
    assert sorted(seen, key=lambda k: k.encode()) == expected
    assert len(seen) == len(expected)


def test_v1_marker_paging(s3: Any, filled: str) -> None:
    pages = list(
        s3.get_paginator("list_objects").paginate(Bucket=filled, PaginationConfig={"PageSize": 4})
    )
    keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
    assert keys == utf8_sorted(KEYS)
    out = s3.list_objects(Bucket=filled, Marker="c/x")
    assert out["Contents"][0]["Key"] == "c/y"
    out = s3.list_objects(Bucket=filled, Delimiter="/", MaxKeys=1)
    assert out["IsTruncated"] and out["NextMarker"] == "a/"
    out = s3.list_objects(Bucket=filled, Delimiter="/", MaxKeys=1, Marker="a/")
    assert [o["Key"] for o in out["Contents"]] == ["b"]


def test_start_after(s3: Any, filled: str) -> None:
    out = s3.list_objects_v2(Bucket=filled, StartAfter="c")
    assert next(o["Key"] for o in out["Contents"]) == "c/x"


def test_encoding_type_url_round_trips(s3: Any, bucket: str) -> None:
    keys = ["sp ace", "plus+sign", "amp&er", "pct%25", "nl\nline", "\u0001ctl"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    # boto3 asks for EncodingType=url and decodes the answer itself.
    got = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert got == utf8_sorted(keys)
    # Asked for explicitly, the encoded form comes back as sent (no control characters in XML).
    raw = s3.list_objects_v2(Bucket=bucket, EncodingType="url")
    encoded = [o["Key"] for o in raw["Contents"]]
    assert "sp+ace" in encoded and "%01ctl" in encoded
    assert [unquote_plus(k) for k in encoded] == utf8_sorted(keys)


def test_list_object_versions_paging(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    ids = {}
    for k in ("k1", "k2"):
        ids[k] = [
            s3.put_object(Bucket=bucket, Key=k, Body=str(i).encode())["VersionId"] for i in range(3)
        ]
    s3.delete_object(Bucket=bucket, Key="k1")
    all_versions = []
    markers = []
    for page in s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 2}
    ):
        all_versions += [
            (v["Key"], v["VersionId"], v["IsLatest"]) for v in page.get("Versions", [])
        ]
        markers += page.get("DeleteMarkers", [])
    assert [v[:2] for v in all_versions] == [("k1", i) for i in reversed(ids["k1"])] + [
        ("k2", i) for i in reversed(ids["k2"])
    ]
    assert len(markers) == 1 and markers[0]["IsLatest"] and markers[0]["Key"] == "k1"
    assert [v for v in all_versions if v[2]] == [("k2", ids["k2"][-1], True)]
