"""detect(): which service, protocol, region, key and bucket a request names."""

from __future__ import annotations

import time

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from overcast.core.http import HttpRequest
from overcast.edge.detect import UnrecognizedService, bucket_from_host, detect, is_data_plane
from overcast.edge.sigv4 import Credential, authenticate
from tests.edge.wire import AK, SECRET, capture, from_url, make_client, to_http

KNOWN = Credential(AK, SECRET, "000000000000", "arn:aws:iam::000000000000:root")


def _lookup(key: str) -> Credential | None:
    return KNOWN if key == AK else None


def _signed_by_hand(
    signing_name: str,
    body: bytes,
    headers: dict[str, str],
    path: str = "/",
    region: str = "us-west-2",
) -> HttpRequest:
    """A request botocore's own SigV4 signer signs, for wire forms no client sends by default."""
    aws = AWSRequest(method="POST", url=f"http://127.0.0.1:4566{path}", data=body, headers=headers)
    SigV4Auth(Credentials(AK, SECRET), signing_name, region).add_auth(aws)
    return to_http(aws.prepare())


def _assert_verified(req: HttpRequest) -> None:
    d = detect(req)
    assert authenticate(req, d, _lookup, strict=True, now=time.time()).verified


# -- services that share a signing name ----------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "operation", "params", "signing_name"),
    [
        ("apigateway", "get_rest_apis", {}, "apigateway"),
        ("apigatewayv2", "get_apis", {}, "apigateway"),
        (
            "apigateway",
            "tag_resource",
            {"resourceArn": "arn:aws:apigateway:us-east-1::/restapis/a", "tags": {"k": "v"}},
            "apigateway",
        ),
        (
            "apigatewayv2",
            "tag_resource",
            {"ResourceArn": "arn:aws:apigateway:us-east-1::/apis/a", "Tags": {"k": "v"}},
            "apigateway",
        ),
        ("dynamodb", "list_tables", {}, "dynamodb"),
        ("dynamodbstreams", "list_streams", {}, "dynamodb"),
        ("stepfunctions", "list_state_machines", {}, "states"),
        ("cloudwatch", "list_metrics", {}, "monitoring"),
    ],
)
def test_shared_and_renamed_signing_names(
    service: str, operation: str, params: dict, signing_name: str
) -> None:
    req = capture(make_client(service, region="ap-south-1"), operation, **params)
    assert f"/ap-south-1/{signing_name}/aws4_request" in req.headers["authorization"]
    d = detect(req)
    assert (d.service, d.region, d.access_key_id) == (service, "ap-south-1", AK)
    _assert_verified(req)


# -- services that speak several protocols -------------------------------------------------------


def test_cloudwatch_default_client_sends_json() -> None:
    # botocore 1.44 picks the JSON form of CloudWatch's three protocols.
    req = capture(make_client("cloudwatch"), "list_metrics")
    assert req.headers["x-amz-target"] == "GraniteServiceVersion20100801.ListMetrics"
    assert req.headers["x-amzn-query-mode"] == "true"
    d = detect(req)
    assert (d.service, d.protocol) == ("cloudwatch", "json")
    _assert_verified(req)


def test_cloudwatch_rpc_v2_cbor() -> None:
    req = _signed_by_hand(
        "monitoring",
        b"\xa0",  # an empty CBOR map
        {
            "Content-Type": "application/cbor",
            "Accept": "application/cbor",
            "Smithy-Protocol": "rpc-v2-cbor",
        },
        path="/service/GraniteServiceVersion20100801/operation/ListMetrics",
    )
    d = detect(req)
    assert (d.service, d.protocol, d.region) == ("cloudwatch", "smithy-rpc-v2-cbor", "us-west-2")
    _assert_verified(req)


def test_cloudwatch_query() -> None:
    req = _signed_by_hand(
        "monitoring",
        b"Action=ListMetrics&Version=2010-08-01",
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    d = detect(req)
    assert (d.service, d.protocol) == ("cloudwatch", "query")
    _assert_verified(req)


def test_sqs_json_is_the_default() -> None:
    req = capture(make_client("sqs"), "list_queues")
    assert req.headers["x-amz-target"] == "AmazonSQS.ListQueues"
    d = detect(req)
    assert (d.service, d.protocol) == ("sqs", "json")
    _assert_verified(req)


def test_sqs_query() -> None:
    req = _signed_by_hand(
        "sqs",
        b"Action=SendMessage&Version=2012-11-05&QueueUrl=http%3A%2F%2F127.0.0.1%3A4566%2F"
        b"000000000000%2Fq&MessageBody=hi",
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    d = detect(req)
    assert (d.service, d.protocol) == ("sqs", "query")
    _assert_verified(req)


def test_single_protocol_services_report_none() -> None:
    assert detect(capture(make_client("sns"), "list_topics")).protocol is None


# -- unsigned requests ---------------------------------------------------------------------------


def test_unsigned_sts_assume_role_with_web_identity() -> None:
    req = capture(
        make_client("sts"),
        "assume_role_with_web_identity",
        RoleArn="arn:aws:iam::000000000000:role/r",
        RoleSessionName="s",
        WebIdentityToken="token",
    )
    assert "authorization" not in req.headers
    assert b"Version=2011-06-15" in req.body
    d = detect(req)
    assert (d.service, d.region, d.access_key_id) == ("sts", "us-east-1", None)
    result = authenticate(req, d, _lookup, strict=True, now=time.time())
    assert result.anonymous and result.account_id == "000000000000"


def test_unsigned_cognito_initiate_auth() -> None:
    req = capture(
        make_client("cognito-idp"),
        "initiate_auth",
        AuthFlow="USER_PASSWORD_AUTH",
        ClientId="client",
        AuthParameters={"USERNAME": "u", "PASSWORD": "p"},
    )
    assert "authorization" not in req.headers
    assert detect(req).service == "cognito-idp"
    assert authenticate(req, detect(req), _lookup, strict=True, now=time.time()).anonymous


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "body", "service"),
    [
        ("POST", "/", "", {"content-type": "application/x-www-form-urlencoded"},
         b"Action=AssumeRoleWithWebIdentity&RoleArn=x", "sts"),
        ("POST", "/", "", {"content-type": "application/x-www-form-urlencoded"},
         b"Action=ListQueues&Version=2012-11-05", "sqs"),
        ("POST", "/", "", {"content-type": "application/x-www-form-urlencoded"},
         b"Action=ListMetrics&Version=2010-08-01", "cloudwatch"),
        ("GET", "/", "Action=GetCallerIdentity&Version=2011-06-15", {}, b"", "sts"),
        ("GET", "/", "Action=ListUsers&Version=2010-05-08", {}, b"", "iam"),
        ("POST", "/", "", {"x-amz-target": "AWSCognitoIdentityService.GetId"}, b"{}",
         "cognito-identity"),
        ("POST", "/", "", {"x-amz-target": "DynamoDBStreams_20120810.ListStreams"}, b"{}",
         "dynamodbstreams"),
        ("POST", "/service/GraniteServiceVersion20100801/operation/ListMetrics", "",
         {"smithy-protocol": "rpc-v2-cbor"}, b"", "cloudwatch"),
        ("GET", "/2015-03-31/functions/", "", {}, b"", "lambda"),
        ("GET", "/2015-03-31/functions/my-fn/configuration", "", {}, b"", "lambda"),
        ("GET", "/restapis", "", {}, b"", "apigateway"),
        ("GET", "/restapis/abc/resources", "", {}, b"", "apigateway"),
        ("GET", "/v2/apis", "", {}, b"", "apigatewayv2"),
        ("GET", "/schedules", "", {}, b"", "scheduler"),
        ("GET", "/v1/pipes", "", {}, b"", "pipes"),
        ("POST", "/TraceSegments", "", {}, b"{}", "xray"),
        ("GET", "/tags/arn%3Aaws%3Apipes%3Aus-east-1%3A000000000000%3Apipe%2Fp", "", {}, b"",
         "pipes"),
        ("GET", "/tags/arn:aws:scheduler:us-east-1:000000000000:schedule%2Fdefault%2Fs", "", {},
         b"", "scheduler"),
        ("GET", "/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Frestapis%2Fa", "", {}, b"",
         "apigateway"),
        # Everything else is S3: objects, buckets, and paths that only look like other APIs.
        ("GET", "/", "", {}, b"", "s3"),
        ("GET", "/my-bucket/some/key.txt", "", {}, b"", "s3"),
        ("PUT", "/my-bucket", "", {}, b"", "s3"),
        ("GET", "/tags/readme.txt", "", {}, b"", "s3"),
        ("GET", "/restapis/a/b/c/d/e/f/g/h/i", "", {}, b"", "s3"),
        ("GET", "/v2/photo.png", "", {}, b"", "s3"),
        ("POST", "/my-bucket", "", {"content-type": "multipart/form-data; boundary=x"}, b"--x",
         "s3"),
    ],
)  # fmt: skip
def test_unsigned_detection(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes, service: str
) -> None:
    req = HttpRequest(method, path, query, {"host": "127.0.0.1:4566", **headers}, body)
    assert detect(req).service == service


# -- presigned URLs and S3 addressing ----------------------------------------------------------


def test_presigned_sigv4_url() -> None:
    from botocore.config import Config

    s3 = make_client("s3", region="eu-west-3", config=Config(signature_version="s3v4"))
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    d = detect(from_url("GET", url))
    assert (d.service, d.region, d.access_key_id, d.s3_bucket_host) == ("s3", "eu-west-3", AK, None)


def test_presigned_sigv2_url() -> None:
    url = make_client("s3").generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    assert "AWSAccessKeyId=" in url and "Signature=" in url
    d = detect(from_url("GET", url))
    assert (d.service, d.region, d.access_key_id) == ("s3", "us-east-1", AK)


def test_sigv2_header_names_s3() -> None:
    req = HttpRequest("GET", "/b/k", "", {"host": "127.0.0.1:4566", "authorization": "AWS AK1:sig"})
    d = detect(req)
    assert (d.service, d.access_key_id) == ("s3", "AK1")


@pytest.mark.parametrize(
    ("host", "bucket"),
    [
        ("127.0.0.1:4566", None),
        ("localhost:4566", None),
        ("localhost", None),
        ("[::1]:4566", None),
        ("s3.localhost:4566", None),
        ("my-bucket.s3.localhost:4566", "my-bucket"),
        ("my-bucket.localhost:4566", "my-bucket"),
        ("s3-data.localhost:4566", "s3-data"),
        ("my.dotted.bucket.localhost:4566", "my.dotted.bucket"),
        ("b.s3.us-east-1.localhost:4566", "b"),
        ("s3.amazonaws.com", None),
        ("s3.us-east-1.amazonaws.com", None),
        ("my-bucket.s3.amazonaws.com", "my-bucket"),
        ("my-bucket.s3.us-east-1.amazonaws.com", "my-bucket"),
        ("my-bucket.s3-us-west-2.amazonaws.com", "my-bucket"),
        ("my.s3.bucket.s3.eu-west-1.amazonaws.com", "my.s3.bucket"),
        ("my-bucket.s3.dualstack.us-east-1.amazonaws.com", "my-bucket"),
        ("ap-000000000000.s3-accesspoint.us-east-1.amazonaws.com", None),
        ("bucket.s3.my-overcast.internal:4566", "bucket"),
        ("sqs.us-east-1.amazonaws.com", None),
        ("overcast.internal:4566", None),
        ("", None),
    ],
)
def test_bucket_from_host(host: str, bucket: str | None) -> None:
    assert bucket_from_host(host) == bucket


def test_virtual_host_request_names_its_bucket() -> None:
    from botocore.config import Config

    s3 = make_client(
        "s3", endpoint="http://localhost:4566", config=Config(s3={"addressing_style": "virtual"})
    )
    req = capture(s3, "get_object", Bucket="photos", Key="cat.png")
    assert req.headers["host"] == "photos.localhost:4566" and req.path == "/cat.png"
    d = detect(req)
    assert (d.service, d.s3_bucket_host) == ("s3", "photos")
    _assert_verified(req)


def test_path_style_s3_names_no_bucket_host() -> None:
    req = capture(make_client("s3"), "get_object", Bucket="photos", Key="cat.png")
    assert detect(req).s3_bucket_host is None


# -- host prefixes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "operation", "params", "prefix"),
    [
        (
            "stepfunctions",
            "start_sync_execution",
            {"stateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:m"},
            "sync-",
        ),
        ("stepfunctions", "test_state", {"definition": "{}"}, "sync-"),
        ("logs", "start_live_tail", {"logGroupIdentifiers": ["g"]}, "stream-"),
    ],
)
def test_host_prefixed_requests(service: str, operation: str, params: dict, prefix: str) -> None:
    client = make_client(service, endpoint="http://localhost:4566")
    req = capture(client, operation, **params)
    assert req.headers["host"].startswith(prefix)
    assert detect(req).service == service
    _assert_verified(req)


# -- what is not an AWS API call, and what cannot be routed --------------------------------------


@pytest.mark.parametrize(
    ("path", "host", "expected"),
    [
        ("/_overcast/health", "127.0.0.1:4566", True),
        ("/_aws/execute-api/abc/prod/items", "127.0.0.1:4566", True),
        ("/_aws/lambda-url/u1/", "127.0.0.1:4566", True),
        ("/prod/items", "abc123.execute-api.localhost:4566", True),
        ("/", "u1.lambda-url.us-east-1.localhost:4566", True),
        ("/", "127.0.0.1:4566", False),
        ("/my-bucket/_aws/x", "127.0.0.1:4566", False),
        ("/2015-03-31/functions", "127.0.0.1:4566", False),
    ],
)
def test_is_data_plane(path: str, host: str, expected: bool) -> None:
    assert is_data_plane(HttpRequest("GET", path, "", {"host": host})) is expected


def test_unknown_signing_name_is_refused() -> None:
    auth = (
        "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/nosuchservice/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=00"
    )
    req = HttpRequest("POST", "/", "", {"host": "h", "authorization": auth})
    with pytest.raises(UnrecognizedService) as info:
        detect(req)
    assert info.value.status == 400 and "nosuchservice" in info.value.message


def test_out_of_scope_service_is_named() -> None:
    # Overcast does not serve EC2, but it names it, so the error says which service is missing.
    req = capture(make_client("ec2"), "describe_instances")
    assert detect(req).service == "ec2"


def test_signed_request_for_api_gateway_management_api() -> None:
    client = make_client("apigatewaymanagementapi")
    req = capture(client, "post_to_connection", ConnectionId="c1", Data=b"hi")
    assert detect(req).service == "apigatewaymanagementapi"
