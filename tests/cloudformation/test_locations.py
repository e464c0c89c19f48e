"""Template/code locations as clients send them, and how `overcast deploy` packages code."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from overcast.cli.deploy import Packager, zip_path
from overcast.services.cloudformation.errors import CfnValidationError
from overcast.services.cloudformation.s3urls import parse_s3_url

URLS = [
    ("http://127.0.0.1:4566/bucket/key/t.yaml", ("bucket", "key/t.yaml")),
    ("http://localhost:4566/bucket/t.json", ("bucket", "t.json")),
    ("https://s3.amazonaws.com/bucket/dir/t.yaml", ("bucket", "dir/t.yaml")),
    ("https://s3.us-west-2.amazonaws.com/bucket/t.yaml", ("bucket", "t.yaml")),
    ("https://s3-eu-west-1.amazonaws.com/bucket/t.yaml", ("bucket", "t.yaml")),
    ("https://bucket.s3.amazonaws.com/t.yaml", ("bucket", "t.yaml")),
    ("https://my.bucket.s3.eu-west-1.amazonaws.com/a/b", ("my.bucket", "a/b")),
    ("http://bucket.s3.localhost:4566/t.yaml", ("bucket", "t.yaml")),
    ("http://bucket.localhost:4566/t.yaml", ("bucket", "t.yaml")),
    ("s3://bucket/key.zip", ("bucket", "key.zip")),
    ("https://s3.amazonaws.com/bucket/with%20space.yaml", ("bucket", "with space.yaml")),
]


@pytest.mark.parametrize(("url", "expected"), URLS, ids=[u[0] for u in URLS])
def test_s3_url_forms(url: str, expected: tuple[str, str]) -> None:
    assert parse_s3_url(url) == expected


@pytest.mark.parametrize("url", ["ftp://x/y", "https://s3.amazonaws.com/bucket-only", "nope"])
def test_bad_urls(url: str) -> None:
    with pytest.raises(CfnValidationError):
        parse_s3_url(url)


def test_zip_is_stable_and_complete(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "app.py").write_text("x = 1\n")
    (tmp_path / "pkg" / "mod.py").write_text("y = 2\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"junk")
    first = zip_path(tmp_path)
    assert zip_path(tmp_path) == first
    names = zipfile.ZipFile(io.BytesIO(first)).namelist()
    assert names == ["app.py", "pkg/mod.py"]


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

        class Meta:
            endpoint_url = "http://127.0.0.1:4566"
            region_name = "us-east-1"

        self.meta = Meta()

    def head_object(self, Bucket: str, Key: str) -> None:
        if (Bucket, Key) not in self.objects:
            raise KeyError(Key)

    def put_object(self, Bucket: str, Key: str, Body: bytes) -> None:
        self.objects[(Bucket, Key)] = Body


def test_packager_rewrites_local_paths(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(e, c): return 1\n")
    (tmp_path / "api.yaml").write_text("openapi: 3.0.1\n")
    template: dict[str, Any] = {
        "Resources": {
            "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "src/"}},
            "Raw": {"Type": "AWS::Lambda::Function", "Properties": {"Code": "src"}},
            "Api": {"Type": "AWS::Serverless::Api", "Properties": {"DefinitionUri": "api.yaml"}},
            "Remote": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"CodeUri": "s3://elsewhere/code.zip"},
            },
        }
    }
    s3 = FakeS3()
    out = Packager(s3, "bkt", tmp_path).package(template)
    res = out["Resources"]
    assert res["Fn"]["Properties"]["CodeUri"].startswith("s3://bkt/")
    assert res["Raw"]["Properties"]["Code"]["S3Bucket"] == "bkt"
    assert res["Api"]["Properties"]["DefinitionUri"].endswith(".yaml")
    assert res["Remote"]["Properties"]["CodeUri"] == "s3://elsewhere/code.zip"
    # the same folder gives the same key: code that did not change is not uploaded again
    key = res["Fn"]["Properties"]["CodeUri"].split("/", 3)[3]
    assert res["Raw"]["Properties"]["Code"]["S3Key"] == key
    assert len(s3.objects) == 2
