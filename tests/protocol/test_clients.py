"""Real boto3 clients, with all their handlers (checksums, host prefixes, request compression,
S3 customisations, the SQS error-code handler), talking to our codecs through botocore's
`before-send` hook — no server, so each case shows exactly what crosses the wire."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError

from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.core.http import FileBody, HttpRequest
from overcast.protocol import get_codec

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class _Raw:
    """What botocore reads a response body from (urllib3's stream/read)."""

    def __init__(self, data: bytes) -> None:
        self._buf = io.BytesIO(data)

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[bytes]:
        yield self._buf.read()

    def read(self, amt: int | None = None, **kwargs: Any) -> bytes:
        return self._buf.read(amt)


class Wire:
    """Answers a boto3 client's requests through our codec and a table of fake operations."""

    def __init__(self, service: str, handlers: dict[str, Handler], protocol: str | None = None):
        self.service = service
        self.handlers = handlers
        self.protocol = protocol
        self.calls: list[tuple[str, dict[str, Any], HttpRequest]] = []

    def __call__(self, request: Any, **kwargs: Any) -> AWSResponse:
        url = urlsplit(request.url)
        body = request.body
        if body is None:
            body = b""
        elif isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, bytes | bytearray):
            body = body.read()
        headers = {
            k.lower(): v if isinstance(v, str) else v.decode() for k, v in request.headers.items()
        }
        headers["host"] = url.netloc
        req = HttpRequest(request.method, url.path, url.query, headers, bytes(body))
        codec = get_codec(self.service, self.protocol)
        ctx = RequestContext("req-42", http=req)
        op = None
        try:
            op = codec.match(req)
            params = codec.parse(op, req)
            self.calls.append((op.name, params, req))
            resp = codec.serialize(op, self.handlers[op.name](params), ctx)
        except ServiceError as err:
            resp = codec.serialize_error(op, err, ctx)
        data = resp.body
        if isinstance(data, FileBody):
            with open(data.path, "rb") as f:
                f.seek(data.offset)
                data = f.read(data.length) if data.length >= 0 else f.read()
        if request.method == "HEAD":
            data = b""
        return AWSResponse(request.url, resp.status, dict(resp.headers), _Raw(data))


def client(service: str, wire: Wire, **config: Any) -> Any:
    """A boto3 client whose requests go to `wire`."""
    c = boto3.client(
        service,
        endpoint_url="http://127.0.0.1:4566",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}, **config),
    )
    c.meta.events.register("before-send", wire)
    return c


def _raise(err: ServiceError) -> Handler:
    def handler(params: dict[str, Any]) -> dict[str, Any]:
        raise err

    return handler


# -- S3 -----------------------------------------------------------------------------------


def test_s3_put_object_with_checksum_and_metadata() -> None:
    wire = Wire("s3", {"PutObject": lambda p: {"ETag": '"abc"'}})
    s3 = client("s3", wire)
    out = s3.put_object(
        Bucket="bkt",
        Key="dir/a key €.txt",
        Body=b"hello",
        Metadata={"Color": "blue"},
        ContentType="text/plain",
    )
    name, params, _ = wire.calls[0]
    assert (
        name,
        params["Key"],
        params["Body"],
        params["Metadata"],
        params["ContentType"],
        out["ETag"],
    ) == (
        "PutObject",
        "dir/a key €.txt",
        b"hello",
        {"color": "blue"},
        "text/plain",
        '"abc"',
    )


def test_s3_get_object_streams_the_body_and_headers(tmp_path: Any) -> None:
    path = tmp_path / "obj"
    path.write_bytes(b"0123456789")
    modified = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    wire = Wire(
        "s3",
        {
            "GetObject": lambda p: {
                "Body": FileBody(str(path), 2, 5),
                "ContentLength": 5,
                "LastModified": modified,
                "Metadata": {"color": "blue"},
                "ContentType": "application/x-test",
            }
        },
    )
    out = client("s3", wire).get_object(Bucket="bkt", Key="k", Range="bytes=2-6")
    assert (out["Body"].read(), out["LastModified"], out["Metadata"], out["ContentType"]) == (
        b"23456",
        modified,
        {"color": "blue"},
        "application/x-test",
    )


def test_s3_head_object_missing_raises_404() -> None:
    wire = Wire(
        "s3", {"HeadObject": _raise(ServiceError("Not Found", code="NoSuchKey", status=404))}
    )
    with pytest.raises(ClientError) as info:
        client("s3", wire).head_object(Bucket="bkt", Key="nope")
    assert (
        info.value.response["Error"]["Code"],
        info.value.response["ResponseMetadata"]["RequestId"],
    ) == (
        "404",
        "req-42",
    )


def test_s3_get_object_missing_raises_no_such_key() -> None:
    wire = Wire(
        "s3",
        {
            "GetObject": _raise(
                ServiceError(
                    "The specified key does not exist.",
                    code="NoSuchKey",
                    status=404,
                    fields={"Key": "nope"},
                )
            )
        },
    )
    s3 = client("s3", wire)
    with pytest.raises(s3.exceptions.NoSuchKey) as info:
        s3.get_object(Bucket="bkt", Key="nope")
    assert info.value.response["Error"] == {
        "Code": "NoSuchKey",
        "Message": "The specified key does not exist.",
        "Key": "nope",
    }


def test_s3_list_objects_v2() -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    wire = Wire(
        "s3",
        {
            "ListObjectsV2": lambda p: {
                "Name": "bkt",
                "Prefix": p.get("Prefix"),
                "KeyCount": 2,
                "MaxKeys": p.get("MaxKeys", 1000),
                "IsTruncated": False,
                "Contents": [
                    {
                        "Key": "p/a",
                        "Size": 1,
                        "LastModified": when,
                        "ETag": '"1"',
                        "StorageClass": "STANDARD",
                    },
                    {
                        "Key": "p/b&c",
                        "Size": 2,
                        "LastModified": when,
                        "ETag": '"2"',
                        "StorageClass": "STANDARD",
                    },
                ],
                "CommonPrefixes": [{"Prefix": "p/d/"}],
            }
        },
    )
    out = client("s3", wire).list_objects_v2(Bucket="bkt", Prefix="p/", Delimiter="/", MaxKeys=10)
    # boto3 asks for url-encoded keys on its own (and decodes them in the result)
    assert wire.calls[0][1] == {
        "Bucket": "bkt",
        "Prefix": "p/",
        "Delimiter": "/",
        "MaxKeys": 10,
        "EncodingType": "url",
    }
    assert (
        [o["Key"] for o in out["Contents"]],
        out["Contents"][0]["LastModified"],
        out["CommonPrefixes"],
    ) == (
        ["p/a", "p/b&c"],
        when,
        [{"Prefix": "p/d/"}],
    )


def test_s3_create_bucket_and_location() -> None:
    wire = Wire(
        "s3",
        {
            "CreateBucket": lambda p: {"Location": "/bkt"},
            "GetBucketLocation": lambda p: {"LocationConstraint": "eu-west-1"},
        },
    )
    s3 = client("s3", wire)
    s3.create_bucket(Bucket="bkt", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert wire.calls[0][1]["CreateBucketConfiguration"] == {"LocationConstraint": "eu-west-1"}
    assert s3.get_bucket_location(Bucket="bkt")["LocationConstraint"] == "eu-west-1"


def test_s3_multipart_and_copy_routes() -> None:
    wire = Wire(
        "s3",
        {
            "CreateMultipartUpload": lambda p: {
                "Bucket": p["Bucket"],
                "Key": p["Key"],
                "UploadId": "u1",
            },
            "UploadPart": lambda p: {"ETag": '"p1"'},
            "UploadPartCopy": lambda p: {"CopyPartResult": {"ETag": '"p2"'}},
            "CompleteMultipartUpload": lambda p: {"Bucket": "bkt", "Key": "k", "ETag": '"all"'},
            "CopyObject": lambda p: {"CopyObjectResult": {"ETag": '"c"'}},
        },
    )
    s3 = client("s3", wire)
    upload = s3.create_multipart_upload(Bucket="bkt", Key="k")["UploadId"]
    s3.upload_part(Bucket="bkt", Key="k", UploadId=upload, PartNumber=1, Body=b"x" * 10)
    s3.upload_part_copy(
        Bucket="bkt",
        Key="k",
        UploadId=upload,
        PartNumber=2,
        CopySource={"Bucket": "src", "Key": "a b"},
    )
    done = s3.complete_multipart_upload(
        Bucket="bkt",
        Key="k",
        UploadId=upload,
        MultipartUpload={
            "Parts": [{"ETag": '"p1"', "PartNumber": 1}, {"ETag": '"p2"', "PartNumber": 2}]
        },
    )
    copied = s3.copy_object(Bucket="bkt", Key="k2", CopySource="src/a%20b")
    names = [c[0] for c in wire.calls]
    assert names == [
        "CreateMultipartUpload",
        "UploadPart",
        "UploadPartCopy",
        "CompleteMultipartUpload",
        "CopyObject",
    ]
    assert (
        wire.calls[2][1]["CopySource"],
        wire.calls[3][1]["MultipartUpload"]["Parts"][1],
        done["ETag"],
        copied["CopyObjectResult"]["ETag"],
    ) == (
        "src/a%20b",
        {"ETag": '"p2"', "PartNumber": 2},
        '"all"',
        '"c"',
    )


def test_s3_delete_objects_and_errors_in_result() -> None:
    wire = Wire(
        "s3",
        {
            "DeleteObjects": lambda p: {
                "Deleted": [{"Key": o["Key"]} for o in p["Delete"]["Objects"][:1]],
                "Errors": [{"Key": "b", "Code": "AccessDenied", "Message": "no"}],
            }
        },
    )
    out = client("s3", wire).delete_objects(
        Bucket="bkt", Delete={"Objects": [{"Key": "a"}, {"Key": "b"}]}
    )
    assert (out["Deleted"], out["Errors"]) == (
        [{"Key": "a"}],
        [{"Key": "b", "Code": "AccessDenied", "Message": "no"}],
    )


# -- JSON / query-compatible --------------------------------------------------------------


def test_sqs_query_compatible_error_raises_modelled_exception() -> None:
    wire = Wire(
        "sqs",
        {
            "GetQueueUrl": _raise(
                ServiceError("The specified queue does not exist.", code="QueueDoesNotExist")
            )
        },
    )
    sqs = client("sqs", wire)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as info:
        sqs.get_queue_url(QueueName="nope")
    assert info.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_sqs_send_and_receive_with_binary_attributes() -> None:
    wire = Wire(
        "sqs",
        {
            "SendMessage": lambda p: {"MessageId": "m1", "MD5OfMessageBody": "x"},
            "ReceiveMessage": lambda p: {
                "Messages": [
                    {
                        "MessageId": "m1",
                        "ReceiptHandle": "r",
                        "Body": "hi",
                        "MessageAttributes": {
                            "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}
                        },
                        "Attributes": {"SentTimestamp": "1"},
                    }
                ]
            },
        },
    )
    sqs = client("sqs", wire)
    sqs.send_message(
        QueueUrl="http://127.0.0.1:4566/000000000000/q",
        MessageBody="hi",
        MessageAttributes={"b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}},
    )
    got = sqs.receive_message(
        QueueUrl="http://127.0.0.1:4566/000000000000/q", MessageAttributeNames=["All"]
    )
    assert (
        wire.calls[0][1]["MessageAttributes"]["b"]["BinaryValue"],
        got["Messages"][0]["MessageAttributes"]["b"]["BinaryValue"],
    ) == (b"\x00\xff", b"\x00\xff")


def test_dynamodb_binary_and_numbers() -> None:
    item = {
        "pk": {"S": "a"},
        "n": {"N": "1.5"},
        "b": {"B": b"\x01\x02"},
        "l": {"L": [{"BS": [b"x"]}]},
    }
    wire = Wire("dynamodb", {"PutItem": lambda p: {}, "GetItem": lambda p: {"Item": item}})
    ddb = client("dynamodb", wire)
    ddb.put_item(TableName="t", Item=item)
    assert (
        wire.calls[0][1]["Item"],
        ddb.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"],
    ) == (item, item)


def test_dynamodb_modelled_error_members() -> None:
    err = ServiceError(
        "Transaction cancelled",
        code="TransactionCanceledException",
        fields={"CancellationReasons": [{"Code": "ConditionalCheckFailed", "Message": "nope"}]},
    )
    ddb = client("dynamodb", Wire("dynamodb", {"TransactWriteItems": _raise(err)}))
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as info:
        ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}}}}]
        )
    assert info.value.response["CancellationReasons"] == [
        {"Code": "ConditionalCheckFailed", "Message": "nope"}
    ]


def test_cloudwatch_compressed_put_metric_data() -> None:
    wire = Wire("cloudwatch", {"PutMetricData": lambda p: {}})
    cw = client("cloudwatch", wire)
    data = [
        {"MetricName": f"metric-{i:04d}", "Value": float(i), "Unit": "Count"} for i in range(400)
    ]
    cw.put_metric_data(Namespace="app", MetricData=data)
    _, params, req = wire.calls[0]
    assert (
        req.headers.get("content-encoding"),
        len(params["MetricData"]),
        params["MetricData"][399],
    ) == (
        "gzip",
        400,
        {"MetricName": "metric-0399", "Value": 399.0, "Unit": "Count"},
    )


def test_cloudwatch_resource_not_found_is_modelled() -> None:
    wire = Wire(
        "cloudwatch",
        {"GetDashboard": _raise(ServiceError("no dashboard", code="ResourceNotFound"))},
    )
    cw = client("cloudwatch", wire)
    with pytest.raises(cw.exceptions.ResourceNotFound):
        cw.get_dashboard(DashboardName="d")


def test_stepfunctions_host_prefixed_operation() -> None:
    wire = Wire(
        "stepfunctions",
        {
            "StartSyncExecution": lambda p: {
                "executionArn": "arn:x",
                "startDate": 1700000000.5,
                "stopDate": 1700000001,
                "status": "SUCCEEDED",
            }
        },
    )
    sfn = client("stepfunctions", wire, inject_host_prefix=True)
    out = sfn.start_sync_execution(stateMachineArn="arn:sm", input="{}")
    assert (wire.calls[0][2].headers["host"], out["startDate"]) == (
        "sync-127.0.0.1:4566",
        datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC),
    )


def test_lambda_invoke_payload_and_function_error() -> None:
    wire = Wire(
        "lambda",
        {
            "Invoke": lambda p: {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "Payload": p["Payload"][::-1],
                "LogResult": "bG9n",
            }
        },
    )
    out = client("lambda", wire).invoke(FunctionName="f", Payload=b'{"a": 1}', LogType="Tail")
    assert (
        wire.calls[0][1]["LogType"],
        out["StatusCode"],
        out["FunctionError"],
        out["Payload"].read(),
        out["LogResult"],
    ) == (
        "Tail",
        200,
        "Unhandled",
        b'}1 :"a"{',
        "bG9n",
    )


def test_lambda_modelled_error() -> None:
    lam = client(
        "lambda",
        Wire(
            "lambda",
            {
                "GetFunction": _raise(
                    ServiceError(
                        "Function not found: f", code="ResourceNotFoundException", status=404
                    )
                )
            },
        ),
    )
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as info:
        lam.get_function(FunctionName="f")
    assert info.value.response["Error"]["Message"] == "Function not found: f"


# -- query ----------------------------------------------------------------------------------


def test_sts_get_caller_identity() -> None:
    wire = Wire(
        "sts",
        {
            "GetCallerIdentity": lambda p: {
                "Account": "000000000000",
                "Arn": "arn:aws:iam::000000000000:root",
                "UserId": "AKIDEXAMPLE",
            }
        },
    )
    out = client("sts", wire).get_caller_identity()
    assert (out["Account"], out["ResponseMetadata"]["RequestId"]) == ("000000000000", "req-42")


def test_iam_error_by_query_code() -> None:
    iam = client(
        "iam",
        Wire(
            "iam",
            {
                "GetRole": _raise(
                    ServiceError("The role with name r cannot be found.", code="NoSuchEntity")
                )
            },
        ),
    )
    with pytest.raises(iam.exceptions.NoSuchEntityException) as info:
        iam.get_role(RoleName="r")
    assert (
        info.value.response["Error"]["Code"],
        info.value.response["ResponseMetadata"]["HTTPStatusCode"],
    ) == ("NoSuchEntity", 404)


def test_sns_publish_attributes_and_cloudformation_outputs() -> None:
    wire = Wire("sns", {"Publish": lambda p: {"MessageId": "m"}})
    client("sns", wire).publish(
        TopicArn="arn:t",
        Message="hi",
        MessageAttributes={"n": {"DataType": "Number", "StringValue": "1"}},
    )
    cfn_wire = Wire(
        "cloudformation",
        {
            "DescribeStacks": lambda p: {
                "Stacks": [
                    {
                        "StackName": "s",
                        "CreationTime": datetime(2024, 1, 1, tzinfo=UTC),
                        "StackStatus": "CREATE_COMPLETE",
                        "Outputs": [{"OutputKey": "Url", "OutputValue": "http://x"}],
                        "Tags": [],
                    }
                ]
            }
        },
    )
    stack = client("cloudformation", cfn_wire).describe_stacks(StackName="s")["Stacks"][0]
    assert (wire.calls[0][1]["MessageAttributes"], stack["Outputs"], stack["CreationTime"]) == (
        {"n": {"DataType": "Number", "StringValue": "1"}},
        [{"OutputKey": "Url", "OutputValue": "http://x"}],
        datetime(2024, 1, 1, tzinfo=UTC),
    )


def test_cloudformation_missing_stack_validation_error() -> None:
    cfn = client(
        "cloudformation",
        Wire(
            "cloudformation",
            {
                "DescribeStacks": _raise(
                    ServiceError("Stack with id s does not exist", code="ValidationError")
                )
            },
        ),
    )
    with pytest.raises(ClientError) as info:
        cfn.describe_stacks(StackName="s")
    assert info.value.response["Error"] == {
        "Type": "Sender",
        "Code": "ValidationError",
        "Message": "Stack with id s does not exist",
    }


def test_apigateway_export_blob_and_v2_routes() -> None:
    wire = Wire(
        "apigateway",
        {"GetExport": lambda p: {"contentType": "application/json", "body": b'{"openapi":"3"}'}},
    )
    out = client("apigateway", wire).get_export(
        restApiId="a", stageName="s", exportType="oas30", parameters={"extensions": "apigateway"}
    )
    assert (wire.calls[0][1]["parameters"], out["body"].read(), out["contentType"]) == (
        {"extensions": "apigateway"},
        b'{"openapi":"3"}',
        "application/json",
    )


# -- event streams ------------------------------------------------------------------------


def test_lambda_invoke_with_response_stream() -> None:
    events = [
        {"PayloadChunk": {"Payload": b"hello "}},
        {"PayloadChunk": {"Payload": b"world"}},
        {"InvokeComplete": {"LogResult": "bG9n"}},
    ]
    wire = Wire(
        "lambda", {"InvokeWithResponseStream": lambda p: {"StatusCode": 200, "EventStream": events}}
    )
    out = client("lambda", wire).invoke_with_response_stream(FunctionName="f", Payload=b"{}")
    assert (out["StatusCode"], list(out["EventStream"])) == (200, events)


def test_logs_live_tail_events_and_stream_exception() -> None:
    start = {"sessionStart": {"requestId": "r", "sessionId": "s", "logGroupIdentifiers": ["g"]}}
    failure = {"SessionTimeoutException": {"message": "session ended"}}
    wire = Wire("logs", {"StartLiveTail": lambda p: {"responseStream": [start, failure]}})
    logs = client("logs", wire)
    stream = logs.start_live_tail(logGroupIdentifiers=["g"])["responseStream"]
    got = []
    with pytest.raises(Exception) as info:
        for event in stream:
            got.append(event)
    assert (got, info.value.response["Error"]) == (  # type: ignore[attr-defined]
        [start],
        {"Code": "SessionTimeoutException", "Message": "session ended"},
    )
