"""Table-driven cases for the corners of the wire formats (routing twins, greedy keys, error
headers, flattened lists, CBOR, gzip, malformed input). One assertion per case."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

import cbor2
import orjson
import pytest
from botocore.model import ServiceModel

from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.core.http import FileBody, HttpRequest, HttpResponse
from overcast.protocol import get_codec
from overcast.protocol.query_codec import QueryCodec


def _req(
    method: str,
    path: str,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> HttpRequest:
    return HttpRequest(method, path, query, headers or {}, body)


def _ctx(method: str = "POST") -> RequestContext:
    return RequestContext("req-1", http=HttpRequest(method, "/"))


def _decode(service: str, req: HttpRequest, protocol: str | None = None) -> tuple[str, Any]:
    codec = get_codec(service, protocol)
    op, params = codec.decode(req)
    return op.name, params


# -- routing --------------------------------------------------------------------------------

ROUTES = [
    ("s3", _req("GET", "/bucket", "list-type=2&prefix=a"), "ListObjectsV2", {"Prefix": "a"}),
    ("s3", _req("GET", "/bucket", "prefix=a"), "ListObjects", {"Prefix": "a"}),
    ("s3", _req("GET", "/bucket/"), "ListObjects", {"Bucket": "bucket"}),
    ("s3", _req("GET", "/"), "ListBuckets", {}),
    ("s3", _req("POST", "/b/k", "uploads"), "CreateMultipartUpload", {"Key": "k"}),
    ("s3", _req("POST", "/b/k", "uploads="), "CreateMultipartUpload", {"Key": "k"}),
    ("s3", _req("GET", "/b", "uploads"), "ListMultipartUploads", {"Bucket": "b"}),
    ("s3", _req("GET", "/b/k", "uploadId=u1"), "ListParts", {"UploadId": "u1"}),
    ("s3", _req("GET", "/b/k"), "GetObject", {"Key": "k"}),
    ("s3", _req("PUT", "/b/k", "partNumber=2&uploadId=u"), "UploadPart", {"PartNumber": 2}),
    (
        "s3",
        _req("PUT", "/b/k", "partNumber=2&uploadId=u", {"x-amz-copy-source": "src/k"}),
        "UploadPartCopy",
        {"CopySource": "src/k"},
    ),
    ("s3", _req("PUT", "/b/k", "", {"x-amz-copy-source": "src/k"}), "CopyObject", {}),
    ("s3", _req("PUT", "/b/k", "", {}, b"data"), "PutObject", {"Body": b"data"}),
    ("s3", _req("DELETE", "/b/k", "uploadId=u"), "AbortMultipartUpload", {"UploadId": "u"}),
    ("s3", _req("DELETE", "/b/k"), "DeleteObject", {"Key": "k"}),
    ("s3", _req("GET", "/b", "versioning"), "GetBucketVersioning", {"Bucket": "b"}),
    ("s3", _req("GET", "/b", "lifecycle"), "GetBucketLifecycleConfiguration", {}),
    ("s3", _req("GET", "/b", "analytics&id=x"), "GetBucketAnalyticsConfiguration", {"Id": "x"}),
    ("s3", _req("GET", "/b", "analytics"), "ListBucketAnalyticsConfigurations", {}),
    ("s3", _req("HEAD", "/b"), "HeadBucket", {"Bucket": "b"}),
    ("s3", _req("HEAD", "/b/k"), "HeadObject", {"Key": "k"}),
    # greedy keys: spaces, unicode, '+', an encoded slash, a leading and a trailing slash
    ("s3", _req("GET", "/b/a%20b/c%2Bd+e"), "GetObject", {"Key": "a b/c+d+e"}),
    ("s3", _req("GET", "/b/%E2%82%AC/%F0%9F%98%80.txt"), "GetObject", {"Key": "€/😀.txt"}),
    ("s3", _req("GET", "/b/a%2Fb"), "GetObject", {"Key": "a/b"}),
    ("s3", _req("GET", "/b//lead"), "GetObject", {"Key": "/lead"}),
    ("s3", _req("GET", "/b//"), "GetObject", {"Key": "/"}),
    ("s3", _req("GET", "/b/dir/"), "GetObject", {"Key": "dir/"}),
    ("s3", _req("GET", "/b/%3F%23%25"), "GetObject", {"Key": "?#%"}),
    (
        "lambda",
        _req(
            "POST",
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af/invocations",
        ),
        "Invoke",
        {"FunctionName": "arn:aws:lambda:us-east-1:1:function:f"},
    ),
    ("lambda", _req("GET", "/2015-03-31/functions/"), "ListFunctions", {}),
    ("lambda", _req("GET", "/2015-03-31/functions"), "ListFunctions", {}),
    ("lambda", _req("GET", "/2015-03-31/functions/f"), "GetFunction", {"FunctionName": "f"}),
    (
        "lambda",
        _req("GET", "/2019-09-30/functions/f/provisioned-concurrency", "List=ALL"),
        "ListProvisionedConcurrencyConfigs",
        {},
    ),
    (
        "lambda",
        _req("GET", "/2019-09-30/functions/f/provisioned-concurrency", "Qualifier=1"),
        "GetProvisionedConcurrencyConfig",
        {"Qualifier": "1"},
    ),
    (
        "apigateway",
        _req("GET", "/restapis/a1/resources/r1/methods/GET"),
        "GetMethod",
        {"restApiId": "a1", "resourceId": "r1", "httpMethod": "GET"},
    ),
    ("apigateway", _req("POST", "/restapis", "mode=import"), "ImportRestApi", {}),
    ("apigateway", _req("POST", "/restapis", "", {}, b"{}"), "CreateRestApi", {}),
    (
        "sqs",
        _req("POST", "/", "", {"x-amz-target": "AmazonSQS.GetQueueUrl"}, b'{"QueueName":"q"}'),
        "GetQueueUrl",
        {"QueueName": "q"},
    ),
    (
        "sts",
        _req("POST", "/", "", {}, b"Action=GetCallerIdentity&Version=2011-06-15"),
        "GetCallerIdentity",
        {},
    ),
    (
        "sts",
        _req("GET", "/", "Action=GetCallerIdentity&Version=2011-06-15"),
        "GetCallerIdentity",
        {},
    ),
    (
        "cloudwatch",
        _req(
            "POST", "/service/GraniteServiceVersion20100801/operation/ListMetrics", "", {}, b"\xa0"
        ),
        "ListMetrics",
        {},
    ),
]


@pytest.mark.parametrize(("service", "req", "op", "subset"), ROUTES, ids=lambda v: repr(v)[:60])
def test_routing(service: str, req: HttpRequest, op: str, subset: dict[str, Any]) -> None:
    protocol = "smithy-rpc-v2-cbor" if req.path.startswith("/service/") else None
    name, params = _decode(service, req, protocol)
    assert (name, {k: params.get(k) for k in subset}) == (op, subset)


NO_ROUTE = [
    ("s3", _req("PATCH", "/b/k"), "MethodNotAllowed", 405),
    ("lambda", _req("GET", "/nope"), "UnknownOperationException", 404),
    (
        "sqs",
        _req("POST", "/", "", {"x-amz-target": "AmazonSQS.Nope"}),
        "UnknownOperationException",
        400,
    ),
    ("sts", _req("POST", "/", "", {}, b"Action=Nope"), "InvalidAction", 400),
    ("sts", _req("POST", "/", "", {}, b"Version=1"), "MissingAction", 400),
]


@pytest.mark.parametrize(("service", "req", "code", "status"), NO_ROUTE, ids=lambda v: repr(v)[:60])
def test_no_route(service: str, req: HttpRequest, code: str, status: int) -> None:
    with pytest.raises(ServiceError) as info:
        get_codec(service).match(req)
    assert (info.value.code, info.value.status) == (code, status)


# -- request parsing ------------------------------------------------------------------------


def test_s3_put_object_headers_and_metadata() -> None:
    req = _req(
        "PUT",
        "/b/k",
        "",
        {
            "content-type": "text/plain",
            "x-amz-meta-color": "blue",
            "x-amz-meta-shape": "round",
            "content-length": "4",
            "x-amz-object-lock-retain-until-date": "2030-01-02T03:04:05Z",
            "if-match": '"e"',
        },
        b"data",
    )
    _, params = _decode("s3", req)
    assert params == {
        "Bucket": "b",
        "Key": "k",
        "Body": b"data",
        "ContentType": "text/plain",
        "ContentLength": 4,
        "Metadata": {"color": "blue", "shape": "round"},
        "ObjectLockRetainUntilDate": datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        "IfMatch": '"e"',
    }


def test_s3_header_list_with_quotes() -> None:
    req = _req("GET", "/b/k", "attributes", {"x-amz-object-attributes": 'ETag, "a,b", "c\\"d"'})
    _, params = _decode("s3", req)
    assert params["ObjectAttributes"] == ["ETag", "a,b", 'c"d']


def test_s3_xml_payload_with_namespace_and_attribute() -> None:
    body = (
        b'<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<AccessControlList><Grant>"
        b'<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">'
        b"<ID>abc</ID></Grantee><Permission>READ</Permission></Grant></AccessControlList>"
        b"<Owner><ID>abc</ID></Owner></AccessControlPolicy>"
    )
    _, params = _decode("s3", _req("PUT", "/b", "acl", {}, body))
    assert params["AccessControlPolicy"] == {
        "Grants": [{"Grantee": {"ID": "abc", "Type": "CanonicalUser"}, "Permission": "READ"}],
        "Owner": {"ID": "abc"},
    }


def test_s3_delete_objects_flattened_list() -> None:
    body = b"<Delete><Object><Key>a</Key></Object><Object><Key>b</Key></Object><Quiet>true</Quiet></Delete>"
    _, params = _decode("s3", _req("POST", "/b", "delete", {}, body))
    assert params["Delete"] == {"Objects": [{"Key": "a"}, {"Key": "b"}], "Quiet": True}


def test_sns_query_map_and_lists() -> None:
    body = (
        b"Action=Publish&Version=2010-03-31&TopicArn=arn%3At&Message=hi+there"
        b"&MessageAttributes.entry.1.Name=color"
        b"&MessageAttributes.entry.1.Value.DataType=String"
        b"&MessageAttributes.entry.1.Value.StringValue=blue"
        b"&MessageAttributes.entry.2.Name=bin"
        b"&MessageAttributes.entry.2.Value.DataType=Binary"
        b"&MessageAttributes.entry.2.Value.BinaryValue=AAE%3D"
    )
    _, params = _decode("sns", _req("POST", "/", "", {}, body))
    assert params == {
        "TopicArn": "arn:t",
        "Message": "hi there",
        "MessageAttributes": {
            "color": {"DataType": "String", "StringValue": "blue"},
            "bin": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    }


def test_query_member_lists_in_index_order() -> None:
    body = (
        b"Action=CreateStack&Version=2010-05-15&StackName=s"
        b"&Capabilities.member.2=CAPABILITY_IAM&Capabilities.member.1=CAPABILITY_AUTO_EXPAND"
        b"&Parameters.member.10.ParameterKey=k10&Parameters.member.2.ParameterKey=k2"
        b"&NotificationARNs="
    )
    _, params = _decode("cloudformation", _req("POST", "/", "", {}, body))
    assert (params["Capabilities"], params["Parameters"], params["NotificationARNs"]) == (
        ["CAPABILITY_AUTO_EXPAND", "CAPABILITY_IAM"],
        [{"ParameterKey": "k2"}, {"ParameterKey": "k10"}],
        [],
    )


_FLAT_MODEL = {
    "metadata": {
        "apiVersion": "2020-01-01",
        "protocol": "query",
        "xmlNamespace": "http://example.com/doc/",
    },
    "operations": {
        "Put": {
            "name": "Put",
            "http": {"method": "POST", "requestUri": "/"},
            "input": {"shape": "PutInput"},
            "output": {"shape": "PutOutput", "resultWrapper": "PutResult"},
        }
    },
    "shapes": {
        "PutInput": {
            "type": "structure",
            "members": {
                "Names": {"shape": "Names", "flattened": True, "locationName": "Name"},
                "Attrs": {"shape": "Attrs", "flattened": True, "locationName": "Attribute"},
            },
        },
        "PutOutput": {
            "type": "structure",
            "members": {
                "Names": {"shape": "Names", "flattened": True, "locationName": "Name"},
                "Attrs": {"shape": "Attrs", "flattened": True, "locationName": "Attribute"},
            },
        },
        "Names": {"type": "list", "member": {"shape": "String", "locationName": "Name"}},
        "Attrs": {
            "type": "map",
            "key": {"shape": "String", "locationName": "Key"},
            "value": {"shape": "String", "locationName": "Value"},
        },
        "String": {"type": "string"},
    },
}


def test_query_flattened_list_and_map() -> None:
    codec = QueryCodec("flat-test", ServiceModel(_FLAT_MODEL, "flat-test"))
    body = (
        b"Action=Put&Version=2020-01-01&Name.1=a&Name.2=b"
        b"&Attribute.1.Key=k1&Attribute.1.Value=v1&Attribute.2.Key=k2&Attribute.2.Value=v2"
    )
    _, params = codec.decode(_req("POST", "/", "", {}, body))
    assert params == {"Names": ["a", "b"], "Attrs": {"k1": "v1", "k2": "v2"}}


def test_query_flattened_output() -> None:
    codec = QueryCodec("flat-test", ServiceModel(_FLAT_MODEL, "flat-test"))
    op = codec.model.operation_model("Put")
    resp = codec.serialize(op, {"Names": ["a", "b"], "Attrs": {"k": "v"}}, _ctx())
    assert resp.body == (
        b'<?xml version="1.0" encoding="UTF-8"?><PutResponse xmlns="http://example.com/doc/">'
        b"<PutResult><Name>a</Name><Name>b</Name><Attribute><Key>k</Key><Value>v</Value>"
        b"</Attribute></PutResult><ResponseMetadata><RequestId>req-1</RequestId>"
        b"</ResponseMetadata></PutResponse>"
    )


def test_cloudwatch_cbor_request() -> None:
    body = cbor2.dumps(
        {
            "Namespace": "app",
            "MetricData": [
                {
                    "MetricName": "m",
                    "Value": 1.5,
                    "Timestamp": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
                    "Dimensions": [{"Name": "d", "Value": "v"}],
                }
            ],
        },
        datetime_as_timestamp=True,
    )
    req = _req(
        "POST",
        "/service/GraniteServiceVersion20100801/operation/PutMetricData",
        "",
        {"smithy-protocol": "rpc-v2-cbor", "content-type": "application/cbor"},
        body,
    )
    _, params = _decode("cloudwatch", req, "smithy-rpc-v2-cbor")
    assert params["MetricData"][0] == {
        "MetricName": "m",
        "Value": 1.5,
        "Timestamp": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        "Dimensions": [{"Name": "d", "Value": "v"}],
    }


def test_cloudwatch_cbor_response_uses_tag_1_timestamps() -> None:
    codec = get_codec("cloudwatch", "smithy-rpc-v2-cbor")
    op = codec.model.operation_model("GetMetricData")
    when = datetime(2024, 1, 2, 3, 4, 5, 250000, tzinfo=UTC)
    resp = codec.serialize(op, {"MetricDataResults": [{"Id": "a", "Timestamps": [when]}]}, _ctx())
    assert isinstance(resp.body, bytes)
    decoded = cbor2.loads(resp.body)
    assert (resp.header("smithy-protocol"), decoded["MetricDataResults"][0]["Timestamps"]) == (
        "rpc-v2-cbor",
        [when],
    )


@pytest.mark.parametrize("protocol", ["query", "json", "smithy-rpc-v2-cbor"])
def test_gzip_bodies_are_decompressed(protocol: str) -> None:
    codec = get_codec("cloudwatch", protocol)
    if protocol == "query":
        raw = (
            b"Action=PutMetricData&Version=2010-08-01&Namespace=ns&MetricData.member.1.MetricName=m"
        )
        headers = {}
        path = "/"
    elif protocol == "json":
        raw = orjson.dumps({"Namespace": "ns", "MetricData": [{"MetricName": "m"}]})
        headers = {"x-amz-target": "GraniteServiceVersion20100801.PutMetricData"}
        path = "/"
    else:
        raw = cbor2.dumps({"Namespace": "ns", "MetricData": [{"MetricName": "m"}]})
        headers = {}
        path = "/service/GraniteServiceVersion20100801/operation/PutMetricData"
    headers["content-encoding"] = "gzip"
    _, params = codec.decode(_req("POST", path, "", headers, gzip.compress(raw)))
    assert params == {"Namespace": "ns", "MetricData": [{"MetricName": "m"}]}


MALFORMED = [
    (
        "dynamodb",
        None,
        _req("POST", "/", "", {"x-amz-target": "DynamoDB_20120810.GetItem"}, b"{nope"),
        "SerializationException",
    ),
    (
        "dynamodb",
        None,
        _req("POST", "/", "", {"x-amz-target": "DynamoDB_20120810.GetItem"}, b'{"TableName": 5}'),
        "SerializationException",
    ),
    ("s3", None, _req("PUT", "/b", "versioning", {}, b"<VersioningConfiguration>"), "MalformedXML"),
    ("s3", None, _req("GET", "/b/k", "partNumber=x"), "InvalidArgument"),
    (
        "iam",
        None,
        _req("POST", "/", "", {}, b"Action=ListRoles&Version=2010-05-08&MaxItems=x"),
        "ValidationError",
    ),
    (
        "sns",
        None,
        _req("POST", "/", "", {}, b"Action=ListTopics&Version=2010-03-31&NextToken.1=x"),
        "InvalidParameter",
    ),
    (
        "lambda",
        None,
        _req("POST", "/2015-03-31/functions", "", {}, b"[1"),
        "InvalidRequestContentException",
    ),
    (
        "cloudwatch",
        "smithy-rpc-v2-cbor",
        _req("POST", "/service/X/operation/ListMetrics", "", {}, b"\xff\xff"),
        "SerializationException",
    ),
    (
        "cloudwatch",
        "json",
        _req(
            "POST",
            "/",
            "",
            {"x-amz-target": "X.ListMetrics", "content-encoding": "gzip"},
            b"not gzip",
        ),
        "SerializationException",
    ),
]


@pytest.mark.parametrize(
    ("service", "protocol", "req", "code"), MALFORMED, ids=lambda v: repr(v)[:50]
)
def test_malformed_requests(
    service: str, protocol: str | None, req: HttpRequest, code: str
) -> None:
    with pytest.raises(ServiceError) as info:
        _decode(service, req, protocol)
    assert (info.value.code, info.value.status) == (code, 400)


# -- responses --------------------------------------------------------------------------------


def test_s3_head_error_has_no_body() -> None:
    codec = get_codec("s3")
    op = codec.model.operation_model("HeadObject")
    resp = codec.serialize_error(
        op, ServiceError("Not Found", code="NoSuchKey", status=404), _ctx("HEAD")
    )
    assert (resp.status, resp.body, resp.header("x-amz-request-id")) == (404, b"", "req-1")


def test_s3_error_document() -> None:
    codec = get_codec("s3")
    op = codec.model.operation_model("GetObject")
    err = ServiceError(
        "The specified key does not exist.", code="NoSuchKey", status=404, fields={"Key": "a<b"}
    )
    resp = codec.serialize_error(op, err, _ctx("GET"))
    assert isinstance(resp.body, bytes)
    root = ElementTree.fromstring(resp.body)
    assert [(c.tag, c.text) for c in root][:4] == [
        ("Code", "NoSuchKey"),
        ("Message", "The specified key does not exist."),
        ("Key", "a<b"),
        ("RequestId", "req-1"),
    ]


ERROR_HEADERS = [
    # SQS speaks JSON but keeps its query codes: botocore needs x-amzn-query-error to raise the class
    (
        "sqs",
        "QueueDoesNotExist",
        "x-amzn-query-error",
        "AWS.SimpleQueueService.NonExistentQueue;Sender",
    ),
    (
        "sqs",
        "AWS.SimpleQueueService.NonExistentQueue",
        "x-amzn-query-error",
        "AWS.SimpleQueueService.NonExistentQueue;Sender",
    ),
    ("sqs", "QueueDoesNotExist", "x-amzn-ErrorType", "QueueDoesNotExist"),
    ("sqs", "InvalidParameterValue", "x-amzn-query-error", "InvalidParameterValue;Sender"),
    ("dynamodb", "ResourceNotFoundException", "x-amzn-ErrorType", "ResourceNotFoundException"),
    ("dynamodb", "ResourceNotFoundException", "x-amzn-query-error", None),
    ("lambda", "ResourceNotFoundException", "x-amzn-ErrorType", "ResourceNotFoundException"),
    ("s3", "NoSuchBucket", "x-amz-id-2", "DERIVED"),
    ("s3", "NoSuchBucket", "x-amzn-RequestId", None),
]


@pytest.mark.parametrize(("service", "code", "header", "value"), ERROR_HEADERS)
def test_error_headers(service: str, code: str, header: str, value: str | None) -> None:
    codec = get_codec(service)
    resp = codec.serialize_error(None, ServiceError("m", code=code), _ctx())
    got = resp.header(header)
    assert got is not None if value == "DERIVED" else got == value


ERROR_STATUS = [
    ("sqs", ServiceError("m", code="QueueDoesNotExist"), 400),
    ("sqs", ServiceError("m", code="PurgeQueueInProgress"), 403),
    ("iam", ServiceError("m", code="NoSuchEntity"), 404),
    ("iam", ServiceError("m", code="NoSuchEntityException"), 404),
    ("iam", ServiceError("m", code="NoSuchEntity", status=409), 409),
    ("cloudwatch", ServiceError("m", code="ResourceNotFound"), 404),
]


@pytest.mark.parametrize(("service", "err", "status"), ERROR_STATUS, ids=lambda v: repr(v)[:50])
def test_error_status_comes_from_the_model_unless_given(
    service: str, err: ServiceError, status: int
) -> None:
    assert get_codec(service).serialize_error(None, err, _ctx()).status == status


def test_query_error_document() -> None:
    codec = get_codec("iam")
    resp = codec.serialize_error(
        None, ServiceError("Role x not found", code="NoSuchEntityException"), _ctx()
    )
    assert resp.body == (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
        b"<Code>NoSuchEntity</Code><Message>Role x not found</Message></Error>"
        b"<RequestId>req-1</RequestId></ErrorResponse>"
    )


def test_json_error_document_and_fields() -> None:
    codec = get_codec("dynamodb")
    err = ServiceError(
        "Transaction cancelled",
        code="TransactionCanceledException",
        fields={"CancellationReasons": [{"Code": "ConditionalCheckFailed"}]},
    )
    resp = codec.serialize_error(None, err, _ctx())
    assert isinstance(resp.body, bytes)
    assert orjson.loads(resp.body) == {
        "__type": "TransactionCanceledException",
        "Message": "Transaction cancelled",
        "CancellationReasons": [{"Code": "ConditionalCheckFailed"}],
    }


def test_cbor_error_with_query_compatible_header() -> None:
    codec = get_codec("cloudwatch", "smithy-rpc-v2-cbor")
    resp = codec.serialize_error(None, ServiceError("gone", code="ResourceNotFound"), _ctx())
    assert isinstance(resp.body, bytes)
    assert (cbor2.loads(resp.body), resp.header("x-amzn-query-error"), resp.status) == (
        {"__type": "ResourceNotFound", "message": "gone"},
        "ResourceNotFound;Sender",
        404,
    )


def test_s3_get_object_passes_file_body_and_headers(tmp_path: Any) -> None:
    codec = get_codec("s3")
    op = codec.model.operation_model("GetObject")
    path = tmp_path / "blob"
    path.write_bytes(b"hello")
    body = FileBody(str(path), 0, 5)
    result = {
        "Body": body,
        "ContentLength": 5,
        "ContentType": "text/plain",
        "LastModified": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        "Metadata": {"color": "blue"},
        "ETag": '"e"',
    }
    resp = codec.serialize(op, result, _ctx("GET"))
    assert resp.body is body
    assert sorted(resp.headers) == sorted(
        [
            ("Content-Length", "5"),
            ("Content-Type", "text/plain"),
            ("Last-Modified", "Tue, 02 Jan 2024 03:04:05 GMT"),
            ("x-amz-meta-color", "blue"),
            ("ETag", '"e"'),
            ("x-amz-request-id", "req-1"),
            ("x-amz-id-2", resp.header("x-amz-id-2")),
        ]
    )


def test_s3_get_bucket_location_root_text() -> None:
    codec = get_codec("s3")
    op = codec.model.operation_model("GetBucketLocation")
    resp = codec.serialize(op, {"LocationConstraint": "eu-west-1"}, _ctx("GET"))
    assert resp.body == (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">eu-west-1'
        b"</LocationConstraint>"
    )


def test_s3_list_objects_v2_document() -> None:
    codec = get_codec("s3")
    op = codec.model.operation_model("ListObjectsV2")
    result = {
        "Name": "b",
        "KeyCount": 1,
        "IsTruncated": False,
        "Contents": [{"Key": "a&b", "Size": 3, "LastModified": 1704164645.5, "ETag": '"x"'}],
        "CommonPrefixes": [{"Prefix": "p/"}],
    }
    resp = codec.serialize(op, result, _ctx("GET"))
    assert resp.body == (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name>'
        b"<KeyCount>1</KeyCount><IsTruncated>false</IsTruncated><Contents><Key>a&amp;b</Key>"
        b"<Size>3</Size><LastModified>2024-01-02T03:04:05.500Z</LastModified>"
        b"<ETag>&quot;x&quot;</ETag></Contents><CommonPrefixes><Prefix>p/</Prefix>"
        b"</CommonPrefixes></ListBucketResult>"
    )


def test_lambda_invoke_status_headers_and_raw_payload() -> None:
    codec = get_codec("lambda")
    op = codec.model.operation_model("Invoke")
    result = {
        "StatusCode": 200,
        "FunctionError": "Unhandled",
        "Payload": b'{"a":1}',
        "ExecutedVersion": "$LATEST",
    }
    resp = codec.serialize(op, result, _ctx())
    assert (resp.status, resp.header("X-Amz-Function-Error"), resp.body) == (
        200,
        "Unhandled",
        b'{"a":1}',
    )


def test_rest_json_default_response_code_and_empty_body() -> None:
    codec = get_codec("lambda")
    resp = codec.serialize(codec.model.operation_model("DeleteAlias"), {}, _ctx())
    assert (resp.status, resp.body) == (204, b"")


def test_context_overrides_status_and_adds_headers() -> None:
    codec = get_codec("sqs")
    ctx = _ctx()
    ctx.response_status = 202
    ctx.response_headers["Access-Control-Allow-Origin"] = "*"
    resp = codec.serialize(codec.model.operation_model("ListQueues"), {"QueueUrls": []}, ctx)
    assert (
        resp.status,
        resp.header("access-control-allow-origin"),
        resp.header("x-amzn-requestid"),
    ) == (
        202,
        "*",
        "req-1",
    )


CONTENT_TYPES = [
    ("sqs", None, "ListQueues", "application/x-amz-json-1.0"),
    ("logs", None, "DescribeLogGroups", "application/x-amz-json-1.1"),
    ("lambda", None, "ListFunctions", "application/json"),
    ("s3", None, "ListBuckets", "application/xml"),
    ("sts", None, "GetCallerIdentity", "text/xml"),
    ("cloudwatch", "smithy-rpc-v2-cbor", "ListMetrics", "application/cbor"),
    ("cloudwatch", "json", "ListMetrics", "application/x-amz-json-1.0"),
    ("cloudwatch", "query", "ListMetrics", "text/xml"),
]


@pytest.mark.parametrize(("service", "protocol", "op", "content_type"), CONTENT_TYPES)
def test_content_types(service: str, protocol: str | None, op: str, content_type: str) -> None:
    codec = get_codec(service, protocol)
    resp = codec.serialize(codec.model.operation_model(op), {}, _ctx())
    assert resp.header("content-type") == content_type


def test_json_timestamps_are_epoch_seconds() -> None:
    codec = get_codec("sqs")
    op = codec.model.operation_model("ListMessageMoveTasks")
    resp: HttpResponse = codec.serialize(op, {"Results": [{"StartedTimestamp": 5}]}, _ctx())
    assert isinstance(resp.body, bytes)
    assert orjson.loads(resp.body) == {"Results": [{"StartedTimestamp": 5}]}


def test_codec_is_cached_and_default_protocol() -> None:
    assert (
        get_codec("cloudwatch") is get_codec("cloudwatch"),
        get_codec("cloudwatch").protocol,
    ) == (
        True,
        "json",
    )


def test_unlisted_protocol_is_refused() -> None:
    with pytest.raises(ValueError):
        get_codec("sqs", "query")


def test_s3_gzip_object_body_is_kept_as_sent() -> None:
    packed = gzip.compress(b"hello")
    req = _req("PUT", "/b/k.gz", "", {"content-encoding": "gzip"}, packed)
    _, params = _decode("s3", req)
    assert (params["Body"], params["ContentEncoding"]) == (packed, "gzip")
