"""CORS: configuration round trip, preflight OPTIONS, headers on ordinary responses."""

from __future__ import annotations

import http.client
from typing import Any
from urllib.parse import urlparse

import pytest
from botocore.exceptions import ClientError

RULES = [
    {
        "AllowedOrigins": ["https://app.example.com", "http://*.test"],
        "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["content-type", "x-amz-*"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 300,
    },
    {"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]},
]


def request(url: str, method: str, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request(method, path, headers=headers)
    resp = conn.getresponse()
    resp.read()
    return resp


def test_cors_configuration_round_trip(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_cors(Bucket=bucket)
    assert exc.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    got = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert got[0]["AllowedOrigins"] == RULES[0]["AllowedOrigins"]
    assert got[0]["MaxAgeSeconds"] == 300
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_cors(
            Bucket=bucket,
            CORSConfiguration={
                "CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]
            },
        )
    assert exc.value.response["Error"]["Code"] == "InvalidRequest"
    s3.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_cors(Bucket=bucket)


def test_preflight(server: Any, s3: Any, bucket: str) -> None:
    preflight = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"}
    resp = request(server.url, "OPTIONS", f"/{bucket}/some/key", preflight)
    assert resp.status == 403  # no configuration yet
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    resp = request(
        server.url, "OPTIONS", f"/{bucket}/some/key",
        {**preflight, "Access-Control-Request-Headers": "Content-Type, X-Amz-Date"},
    )  # fmt: skip
    assert resp.status == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert resp.headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert resp.headers["Access-Control-Max-Age"] == "300"
    assert "Content-Type" in resp.headers["Access-Control-Allow-Headers"]
    # Wildcard origin pattern.
    resp = request(server.url, "OPTIONS", f"/{bucket}/k", {**preflight, "Origin": "http://x.test"})
    assert resp.status == 200
    # Method not allowed for that origin, header not allowed, unknown origin.
    for headers in (
        {**preflight, "Access-Control-Request-Method": "DELETE"},
        {**preflight, "Access-Control-Request-Headers": "x-custom"},
        {**preflight, "Origin": "https://evil.example.org"},
    ):
        assert request(server.url, "OPTIONS", f"/{bucket}/k", headers).status == 403
    resp = request(server.url, "OPTIONS", f"/{bucket}/k", {"Origin": "https://x.test"})
    assert resp.status == 400
    # The "*" rule answers "*".
    resp = request(
        server.url,
        "OPTIONS",
        f"/{bucket}",
        {"Origin": "https://any.where", "Access-Control-Request-Method": "HEAD"},
    )
    assert resp.status == 200 and resp.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_headers_on_responses(server: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    resp = request(server.url, "GET", f"/{bucket}/k", {"Origin": "https://app.example.com"})
    assert resp.status == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert resp.headers["Access-Control-Expose-Headers"] == "ETag"
    resp = request(server.url, "GET", f"/{bucket}/k", {"Origin": "https://evil.example.org"})
    assert resp.status == 200 and "Access-Control-Allow-Origin" not in resp.headers
