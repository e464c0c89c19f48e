"""Random, truncated and oversized bodies and headers at every protocol: never a 500, never a crash."""

from __future__ import annotations

import http.client
import json
import urllib.request

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

AUTH = (
    "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{svc}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)

# One request shape per protocol: (service signing name, method, path, headers).
SHAPES = [
    ("dynamodb", "POST", "/", {"X-Amz-Target": "DynamoDB_20120810.PutItem",
                               "Content-Type": "application/x-amz-json-1.0"}),
    ("sqs", "POST", "/", {"X-Amz-Target": "AmazonSQS.SendMessage",
                          "Content-Type": "application/x-amz-json-1.0", "x-amzn-query-mode": "true"}),
    ("sts", "POST", "/", {"Content-Type": "application/x-www-form-urlencoded"}),
    ("lambda", "POST", "/2015-03-31/functions", {"Content-Type": "application/json"}),
    ("apigateway", "POST", "/restapis", {"Content-Type": "application/json"}),
    ("s3", "PUT", "/fuzz-bucket", {"Content-Type": "application/xml"}),
    ("s3", "POST", "/fuzz-bucket?delete", {"Content-Type": "application/xml"}),
    ("monitoring", "POST", "/service/GraniteServiceVersion20100801/operation/PutMetricData",
     {"Smithy-Protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"}),
    ("monitoring", "POST", "/", {"Content-Type": "application/x-www-form-urlencoded"}),
    ("monitoring", "POST", "/", {"Content-Type": "application/x-www-form-urlencoded",
                                 "Content-Encoding": "gzip"}),
]  # fmt: skip

header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=0, max_size=300
)


def send(url: str, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def still_healthy(url: str) -> bool:
    with urllib.request.urlopen(url + "/_overcast/health", timeout=10) as resp:
        return bool(json.loads(resp.read())["version"])


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    shape=st.sampled_from(SHAPES),
    body=st.one_of(
        st.binary(max_size=2048),
        st.text(max_size=512).map(str.encode),
        st.sampled_from(
            [b"{", b'{"a":', b"<?xml", b"<a><b>", b"Action=", b"\xa1\x61", b"[]", b"null"]
        ),
    ),
    extra=st.dictionaries(
        st.sampled_from(
            [
                "X-Amz-Target",
                "Content-Type",
                "Content-Encoding",
                "X-Amz-Date",
                "Authorization",
                "x-amz-content-sha256",
                "Range",
                "x-amz-meta-a",
                "If-Match",
                "x-amz-decoded-content-length",
            ]
        ),
        header_text,
        max_size=3,
    ),
)
def test_fuzzed_requests_never_500(server, shape, body, extra) -> None:
    svc, method, path, headers = shape
    all_headers = {"Authorization": AUTH.format(svc=svc), "X-Amz-Date": "20260101T000000Z"}
    all_headers.update(headers)
    all_headers.update(extra)
    status = send(server.url, method, path, all_headers, body)
    assert status < 500 or status == 501, (svc, method, path, all_headers, body[:100])


def test_truncated_and_oversized(server) -> None:
    # A body shorter than its Content-Length, then a huge header, then a 5 MB junk JSON body.
    host, port = server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.putrequest("POST", "/")
    conn.putheader("Content-Length", "1000")
    conn.putheader("X-Amz-Target", "DynamoDB_20120810.GetItem")
    conn.endheaders(b'{"TableName": "t"')
    conn.close()
    status = send(server.url, "POST", "/", {"X-Amz-Target": "A" * 60000}, b"{}")
    assert status < 500 or status == 501
    status = send(
        server.url,
        "POST",
        "/",
        {"X-Amz-Target": "DynamoDB_20120810.PutItem", "Content-Type": "application/x-amz-json-1.0"},
        b"[" * 5_000_000,
    )
    assert status < 500 or status == 501
    assert still_healthy(server.url)
