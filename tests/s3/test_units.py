"""Table-driven unit tests of the pure pieces: ranges, ETag lists, bucket names, checksums,
key-range bounds, copy sources and CORS rule matching."""

from __future__ import annotations

import base64
import zlib
from typing import Any

import pytest

from overcast.core.errors import ServiceError
from overcast.services.s3 import checksums
from overcast.services.s3.conditions import etag_matches, parse_range
from overcast.services.s3.copying import parse_copy_source
from overcast.services.s3.cors import match_rule
from overcast.services.s3.names import bucket_name_problem
from overcast.services.s3.repo import prefix_end


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 10, None),
        ("bytes=0-0", 10, (0, 0)),
        ("bytes=2-5", 10, (2, 5)),
        ("bytes=2-", 10, (2, 9)),
        ("bytes=-4", 10, (6, 9)),
        ("bytes=-40", 10, (0, 9)),
        ("bytes=5-100", 10, (5, 9)),
        ("bytes=5-2", 10, None),  # invalid: ignored, whole object
        ("bytes=0-1,3-4", 10, None),  # several ranges: ignored
        ("items=0-1", 10, None),
    ],
)
def test_parse_range(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=-0", 10), ("bytes=0-", 0)])
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(ServiceError) as exc:
        parse_range(header, size)
    assert exc.value.code == "InvalidRange" and exc.value.status == 416


@pytest.mark.parametrize(
    ("header", "etag", "expected"),
    [
        ('"abc"', '"abc"', True),
        ("abc", '"abc"', True),
        ('"x", "abc"', '"abc"', True),
        ("*", '"abc"', True),
        ('W/"abc"', '"abc"', True),
        ('"abd"', '"abc"', False),
    ],
)
def test_etag_matches(header: str, etag: str, expected: bool) -> None:
    assert etag_matches(header, etag) is expected


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("abc", True), ("my.bucket-1", True), ("a" * 63, True), ("ab", False), ("a" * 64, False),
        ("ABC", False), ("a_b", False), ("-ab", False), ("ab-", False), ("a..b", False),
        ("10.0.0.1", False), ("xn--abc", False), ("abc-s3alias", False), ("abc--x-s3", False),
        ("amzn-s3-demo-x", False), ("abc.mrap", False),
    ],
)  # fmt: skip
def test_bucket_names(name: str, valid: bool) -> None:
    assert (bucket_name_problem(name) is None) is valid


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME"])
def test_combined_crc_equals_crc_of_whole(algorithm: str) -> None:
    parts = [b"a" * 1000, b"bcdef" * 333, b"", b"tail"]
    combined = checksums.combine_full(
        algorithm, [(checksums.compute(algorithm, p), len(p)) for p in parts]
    )
    assert combined == checksums.compute(algorithm, b"".join(parts))


def test_crc32_matches_zlib_and_composite_suffix() -> None:
    assert (
        checksums.compute("CRC32", b"hello")
        == base64.b64encode(zlib.crc32(b"hello").to_bytes(4, "big")).decode()
    )
    value = checksums.composite(
        "SHA256", [checksums.compute("SHA256", b"a"), checksums.compute("SHA256", b"b")]
    )
    assert value.endswith("-2")


@pytest.mark.parametrize(
    ("params", "headers", "expected"),
    [
        ({}, {}, None),
        ({"ChecksumCRC32": "AAAAAA=="}, {}, ("CRC32", "AAAAAA==")),
        ({}, {"x-amz-checksum-sha256": "x"}, ("SHA256", "x")),
        ({"ChecksumAlgorithm": "crc32c"}, {}, ("CRC32C", None)),
    ],
)
def test_declared(
    params: dict[str, Any], headers: dict[str, str], expected: tuple[str, str | None] | None
) -> None:
    decl = checksums.declared(params, headers)
    assert (None if decl is None else (decl.algorithm, decl.value)) == expected


@pytest.mark.parametrize(
    ("algorithm", "value", "code"),
    [
        ("CRC32", "AAAAAA==", "BadDigest"),
        ("CRC32", "not base64", "InvalidRequest"),
        ("SHA1", "AAAA", "InvalidRequest"),
    ],
)
def test_verify_rejects(algorithm: str, value: str, code: str) -> None:
    with pytest.raises(ServiceError) as exc:
        checksums.verify(checksums.Declared(algorithm, value), b"data")
    assert exc.value.code == code


@pytest.mark.parametrize(
    ("prefix", "end"),
    [
        ("a/", "a0"),
        ("abc", "abd"),
        ("", None),
        ("\U0010ffff", None),
        ("a\U0010ffff", "b"),
        ("\ud7ff", "\ue000"),
    ],
)
def test_prefix_end(prefix: str, end: str | None) -> None:
    assert prefix_end(prefix) == end


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("bkt/key", ("bkt", "key", None)),
        ("/bkt/a/b%20c", ("bkt", "a/b c", None)),
        ("bkt/k%3Fq?versionId=v1", ("bkt", "k?q", "v1")),
        ("bkt/..%2F..%2Fx", ("bkt", "../../x", None)),
    ],
)
def test_parse_copy_source(value: str, expected: tuple[str, str, str | None]) -> None:
    assert parse_copy_source(value) == expected


RULES = [
    {
        "AllowedOrigins": ["https://*.example.com"],
        "AllowedMethods": ["GET"],
        "AllowedHeaders": ["x-amz-*"],
    },
    {"AllowedOrigins": ["*"], "AllowedMethods": ["PUT"]},
]


@pytest.mark.parametrize(
    ("origin", "method", "headers", "rule"),
    [
        ("https://a.example.com", "GET", [], 0),
        ("https://a.example.com", "GET", ["X-Amz-Date"], 0),
        ("https://a.example.com", "GET", ["content-type"], None),
        ("https://example.org", "GET", [], None),
        ("https://example.org", "PUT", [], 1),
        ("https://example.org", "PUT", ["x-amz-date"], None),
    ],
)
def test_cors_rule_matching(origin: str, method: str, headers: list[str], rule: int | None) -> None:
    found = match_rule(RULES, origin, method, headers)
    assert (None if found is None else RULES.index(found.rule)) == rule
