"""Uploads larger than 8 MiB: the edge spools them to disk as they arrive, digests them on the way
and S3 moves the file into place. Every path a client can take must give the same answers as a
small upload: byte-exact objects, the ETag and checksums S3 computes, the digest errors, and no
file left behind when an upload is refused or abandoned."""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import socket
import time
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

MiB = 1024 * 1024


def _leftovers(server: Any) -> list[Path]:
    """Files in the spool folder and S3's temporary blob folder."""
    found: list[Path] = []
    for folder in (server.data_dir / ".spool", server.data_dir / "blobs" / "s3" / ".tmp"):
        if folder.exists():
            found += list(folder.iterdir())
    return found


def _no_leftovers(server: Any) -> None:
    deadline = time.monotonic() + 5
    while _leftovers(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _leftovers(server) == []


def _signed(url: str, body: bytes, headers: dict[str, str] | None = None) -> dict[str, str]:
    req = AWSRequest(method="PUT", url=url, data=body, headers=dict(headers or {}))
    req.headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
    S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(req)
    return dict(req.headers.items())


def _put(server: Any, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    u = urlparse(server.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    conn.request("PUT", path, body=body, headers=headers)
    resp = conn.getresponse()
    out = (resp.status, resp.read())
    conn.close()
    return out


def test_large_put_round_trips_with_etag_and_checksum(server: Any, s3: Any, bucket: str) -> None:
    body = os.urandom(20 * MiB + 123)
    out = s3.put_object(Bucket=bucket, Key="big", Body=body, ChecksumAlgorithm="CRC32")
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    assert out["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert out["ChecksumCRC32"] == crc
    got = s3.get_object(Bucket=bucket, Key="big", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got["ChecksumCRC32"] == crc and got["ContentLength"] == len(body)
    # With no checksum named, S3's default (CRC64NVME) is computed on the way in.
    s3.put_object(Bucket=bucket, Key="plain", Body=body, ChecksumAlgorithm="CRC64NVME")
    head = s3.head_object(Bucket=bucket, Key="plain", ChecksumMode="ENABLED")
    assert head["ChecksumCRC64NVME"] and head["ContentLength"] == len(body)
    _no_leftovers(server)


def test_large_put_overwrites_atomically(server: Any, s3: Any, bucket: str) -> None:
    first, second = os.urandom(9 * MiB), os.urandom(10 * MiB)
    s3.put_object(Bucket=bucket, Key="k", Body=first)
    s3.put_object(Bucket=bucket, Key="k", Body=second)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == second
    _no_leftovers(server)


@pytest.mark.parametrize(
    "headers, code",
    [
        ({"x-amz-checksum-sha256": base64.b64encode(b"\x01" * 32).decode()}, "BadDigest"),
        ({"Content-MD5": base64.b64encode(b"\x02" * 16).decode()}, "BadDigest"),
        ({"Content-MD5": "not-base64"}, "InvalidDigest"),
    ],
)
def test_large_put_with_a_wrong_digest_stores_nothing(
    server: Any, s3: Any, bucket: str, headers: dict[str, str], code: str
) -> None:
    body = os.urandom(9 * MiB)
    url = f"{server.url}/{bucket}/bad"
    status, answer = _put(server, f"/{bucket}/bad", body, _signed(url, body, headers))
    assert status == 400 and f"<Code>{code}</Code>".encode() in answer, answer
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=bucket, Key="bad")
    _no_leftovers(server)


def test_large_put_whose_body_differs_from_its_signed_hash_is_refused(
    server: Any, s3: Any, bucket: str
) -> None:
    signed_for = os.urandom(9 * MiB)
    sent = signed_for[:-1] + bytes([signed_for[-1] ^ 1])
    headers = _signed(f"{server.url}/{bucket}/k", signed_for)
    status, answer = _put(server, f"/{bucket}/k", sent, headers)
    assert status == 400 and b"XAmzContentSHA256Mismatch" in answer, answer
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=bucket, Key="k")
    _no_leftovers(server)


def test_presigned_large_put_from_a_plain_http_client(server: Any, s3: Any, bucket: str) -> None:
    body = os.urandom(12 * MiB)
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pre"})
    u = urlparse(url)
    status, _ = _put(server, f"{u.path}?{u.query}", body, {"Content-Length": str(len(body))})
    assert status == 200
    assert s3.get_object(Bucket=bucket, Key="pre")["Body"].read() == body
    _no_leftovers(server)


def test_virtual_host_large_put(server: Any, s3: Any, bucket: str) -> None:
    body = os.urandom(9 * MiB + 7)
    port = urlparse(server.url).port
    host = f"{bucket}.s3.localhost:{port}"
    headers = _signed(f"http://{host}/vh", body)
    headers["Host"] = host
    status, answer = _put(server, "/vh", body, headers)
    assert status == 200, answer
    assert s3.get_object(Bucket=bucket, Key="vh")["Body"].read() == body
    _no_leftovers(server)


def test_large_upload_part(server: Any, s3: Any, bucket: str) -> None:
    parts = [os.urandom(10 * MiB), os.urandom(3 * MiB)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="CRC32")
    done = []
    for n, data in enumerate(parts, 1):
        out = s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=n, Body=data,
            ChecksumAlgorithm="CRC32",
        )  # fmt: skip
        assert out["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
        done.append({"PartNumber": n, "ETag": out["ETag"], "ChecksumCRC32": out["ChecksumCRC32"]})
    s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=up["UploadId"], MultipartUpload={"Parts": done}
    )
    md5s = b"".join(hashlib.md5(p).digest() for p in parts)
    got = s3.get_object(Bucket=bucket, Key="mp")
    assert got["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-2"'
    assert got["Body"].read() == b"".join(parts)
    _no_leftovers(server)


def test_abandoned_large_upload_leaves_nothing(server: Any, s3: Any, bucket: str) -> None:
    body = os.urandom(16 * MiB)
    headers = _signed(f"{server.url}/{bucket}/gone", body)
    u = urlparse(server.url)
    sock = socket.create_connection((u.hostname, u.port))
    head = f"PUT /{bucket}/gone HTTP/1.1\r\nHost: {headers.pop('Host', u.netloc)}\r\n"
    head += f"Content-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() != "host")
    sock.sendall(head.encode() + b"\r\n" + body[: 10 * MiB])
    time.sleep(0.3)
    sock.close()
    _no_leftovers(server)
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=bucket, Key="gone")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_spool_folder_is_emptied_at_start(server_factory: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / ".spool").mkdir(parents=True)
    (data / ".spool" / "0123abcd").write_bytes(b"half an upload")
    srv = server_factory(data).start()
    assert list((data / ".spool").iterdir()) == []
    assert srv.client("s3").list_buckets()["Buckets"] == []


@pytest.mark.parametrize("known_key", [False, True])
def test_large_put_to_another_service_reaches_it_whole(
    server: Any, client: Any, known_key: bool
) -> None:
    """A PUT over 8 MiB that is not an S3 upload (here Lambda's UpdateFunctionCode, a JSON body
    with the zip in base64) is read back into memory for its service, byte for byte. With a key
    Overcast issued, its signature (which covers the body's hash) is checked too."""
    import io
    import zipfile

    from tests.lambda_.helpers import create

    if known_key:
        creds = client("sts").assume_role(
            RoleArn="arn:aws:iam::000000000000:role/big-put", RoleSessionName="big-put"
        )["Credentials"]
        lam = client(
            "lambda", aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"],
        )  # fmt: skip
    else:
        lam = client("lambda")
    name = create(lam, {"app.py": "def handler(event, context):\n    return 1\n"})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return 2\n")
        zf.writestr("blob.bin", os.urandom(7 * MiB))
    code = buf.getvalue()
    out = lam.update_function_code(FunctionName=name, ZipFile=code)
    assert out["CodeSize"] == len(code)
    assert out["CodeSha256"] == base64.b64encode(hashlib.sha256(code).digest()).decode()
    _no_leftovers(server)


# -- aws-chunked (what boto3 over https and the JS SDK v3 send for streams) ---------------------


def _captured_chunked_put(server: Any, bucket: str, key: str, body: bytes) -> Any:
    """A PutObject as boto3 sends it over https (aws-chunked, unsigned chunks, CRC32 trailer),
    captured to be sent over plain HTTP."""
    import io

    import boto3
    from botocore.config import Config

    from tests.edge.wire import Captured, to_http

    s3 = boto3.client(
        "s3", endpoint_url=server.url.replace("http://", "https://"), region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )  # fmt: skip

    def stop(request: Any, **_: Any) -> None:
        raise Captured(request)

    s3.meta.events.register("before-send", stop)
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=io.BytesIO(body), ChecksumAlgorithm="CRC32")
    except Captured as c:
        req = to_http(c.request)
    assert req.headers["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    return req


def _send_captured(server: Any, req: Any, *, chunked: bool) -> tuple[int, bytes]:
    """Send with a Content-Length, or in HTTP chunked transfer encoding as the JS SDK does."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.putrequest(req.method, req.path, skip_host=True, skip_accept_encoding=True)
    for name, value in req.header_list:
        if name not in ("transfer-encoding", "content-length", "expect", "host"):
            conn.putheader(name, value)
    conn.putheader("host", f"127.0.0.1:{server.port}")
    if chunked:
        conn.putheader("transfer-encoding", "chunked")
        conn.endheaders()
        for i in range(0, len(req.body), 300_000):
            piece = req.body[i : i + 300_000]
            conn.send(b"%x\r\n" % len(piece) + piece + b"\r\n")
        conn.send(b"0\r\n\r\n")
    else:
        conn.putheader("content-length", str(len(req.body)))
        conn.endheaders(req.body)
    resp = conn.getresponse()
    out = (resp.status, resp.read())
    conn.close()
    return out


@pytest.mark.parametrize("chunked", [False, True])
def test_large_aws_chunked_put_is_decoded_on_the_way_in(
    server: Any, s3: Any, bucket: str, chunked: bool
) -> None:
    body = os.urandom(12 * MiB + 5)
    req = _captured_chunked_put(server, bucket, "chunked", body)
    status, answer = _send_captured(server, req, chunked=chunked)
    assert status == 200, answer
    got = s3.get_object(Bucket=bucket, Key="chunked", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert got["ChecksumCRC32"] == base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    assert "ContentEncoding" not in got
    _no_leftovers(server)


def test_large_aws_chunked_put_with_a_wrong_trailer_checksum_stores_nothing(
    server: Any, s3: Any, bucket: str
) -> None:
    body = os.urandom(9 * MiB)
    req = _captured_chunked_put(server, bucket, "bad", body)
    good = base64.b64encode(zlib.crc32(body).to_bytes(4, "big"))
    wrong = base64.b64encode(((zlib.crc32(body) + 1) & 0xFFFFFFFF).to_bytes(4, "big"))
    assert req.body.count(good) == 1
    req.body = req.body.replace(good, wrong)
    status, answer = _send_captured(server, req, chunked=True)
    assert status == 400 and b"<Code>BadDigest</Code>" in answer, answer
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=bucket, Key="bad")
    _no_leftovers(server)


@pytest.mark.parametrize("damage", ["truncated", "length"])
def test_large_aws_chunked_put_with_bad_framing_stores_nothing(
    server: Any, s3: Any, bucket: str, damage: str
) -> None:
    body = os.urandom(9 * MiB)
    req = _captured_chunked_put(server, bucket, "bad", body)
    if damage == "truncated":  # the last chunk and the trailers never come
        req.body = req.body[: len(req.body) // 2]
    else:  # the decoded length it declares is not what it sends
        declared = int(req.headers["x-amz-decoded-content-length"]) + 1
        req.header_list = [
            (k, str(declared) if k == "x-amz-decoded-content-length" else v)
            for k, v in req.header_list
        ]
    status, answer = _send_captured(server, req, chunked=True)
    assert status == 400 and b"<Code>IncompleteBody</Code>" in answer, answer
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=bucket, Key="bad")
    _no_leftovers(server)


@pytest.mark.parametrize("part", [False, True])
def test_an_upload_over_5_gib_is_refused_before_it_is_read(
    server: Any, s3: Any, bucket: str, part: bool
) -> None:
    """S3 answers from the declared size alone: nothing is read, spooled or stored."""
    size = 5 * 1024**3 + 1
    path = f"/{bucket}/huge"
    if part:
        upload = s3.create_multipart_upload(Bucket=bucket, Key="huge")["UploadId"]
        path += f"?partNumber=1&uploadId={upload}"
    req = AWSRequest(method="PUT", url=server.url + path,
                     headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})  # fmt: skip
    S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(req)
    u = urlparse(server.url)
    with socket.create_connection((u.hostname, u.port), timeout=30) as sock:
        head = f"PUT {path} HTTP/1.1\r\nHost: {u.netloc}\r\nContent-Length: {size}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in req.headers.items() if k.lower() != "host")
        sock.sendall(head.encode() + b"\r\n" + os.urandom(MiB))
        answer = b""
        while b"</Error>" not in answer:
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    if part:
        assert b"<Code>InvalidArgument</Code>" in answer, answer
    else:
        assert b"<Code>EntityTooLarge</Code>" in answer, answer
        assert f"<ProposedSize>{size}</ProposedSize>".encode() in answer
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=bucket, Key="huge")
    _no_leftovers(server)
