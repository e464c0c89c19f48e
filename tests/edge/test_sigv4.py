"""Signature checks: AWS's documented test vectors, botocore's real signatures and presigned URLs,
the errors each service family answers with, and the access policy."""

from __future__ import annotations

import calendar
import dataclasses
import hashlib
import time
from typing import Any

import pytest
from botocore.auth import HmacV1Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from overcast.core.errors import ServiceError
from overcast.core.http import HttpRequest
from overcast.edge.canonical import canonical_headers, canonical_query
from overcast.edge.detect import detect
from overcast.edge.sigv4 import (
    Credential,
    account_of_key,
    authenticate,
    is_loopback,
    parse_authorization,
    verify,
)
from tests.edge.wire import AK, SECRET, capture, from_url, make_client, to_http

DOC_TIME = float(calendar.timegm((2013, 5, 24, 0, 0, 0)))
DOC_HOST = "examplebucket.s3.amazonaws.com"
EMPTY = hashlib.sha256(b"").hexdigest()
KNOWN = Credential(AK, SECRET, "111122223333", "arn:aws:iam::111122223333:user/alice")


def _lookup(key: str) -> Credential | None:
    return KNOWN if key == AK else None


def _nobody(key: str) -> Credential | None:
    return None


def _auth(
    req: HttpRequest, *, strict: bool = True, now: float | None = None, lookup: Any = _lookup
):
    return authenticate(req, detect(req), lookup, strict, time.time() if now is None else now)


def _error(req: HttpRequest, **kw: Any) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        _auth(req, **kw)
    return info.value


def _doc_request(
    method: str, path: str, query: str, headers: dict[str, str], signed: str, signature: str
) -> HttpRequest:
    auth = (
        f"AWS4-HMAC-SHA256 Credential={AK}/20130524/us-east-1/s3/aws4_request,"
        f"SignedHeaders={signed},Signature={signature}"
    )
    hl = [("host", DOC_HOST), *headers.items(), ("authorization", auth)]
    return HttpRequest(method, path, query, dict(hl), b"", hl)


# -- AWS's documented examples (S3 API reference, Signature Version 4) --------------------------

WELCOME = hashlib.sha256(b"Welcome to Amazon S3.").hexdigest()
DOC_VECTORS = [
    ("GET", "/test.txt", "",
     {"range": "bytes=0-9", "x-amz-content-sha256": EMPTY, "x-amz-date": "20130524T000000Z"},
     "host;range;x-amz-content-sha256;x-amz-date",
     "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
    ("PUT", "/test%24file.text", "",
     {"date": "Fri, 24 May 2013 00:00:00 GMT", "x-amz-date": "20130524T000000Z",
      "x-amz-storage-class": "REDUCED_REDUNDANCY", "x-amz-content-sha256": WELCOME},
     "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
     "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
    ("GET", "/", "lifecycle",
     {"x-amz-content-sha256": EMPTY, "x-amz-date": "20130524T000000Z"},
     "host;x-amz-content-sha256;x-amz-date",
     "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
    ("GET", "/", "max-keys=2&prefix=J",
     {"x-amz-content-sha256": EMPTY, "x-amz-date": "20130524T000000Z"},
     "host;x-amz-content-sha256;x-amz-date",
     "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "query", "headers", "signed", "signature"), DOC_VECTORS)
def test_aws_documented_header_signatures(
    method: str, path: str, query: str, headers: dict[str, str], signed: str, signature: str
) -> None:
    req = _doc_request(method, path, query, headers, signed, signature)
    if method == "PUT":
        req.body = b"Welcome to Amazon S3."
    info = parse_authorization(req, "s3")
    assert info is not None
    assert verify(req, info, SECRET, DOC_TIME, service="s3") is None
    with pytest.raises(ServiceError) as err:
        verify(req, info, "not-the-secret", DOC_TIME, service="s3")
    assert err.value.code == "SignatureDoesNotMatch" and err.value.status == 403
    assert err.value.fields["AWSAccessKeyId"] == AK
    assert err.value.fields["CanonicalRequest"].startswith(f"{method}\n")


DOC_PRESIGNED = (
    "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
)


def test_aws_documented_presigned_url() -> None:
    req = from_url("GET", DOC_PRESIGNED)
    assert _auth(req, now=DOC_TIME + 3600).verified
    err = _error(req, now=DOC_TIME + 86401)
    assert (err.code, err.status, err.message) == ("AccessDenied", 403, "Request has expired")
    assert err.fields == {
        "X-Amz-Expires": "86400",
        "Expires": "2013-05-25T00:00:00Z",
        "ServerTime": "2013-05-25T00:00:01Z",
    }
    # Expiry is enforced even for keys Overcast does not know (loopback policy).
    assert _error(req, now=DOC_TIME + 86401, strict=False, lookup=_nobody).code == "AccessDenied"


def test_presigned_url_dated_ahead_is_not_yet_valid() -> None:
    """A URL signed by a clock running ahead: fine within the 15 minutes of allowed skew, then
    AccessDenied 'Request is not yet valid', with the fields S3 adds."""
    req = from_url("GET", DOC_PRESIGNED)
    assert _auth(req, now=DOC_TIME - 900).verified
    err = _error(req, now=DOC_TIME - 901)
    assert (err.code, err.status, err.message) == ("AccessDenied", 403, "Request is not yet valid")
    assert err.fields == {
        "X-Amz-Date": str(int(DOC_TIME) * 1000),
        "Expires": "2013-05-25T00:00:00Z",
        "ServerTime": "2013-05-23T23:44:59Z",
    }


def test_presign_longer_than_a_week_is_refused() -> None:
    req = from_url("GET", DOC_PRESIGNED.replace("X-Amz-Expires=86400", "X-Amz-Expires=604801"))
    err = _error(req, now=DOC_TIME)
    assert (err.code, err.status) == ("AuthorizationQueryParametersError", 400)


# -- presigned URLs from boto3 ---------------------------------------------------------------------


@pytest.mark.parametrize("version", ["s3v4", "sigv2"])
@pytest.mark.parametrize("addressing", ["path", "virtual"])
@pytest.mark.parametrize("method", ["get_object", "put_object"])
def test_boto3_presigned_urls(version: str, addressing: str, method: str) -> None:
    config = Config(s3={"addressing_style": addressing})
    if version == "s3v4":
        config = config.merge(Config(signature_version="s3v4"))
    s3 = make_client("s3", endpoint="http://localhost:4566", config=config)
    key = "dir/a b+c=d&é~(x)*!.txt"
    url = s3.generate_presigned_url(method, Params={"Bucket": "bucket", "Key": key}, ExpiresIn=600)
    assert ("X-Amz-Signature=" in url) == (version == "s3v4")
    http_method = "GET" if method == "get_object" else "PUT"
    req = from_url(http_method, url, body=b"any body at all" if http_method == "PUT" else b"")
    d = detect(req)
    assert d.service == "s3"
    assert d.s3_bucket_host == ("bucket" if addressing == "virtual" else None)
    now = time.time()
    assert _auth(req, now=now).verified
    # Another key, same signature: rejected.
    other = dataclasses.replace(req, path=req.path.replace("dir", "dix"))
    assert _error(other, now=now).code == "SignatureDoesNotMatch"
    # Expired.
    err = _error(req, now=now + 601)
    assert (err.code, err.message) == ("AccessDenied", "Request has expired")


def test_presigned_non_s3_url_uses_a_fifteen_minute_window() -> None:
    sts = make_client("sts")
    # As EKS-style tokens do: a GET (botocore would otherwise sign the model's POST).
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    req = from_url("GET", url)
    assert detect(req).service == "sts"
    now = time.time()
    assert _auth(req, now=now + 120).verified
    err = _error(req, now=now + 16 * 60)
    assert err.code == "SignatureDoesNotMatch" and err.message.startswith("Signature expired: ")


def test_sigv2_header_signature() -> None:
    aws = AWSRequest(
        method="PUT",
        url="http://127.0.0.1:4566/bucket/key?acl",
        data=b"<AccessControlPolicy/>",
        headers={"Content-Type": "application/xml", "x-amz-meta-Color": " blue "},
    )
    HmacV1Auth(Credentials(AK, SECRET)).add_auth(aws)
    req = to_http(aws.prepare())
    assert req.headers["authorization"].startswith(f"AWS {AK}:")
    assert _auth(req).verified
    tampered = dataclasses.replace(req, query_string="policy")
    assert _error(tampered).code == "SignatureDoesNotMatch"


# -- clock skew --------------------------------------------------------------------------------

SKEW_CASES: list[tuple[str, str, dict[str, Any], str, int]] = [
    ("s3", "list_buckets", {}, "RequestTimeTooSkewed", 403),
    ("sts", "get_caller_identity", {}, "SignatureDoesNotMatch", 403),
    ("sqs", "list_queues", {}, "SignatureDoesNotMatch", 403),
    ("dynamodb", "list_tables", {}, "InvalidSignatureException", 400),
    ("lambda", "list_functions", {}, "InvalidSignatureException", 403),
]


@pytest.mark.parametrize(("service", "op", "params", "code", "status"), SKEW_CASES)
def test_clock_skew(service: str, op: str, params: dict, code: str, status: int) -> None:
    req = capture(make_client(service), op, **params)
    now = time.time()
    assert _auth(req, now=now + 14 * 60).verified
    late = _error(req, now=now + 16 * 60)
    early = _error(req, now=now - 16 * 60)
    assert (late.code, late.status) == (code, status)
    assert (early.code, early.status) == (code, status)
    if service == "s3":
        assert late.fields["MaxAllowedSkewMilliseconds"] == "900000"
        assert late.fields["RequestTime"] == req.headers["x-amz-date"]
    else:
        amz = req.headers["x-amz-date"]
        assert late.message.startswith(f"Signature expired: {amz} is now earlier than ")
        assert late.message.endswith(" - 15 min.)")
        assert early.message.startswith(f"Signature not yet current: {amz} is still later than ")


# -- error codes per service family ----------------------------------------------------------------

FAMILY_CASES = [
    # service, operation, unknown-key code/status, bad-signature code/status, anonymous code/status
    ("s3", "list_buckets", ("InvalidAccessKeyId", 403), ("SignatureDoesNotMatch", 403), None),
    ("sts", "get_caller_identity", ("InvalidClientTokenId", 403), ("SignatureDoesNotMatch", 403),
     ("MissingAuthenticationToken", 403)),
    ("iam", "list_users", ("InvalidClientTokenId", 403), ("SignatureDoesNotMatch", 403),
     ("MissingAuthenticationToken", 403)),
    ("sqs", "list_queues", ("InvalidClientTokenId", 403), ("SignatureDoesNotMatch", 403),
     ("MissingAuthenticationToken", 403)),
    ("cloudwatch", "list_metrics", ("InvalidClientTokenId", 403), ("SignatureDoesNotMatch", 403),
     ("MissingAuthenticationToken", 403)),
    ("dynamodb", "list_tables", ("UnrecognizedClientException", 400),
     ("InvalidSignatureException", 400), ("MissingAuthenticationTokenException", 400)),
    ("kms", "list_keys", ("UnrecognizedClientException", 400), ("InvalidSignatureException", 400),
     ("MissingAuthenticationTokenException", 400)),
    ("lambda", "list_functions", ("UnrecognizedClientException", 403),
     ("InvalidSignatureException", 403), ("MissingAuthenticationTokenException", 403)),
    ("apigateway", "get_rest_apis", ("UnrecognizedClientException", 403),
     ("InvalidSignatureException", 403), ("MissingAuthenticationTokenException", 403)),
]  # fmt: skip


def _without_auth(req: HttpRequest) -> HttpRequest:
    return dataclasses.replace(
        req,
        headers={k: v for k, v in req.headers.items() if k != "authorization"},
        header_list=[(k, v) for k, v in req.header_list if k != "authorization"],
    )


@pytest.mark.parametrize(("service", "op", "unknown", "bad", "anonymous"), FAMILY_CASES)
def test_error_codes_per_family(
    service: str,
    op: str,
    unknown: tuple[str, int],
    bad: tuple[str, int],
    anonymous: tuple[str, int] | None,
) -> None:
    stranger = capture(make_client(service, access_key="AKIASTRANGER"), op)
    err = _error(stranger)
    assert (err.code, err.status) == unknown
    if service == "s3":
        assert err.fields == {"AWSAccessKeyId": "AKIASTRANGER"}
    forged = capture(make_client(service, secret="wrong-secret"), op)
    err = _error(forged)
    assert (err.code, err.status) == bad
    if service != "s3":
        assert "The Canonical String for this request should have been" in err.message
    # In loopback mode the stranger is let in, the forger is not.
    assert _auth(stranger, strict=False).account_id == "000000000000"
    assert _error(forged, strict=False).code == bad[0]
    # Unsigned.
    unsigned = _without_auth(capture(make_client(service), op))
    if anonymous is None:
        assert _auth(unsigned).anonymous  # S3: bucket policies decide
    else:
        err = _error(unsigned)
        assert (err.code, err.status) == anonymous
    assert _auth(unsigned, strict=False).anonymous


# -- x-amz-content-sha256 --------------------------------------------------------------------------


def test_s3_body_must_match_its_declared_hash() -> None:
    req = capture(make_client("s3"), "put_object", Bucket="b", Key="k", Body=b"hello")
    assert req.headers["x-amz-content-sha256"] == hashlib.sha256(b"hello").hexdigest()
    assert _auth(req).verified
    changed = dataclasses.replace(req, body=b"HELLO")
    for kw in ({}, {"strict": False, "lookup": _nobody}):
        err = _error(changed, **kw)
        assert (err.code, err.status) == ("XAmzContentSHA256Mismatch", 400)
        assert err.fields["S3ComputedContentSHA256"] == hashlib.sha256(b"HELLO").hexdigest()


def test_s3_content_sha256_must_be_a_known_value() -> None:
    req = capture(make_client("s3"), "put_object", Bucket="b", Key="k", Body=b"hello")
    req.headers["x-amz-content-sha256"] = "NOT-A-HASH"
    err = _error(req, strict=False, lookup=_nobody)
    assert (err.code, err.status) == ("InvalidArgument", 400)


def test_json_body_change_breaks_the_signature() -> None:
    req = capture(make_client("dynamodb"), "describe_table", TableName="t")
    changed = dataclasses.replace(req, body=req.body.replace(b'"t"', b'"u"'))
    assert _error(changed).code == "InvalidSignatureException"


# -- the policy -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "account"),
    [("AKIAIOSFODNN7EXAMPLE", "000000000000"), ("test", "000000000000"),
     ("123456789012", "123456789012"), ("12345678901", "000000000000"),
     ("1234567890123", "000000000000")],
)  # fmt: skip
def test_account_of_unknown_keys(key: str, account: str) -> None:
    assert account_of_key(key) == account
    req = capture(make_client("sqs", access_key=key), "list_queues")
    result = _auth(req, strict=False, lookup=_nobody)
    assert (result.account_id, result.access_key_id) == (account, key)
    assert result.principal_arn == f"arn:aws:iam::{account}:root" and not result.verified


def test_known_key_carries_its_own_account() -> None:
    req = capture(make_client("sqs"), "list_queues")
    result = _auth(req, strict=False)
    assert result.verified
    assert (result.account_id, result.principal_arn) == (KNOWN.account_id, KNOWN.principal_arn)


def test_session_credentials() -> None:
    temp = Credential("ASIATEMP", "tempsecret", "444455556666", "arn:aws:sts::444455556666:x",
                      session_token="tok", expiration=time.time() + 3600)  # fmt: skip

    def lookup(key: str) -> Credential | None:
        return temp if key == "ASIATEMP" else None

    import boto3

    client = boto3.client(
        "sqs",
        endpoint_url="http://127.0.0.1:4566",
        region_name="us-east-1",
        aws_access_key_id="ASIATEMP",
        aws_secret_access_key="tempsecret",
        aws_session_token="tok",
    )
    from tests.edge.wire import _stop

    client.meta.events.register("before-send", _stop)
    req = capture(client, "list_queues")
    assert _auth(req, lookup=lookup).account_id == "444455556666"
    err = _error(req, lookup=lookup, now=time.time() + 7200)
    assert (err.code, err.status) == ("ExpiredToken", 403)
    no_token = capture(
        make_client("sqs", access_key="ASIATEMP", secret="tempsecret"), "list_queues"
    )
    assert _error(no_token, lookup=lookup).code == "InvalidClientTokenId"


@pytest.mark.parametrize(
    ("ip", "loopback"),
    [("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("::ffff:127.0.0.1", True),
     ("10.0.0.1", False), ("192.168.1.5", False), ("::ffff:10.0.0.1", False), ("bogus", False)],
)  # fmt: skip
def test_is_loopback(ip: str, loopback: bool) -> None:
    assert is_loopback(ip) is loopback


# -- malformed signatures ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "authorization", "headers", "code", "status"),
    [
        ("s3", "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=host",
         {"x-amz-date": "20240101T000000Z"}, "AuthorizationHeaderMalformed", 400),
        ("sts", "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/sts/aws4_request, SignedHeaders=host",
         {"x-amz-date": "20240101T000000Z"}, "IncompleteSignature", 400),
        ("dynamodb", "AWS4-HMAC-SHA256 Credential=AK/20240101/dynamodb, SignedHeaders=host, Signature=0",
         {"x-amz-date": "20240101T000000Z"}, "IncompleteSignatureException", 400),
        ("s3", "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0",
         {}, "AccessDenied", 403),
        ("sts", "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0",
         {}, "IncompleteSignature", 400),
    ],
)  # fmt: skip
def test_malformed_authorization(
    service: str, authorization: str, headers: dict[str, str], code: str, status: int
) -> None:
    req = HttpRequest("GET", "/", "", {"host": "h", "authorization": authorization, **headers})
    with pytest.raises(ServiceError) as err:
        parse_authorization(req, service)
    assert (err.value.code, err.value.status) == (code, status)


def test_credential_date_must_match_request_date() -> None:
    auth = (
        f"AWS4-HMAC-SHA256 Credential={AK}/20240101/us-east-1/{{}}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=00"
    )
    now = float(calendar.timegm((2024, 1, 2, 0, 0, 0)))
    for service, signing, code in [
        ("s3", "s3", "AuthorizationHeaderMalformed"),
        ("sts", "sts", "SignatureDoesNotMatch"),
    ]:
        req = HttpRequest(
            "GET",
            "/",
            "",
            {"host": "h", "x-amz-date": "20240102T000000Z", "authorization": auth.format(signing)},
        )
        err = _error(req, now=now)
        assert err.code == code
        if service == "sts":
            assert "Date in Credential scope does not match YYYYMMDD" in err.message


# -- canonical forms on awkward input --------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "op", "params"),
    [
        ("s3", "list_objects_v2", {"Bucket": "b", "Prefix": "a b+c=d&e/é~*'()!"}),
        ("s3", "get_object", {"Bucket": "b", "Key": "dir//x/../y/./z é+&=?#%.txt"}),
        ("s3", "put_object", {"Bucket": "b", "Key": "~user/日本語 key", "Body": b"x",
                              "Metadata": {"note": "  two   spaces  "}}),
        ("lambda", "get_function",
         {"FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:f:live"}),
        ("apigateway", "get_resources", {"restApiId": "a b", "limit": 5}),
        ("ssm", "get_parameter", {"Name": "/app/é and spaces"}),
        ("sns", "publish", {"TopicArn": "arn:aws:sns:us-east-1:000000000000:t",
                            "Message": "a+b=c&d é"}),
    ],
)  # fmt: skip
def test_awkward_characters_verify(service: str, op: str, params: dict) -> None:
    assert _auth(capture(make_client(service), op, **params)).verified


def test_canonical_headers_trim_and_join_repeats() -> None:
    req = HttpRequest(
        "GET",
        "/",
        header_list=[("x-amz-meta-a", "  one   two "), ("host", "h"), ("x-amz-meta-a", "three")],
    )
    assert (
        canonical_headers(req, ("host", "x-amz-meta-a")) == "host:h\nx-amz-meta-a:one two,three\n"
    )


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("", ""),
        ("b=2&a=1", "a=1&b=2"),
        ("uploads", "uploads="),
        ("a=2&a=1", "a=1&a=2"),
        ("prefix=a%20b&x=%7E~", "prefix=a%20b&x=~~"),
        ("k=a+b", "k=a%2Bb"),
        ("k=%c3%a9", "k=%C3%A9"),
        ("X-Amz-Signature=abc&z=1", "z=1"),
    ],
)
def test_canonical_query(raw: str, canonical: str) -> None:
    assert canonical_query(raw, exclude="X-Amz-Signature") == canonical


@pytest.mark.parametrize("version", ["s3v4", None])
def test_presigned_urls_with_session_credentials(version: str | None) -> None:
    import boto3

    temp = Credential("ASIATEMP", "tempsecret", "444455556666", "arn:aws:sts::444455556666:x",
                      session_token="tok/with+odd=chars")  # fmt: skip
    s3 = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:4566",
        region_name="us-east-1",
        aws_access_key_id="ASIATEMP",
        aws_secret_access_key="tempsecret",
        aws_session_token="tok/with+odd=chars",
        config=Config(signature_version=version),
    )
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    req = from_url("GET", url)
    result = _auth(req, lookup=lambda k: temp if k == "ASIATEMP" else None)
    assert result.verified and result.account_id == "444455556666"
    wrong = Credential(**{**dataclasses.asdict(temp), "session_token": "other"})
    assert _error(req, lookup=lambda k: wrong).code == "InvalidToken"
