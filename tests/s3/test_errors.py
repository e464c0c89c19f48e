"""Error answers as S3 gives them, and event notifications written to the outbox."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from overcast.core.clock import FakeClock
from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.dispatch import Dispatcher, OperationTable
from overcast.services.s3.provider import S3Provider
from overcast.store import Store


def test_entity_too_large(tmp_path: Path) -> None:
    s3 = S3Provider(Store(tmp_path, durable=False), FakeClock(), None)
    ctx = RequestContext("r")
    asyncio.run(s3.create_bucket(ctx, {"Bucket": "big"}))
    with pytest.raises(ServiceError) as exc:
        asyncio.run(
            s3.put_object(
                ctx, {"Bucket": "big", "Key": "k", "Body": b"", "ContentLength": 5 * 1024**3 + 1}
            )
        )
    assert exc.value.code == "EntityTooLarge" and exc.value.status == 400
    assert exc.value.fields["MaxSizeAllowed"] == str(5 * 1024**3)


def test_method_not_allowed(server: Any, bucket: str) -> None:
    req = urllib.request.Request(f"{server.url}/{bucket}/key", data=b"x", method="PATCH")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req)
    body = exc.value.read().decode()
    assert exc.value.code == 405 and "<Code>MethodNotAllowed</Code>" in body
    assert "<RequestId>" in body and "<HostId>" in body


def test_invalid_arguments(s3: Any, bucket: str) -> None:
    up = s3.create_multipart_upload(Bucket=bucket, Key="k")
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=up["UploadId"], PartNumber=10001, Body=b"x")
    assert exc.value.response["Error"]["Code"] == "InvalidArgument"
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="k",
            UploadId="nope",
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": "x"}]},
        )
    assert exc.value.response["Error"]["Code"] == "NoSuchUpload"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_notifications_are_enqueued_with_the_change(tmp_path: Path) -> None:
    store = Store(tmp_path, durable=False)
    clock = FakeClock()
    dispatcher = Dispatcher(OperationTable(), store, clock)
    s3 = S3Provider(store, clock, dispatcher)
    ctx = RequestContext("r")
    asyncio.run(s3.create_bucket(ctx, {"Bucket": "events"}))
    s3.put_bucket_notification_configuration(ctx, {
        "Bucket": "events",
        "NotificationConfiguration": {
            "QueueConfigurations": [{
                "Id": "q", "QueueArn": "arn:aws:sqs:us-east-1:000000000000:uploads",
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".jpg"}]}},
            }],
            "EventBridgeConfiguration": {},
        },
    })  # fmt: skip
    asyncio.run(s3.put_object(ctx, {"Bucket": "events", "Key": "photo.jpg", "Body": b"img"}))
    asyncio.run(s3.put_object(ctx, {"Bucket": "events", "Key": "notes.txt", "Body": b"txt"}))
    pending = dispatcher.pending(s3.db)
    sqs = [d for d in pending if d.target.name == "sqs"]
    assert len(sqs) == 1
    record = json.loads(sqs[0].payload["MessageBody"])["Records"][0]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["object"]["key"] == "photo.jpg" and record["s3"]["configurationId"] == "q"
    assert sqs[0].payload["QueueUrl"].endswith("/000000000000/uploads")
    assert len([d for d in pending if d.target.name == "events"]) == 2
