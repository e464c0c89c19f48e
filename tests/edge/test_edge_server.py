"""Signatures and aws-chunked bodies through a real server: what a user of boto3 sees."""

from __future__ import annotations

import http.client
import io
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from overcast.core.http import HttpRequest
from tests.edge.wire import Captured, to_http


def _client(server: Any, service: str, creds: dict[str, str] | None = None, **config: Any) -> Any:
    creds = creds or {"AccessKeyId": "test", "SecretAccessKey": "test"}
    return boto3.client(
        service,
        endpoint_url=config.pop("endpoint", server.url),
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds.get("SessionToken"),
        config=Config(retries={"max_attempts": 1}, **config),
    )


def _send(server: Any, req: HttpRequest) -> tuple[int, bytes]:
    """Send a captured request to the server as it is (Host header included)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    target = req.path + (f"?{req.query_string}" if req.query_string else "")
    conn.putrequest(req.method, target, skip_host=True, skip_accept_encoding=True)
    for name, value in req.header_list:
        if name not in ("transfer-encoding", "content-length", "expect"):
            conn.putheader(name, value)
    conn.putheader("content-length", str(len(req.body)))
    conn.endheaders(req.body)
    resp = conn.getresponse()
    return resp.status, resp.read()


def _capture(client: Any, operation: str, **params: Any) -> HttpRequest:
    def stop(request: Any, **_: Any) -> None:
        raise Captured(request)

    client.meta.events.register("before-send", stop)
    try:
        getattr(client, operation)(**params)
    except Captured as c:
        return to_http(c.request)
    finally:
        client.meta.events.unregister("before-send", stop)
    raise AssertionError("nothing was sent")


@pytest.fixture(scope="module")
def role_creds(server: Any) -> dict[str, str]:
    sts = _client(server, "sts")
    role = "arn:aws:iam::000000000000:role/edge-tests"
    creds: dict[str, str] = sts.assume_role(RoleArn=role, RoleSessionName="edge")["Credentials"]
    return creds


def test_unknown_keys_are_accepted_on_loopback(server: Any) -> None:
    assert _client(server, "sts").get_caller_identity()["Account"] == "000000000000"


def test_known_keys_must_sign_correctly(server: Any, role_creds: dict[str, str]) -> None:
    s3 = _client(server, "s3", role_creds)
    s3.create_bucket(Bucket="edge-signed")
    s3.put_object(Bucket="edge-signed", Key="dir/a b+c.txt", Body=b"signed")
    assert s3.get_object(Bucket="edge-signed", Key="dir/a b+c.txt")["Body"].read() == b"signed"
    forged = {**role_creds, "SecretAccessKey": "not-the-secret"}
    with pytest.raises(ClientError) as err:
        _client(server, "s3", forged).list_buckets()
    assert err.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as err:
        _client(server, "sts", forged).get_caller_identity()
    assert err.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


@pytest.mark.parametrize("version", ["s3v4", None])
def test_presigned_urls(server: Any, role_creds: dict[str, str], version: str | None) -> None:
    s3 = _client(server, "s3", role_creds)
    s3.create_bucket(Bucket="edge-presign")
    s3.put_object(Bucket="edge-presign", Key="k.txt", Body=b"presigned body")
    signer = _client(server, "s3", role_creds, signature_version=version)
    url = signer.generate_presigned_url(
        "get_object", Params={"Bucket": "edge-presign", "Key": "k.txt"}, ExpiresIn=300
    )
    assert ("X-Amz-Signature" in url) == (version == "s3v4")
    with urllib.request.urlopen(url) as resp:
        assert resp.read() == b"presigned body"
    tampered = url.replace("k.txt", "x.txt")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(tampered)
    assert err.value.code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in err.value.read()


def test_aws_chunked_upload_with_trailing_checksum(server: Any) -> None:
    # boto3 sends aws-chunked bodies over https; capture one and send it over plain HTTP.
    s3 = _client(server, "s3", endpoint=server.url.replace("http://", "https://"))
    _client(server, "s3").create_bucket(Bucket="edge-chunked")
    payload = bytes(range(256)) * 4000
    req = _capture(s3, "put_object", Bucket="edge-chunked", Key="blob", Body=io.BytesIO(payload),
                   ChecksumAlgorithm="CRC32")  # fmt: skip
    assert req.headers["content-encoding"] == "aws-chunked"
    req.header_list = [(k, v) for k, v in req.header_list if k != "host"]
    req.header_list.append(("host", f"127.0.0.1:{server.port}"))
    status, body = _send(server, req)
    assert status == 200, body
    got = _client(server, "s3").get_object(Bucket="edge-chunked", Key="blob")
    assert got["Body"].read() == payload
    assert "ContentEncoding" not in got


def test_virtual_host_request_with_a_known_key(server: Any, role_creds: dict[str, str]) -> None:
    s3 = _client(server, "s3", role_creds)
    s3.create_bucket(Bucket="edge-vhost")
    s3.put_object(Bucket="edge-vhost", Key="k", Body=b"virtual")
    # *.localhost does not resolve everywhere: sign for the bucket host, send to 127.0.0.1.
    endpoint = server.url.replace("127.0.0.1", "localhost")
    virtual = _client(server, "s3", role_creds, endpoint=endpoint,
                      s3={"addressing_style": "virtual"})  # fmt: skip
    req = _capture(virtual, "get_object", Bucket="edge-vhost", Key="k")
    assert req.headers["host"].startswith("edge-vhost.localhost:")
    assert _send(server, req) == (200, b"virtual")


@pytest.mark.parametrize("size", [1024, 3 * 1024 * 1024])  # hashed on the loop / in a thread
def test_a_body_that_does_not_match_its_declared_hash_is_refused(server: Any, size: int) -> None:
    s3 = _client(server, "s3")
    s3.create_bucket(Bucket="sha-check")
    body = bytes(range(256)) * (size // 256)
    key = f"k{size}"
    req = _capture(s3, "put_object", Bucket="sha-check", Key=key, Body=body)
    assert len(req.body) == size and len(req.headers["x-amz-content-sha256"]) == 64
    req.body = req.body[:-1] + b"!"  # what the client declared no longer holds
    status, payload = _send(server, req)
    assert status == 400 and b"<Code>XAmzContentSHA256Mismatch</Code>" in payload
    with pytest.raises(ClientError):
        s3.head_object(Bucket="sha-check", Key=key)
    req.body = body  # the body it declared: stored
    status, _ = _send(server, req)
    assert status == 200
    assert s3.get_object(Bucket="sha-check", Key=key)["Body"].read() == body
