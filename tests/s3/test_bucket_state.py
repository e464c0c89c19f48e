"""Bucket state read on the request path (the bucket, its versioning, encryption, policy,
notification and CORS configuration) is cached: every change is seen by the next request, and
events are still written for exactly the writes a notification configuration selects."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from tests.conftest import Server
from tests.lambda_.helpers import create, log_messages, wait_for

RECORDER = "import json\ndef handler(event, context):\n    print('RECORD ' + json.dumps(event))\n"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_bucket_creation_and_deletion_reach_the_next_write(s3: Any) -> None:
    name = f"state-{uuid.uuid4().hex[:16]}"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=name, Key="k", Body=b"x")
    assert code(exc) == "NoSuchBucket"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=name, Key="k", Body=b"x")
    assert code(exc) == "NoSuchBucket"
    with pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket=name)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_versioning_changes_reach_the_next_write(s3: Any, bucket: str) -> None:
    assert "VersionId" not in s3.put_object(Bucket=bucket, Key="k", Body=b"0")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"1")["VersionId"]
    assert first != "null"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.put_object(Bucket=bucket, Key="k", Body=b"2")["VersionId"] == "null"
    s3.put_object(Bucket=bucket, Key="k", Body=b"3")  # replaces the null version only
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [
        ("null", True),
        (first, False),
    ]
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"3"


def test_default_encryption_changes_reach_the_next_write(s3: Any, bucket: str) -> None:
    assert s3.put_object(Bucket=bucket, Key="a", Body=b"x")["ServerSideEncryption"] == "AES256"
    key_id = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {
            "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_id}}]},
    )  # fmt: skip
    out = s3.put_object(Bucket=bucket, Key="b", Body=b"x")
    assert (out["ServerSideEncryption"], out["SSEKMSKeyId"]) == ("aws:kms", key_id)
    assert s3.head_object(Bucket=bucket, Key="b")["ServerSideEncryption"] == "aws:kms"
    s3.delete_bucket_encryption(Bucket=bucket)
    out = s3.put_object(Bucket=bucket, Key="c", Body=b"x")
    assert out["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in out


def test_policy_changes_reach_the_next_request(s3: Any, client: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"mine")
    other = client("s3", aws_access_key_id="111122223333")
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}  # fmt: skip
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    assert other.get_object(Bucket=bucket, Key="k")["Body"].read() == b"mine"
    s3.delete_bucket_policy(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        other.get_object(Bucket=bucket, Key="k")
    assert code(exc) == "AccessDenied"


def test_cors_changes_reach_the_next_request(server: Server, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = f"{server.url}/{bucket}/k"
    headers = {"Origin": "https://example.com", "Access-Control-Request-Method": "GET"}
    assert requests.options(url, headers=headers, timeout=10).status_code == 403
    s3.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]},
    )
    resp = requests.options(url, headers=headers, timeout=10)
    assert resp.status_code == 200 and resp.headers["Access-Control-Allow-Origin"] == "*"
    s3.delete_bucket_cors(Bucket=bucket)
    assert requests.options(url, headers=headers, timeout=10).status_code == 403


def _events(logs: Any, name: str) -> list[dict[str, Any]]:
    out = []
    for message in log_messages(logs, f"/aws/lambda/{name}", "RECORD"):
        out += json.loads(message.split("RECORD ", 1)[1])["Records"]
    return out


def test_notifications_follow_the_configuration(client: Any, bucket: str) -> None:
    """Events for the writes made while a configuration selects them, and only those; for one
    key, each event's sequencer is greater than the one before."""
    s3, lam, logs = client("s3"), client("lambda"), client("logs")
    recorder = create(lam, {"app.py": RECORDER})
    arn = lam.get_function(FunctionName=recorder)["Configuration"]["FunctionArn"]
    config = {"LambdaFunctionConfigurations": [{
        "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}}}]}  # fmt: skip
    s3.put_object(Bucket=bucket, Key="in/before", Body=b"x")
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    s3.put_object(Bucket=bucket, Key="in/a", Body=b"1")
    s3.put_object(Bucket=bucket, Key="out/a", Body=b"1")
    s3.put_object(Bucket=bucket, Key="in/a", Body=b"22")
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    s3.put_object(Bucket=bucket, Key="in/between", Body=b"x")
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    s3.put_object(Bucket=bucket, Key="in/last", Body=b"333")

    def delivered() -> list[dict[str, Any]]:
        events = _events(logs, recorder)
        return events if len(events) >= 3 else []

    events = wait_for(delivered)
    assert sorted((e["s3"]["object"]["key"], e["s3"]["object"]["size"]) for e in events) == [
        ("in/a", 1),
        ("in/a", 2),
        ("in/last", 3),
    ]
    assert {e["eventName"] for e in events} == {"ObjectCreated:Put"}
    first, second = sorted(
        (e for e in events if e["s3"]["object"]["key"] == "in/a"),
        key=lambda e: e["s3"]["object"]["size"],
    )
    assert second["s3"]["object"]["sequencer"] > first["s3"]["object"]["sequencer"]
