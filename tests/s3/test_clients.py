"""The paths real clients use: presigned URLs from curl, virtual-host addressing, the aws CLI."""

from __future__ import annotations

import hashlib
import http.client
import os
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from botocore.config import Config

MiB = 1024 * 1024


def curl(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["curl", "-s", "-S", *args], capture_output=True, timeout=60, check=False)


@pytest.mark.parametrize("signature", ["s3v4", "s3"])
def test_presigned_get_and_put_with_curl(client: Any, bucket: str, signature: str) -> None:
    s3 = client("s3", config=Config(signature_version=signature, retries={"max_attempts": 1}))
    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "p"}, ExpiresIn=300
    )
    out = curl("-X", "PUT", "--data-binary", "presigned body", "-w", "%{http_code}", put_url)
    assert out.stdout.endswith(b"200"), out
    get_url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "p"}, ExpiresIn=300
    )
    assert curl(get_url).stdout == b"presigned body"


def test_virtual_host_style(server: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="vh/key.txt", Body=b"virtual")
    u = urlparse(server.url)
    for host in (f"{bucket}.s3.localhost:{u.port}", f"{bucket}.localhost:{u.port}"):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        conn.request("GET", "/vh/key.txt", headers={"Host": host})
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, b"virtual"), host


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(MiB):
            h.update(chunk)
    return h.hexdigest()


@pytest.mark.slow
def test_aws_cli_cp_and_sync_100mb(aws: Any, bucket: str, tmp_path: Path) -> None:
    src = tmp_path / "up" / "big.bin"
    src.parent.mkdir()
    with open(src, "wb") as f:
        for _ in range(100):
            f.write(os.urandom(MiB))
    aws("s3", "cp", str(src), f"s3://{bucket}/cp/big.bin")
    down = tmp_path / "down.bin"
    aws("s3", "cp", f"s3://{bucket}/cp/big.bin", str(down))
    assert _md5(down) == _md5(src)
    aws("s3", "sync", str(src.parent), f"s3://{bucket}/sync/")
    synced = tmp_path / "synced"
    aws("s3", "sync", f"s3://{bucket}/sync/", str(synced))
    assert _md5(synced / "big.bin") == _md5(src)
    listing = aws("s3", "ls", f"s3://{bucket}/sync/").stdout
    assert "big.bin" in listing


@pytest.mark.slow
def test_boto3_transfer_100mb(s3: Any, bucket: str, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    with open(src, "wb") as f:
        for _ in range(100):
            f.write(os.urandom(MiB))
    s3.upload_file(str(src), bucket, "big.bin")
    dst = tmp_path / "back.bin"
    s3.download_file(bucket, "big.bin", str(dst))
    assert _md5(dst) == _md5(src)
