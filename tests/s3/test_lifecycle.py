"""Lifecycle rules, applied by the sweeper against a fake clock (provider called in-process)."""

from __future__ import annotations

import asyncio
import inspect
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from overcast.core.clock import FakeClock
from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.services.s3.lifecycle import due_after_days
from overcast.services.s3.provider import S3Provider
from overcast.store import Store

DAY = 86400.0
START = 1_700_000_000.0  # 2023-11-14T22:13:20Z


class Harness:
    def __init__(self, tmp: Path) -> None:
        self.clock = FakeClock(START)
        self.store = Store(tmp, durable=False)
        self.s3 = S3Provider(self.store, self.clock, None, free_grace=0)
        self.ctx = RequestContext(request_id="r")

    def __call__(self, op: str, **params: Any) -> dict[str, Any]:
        result = getattr(self.s3, op)(self.ctx, params)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        return dict(result)

    def keys(self, bucket: str) -> list[str]:
        return [o["Key"] for o in self("list_objects_v2", Bucket=bucket)["Contents"]]


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    harness = Harness(tmp_path)
    harness("create_bucket", Bucket="life")
    return harness


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (START, 1, 1_700_092_800.0),  # 2023-11-16T00:00Z: one day later, then next midnight
        (1_700_006_400.0, 1, 1_700_092_800.0),  # already midnight: exactly one day
        (START, 30, 1_702_598_400.0),  # 2023-12-15T00:00Z
    ],
)
def test_due_after_days(start: float, days: int, due: float) -> None:
    assert due_after_days(start, days) == due


def test_expiration_days_deletes_matching_objects(h: Harness) -> None:
    for key in ("logs/a", "logs/b", "keep/c"):
        h("put_object", Bucket="life", Key=key, Body=b"x")
    h(
        "put_object_tagging",
        Bucket="life",
        Key="keep/c",
        Tagging={"TagSet": [{"Key": "t", "Value": "1"}]},
    )
    h(
        "put_bucket_lifecycle_configuration",
        Bucket="life",
        LifecycleConfiguration={"Rules": [
            {"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 1}},
            {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}},
        ]},
    )  # fmt: skip
    assert h.s3.apply_lifecycle() == 0
    h.clock.advance(DAY)
    assert h.s3.apply_lifecycle() == 0  # not yet midnight after one day
    h.clock.advance(DAY)
    assert h.s3.apply_lifecycle() == 2
    assert h.keys("life") == ["keep/c"]


def test_expiration_in_versioned_bucket_adds_delete_marker_then_noncurrent_expires(
    h: Harness,
) -> None:
    h("put_bucket_versioning", Bucket="life", VersioningConfiguration={"Status": "Enabled"})
    h("put_object", Bucket="life", Key="k", Body=b"v1")
    h(
        "put_bucket_lifecycle_configuration",
        Bucket="life",
        LifecycleConfiguration={"Rules": [{
            "ID": "all", "Status": "Enabled", "Filter": {},
            "Expiration": {"Days": 1}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        }]},
    )  # fmt: skip
    h.clock.advance(2 * DAY)
    h.s3.apply_lifecycle()
    versions = h("list_object_versions", Bucket="life")
    assert len(versions["DeleteMarkers"]) == 1 and len(versions["Versions"]) == 1
    assert (
        "Contents" not in h("list_objects_v2", Bucket="life")
        or not h("list_objects_v2", Bucket="life")["Contents"]
    )
    h.clock.advance(2 * DAY)
    h.s3.apply_lifecycle()
    assert h("list_object_versions", Bucket="life")["Versions"] == []


def test_abort_incomplete_uploads(h: Harness) -> None:
    up = h("create_multipart_upload", Bucket="life", Key="big")
    h(
        "put_bucket_lifecycle_configuration",
        Bucket="life",
        LifecycleConfiguration={"Rules": [{"ID": "mpu", "Status": "Enabled", "Filter": {},
                                           "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]},
    )  # fmt: skip
    h.clock.advance(2 * DAY)
    assert h.s3.apply_lifecycle() == 1
    with pytest.raises(ServiceError) as exc:
        h("list_parts", Bucket="life", Key="big", UploadId=up["UploadId"])
    assert exc.value.code == "NoSuchUpload"


def test_date_expiration_and_round_trip(h: Harness) -> None:
    when = datetime(2023, 11, 20, tzinfo=UTC)
    h("put_object", Bucket="life", Key="k", Body=b"x")
    h(
        "put_bucket_lifecycle_configuration",
        Bucket="life",
        LifecycleConfiguration={
            "Rules": [{"ID": "d", "Status": "Enabled", "Prefix": "", "Expiration": {"Date": when}}]
        },
    )
    got = h("get_bucket_lifecycle_configuration", Bucket="life")
    assert got["Rules"][0]["Expiration"]["Date"] == when
    h.clock.advance(when.timestamp() - START - 1)
    assert h.s3.apply_lifecycle() == 0
    h.clock.advance(1)
    assert h.s3.apply_lifecycle() == 1


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ({"ID": "x", "Status": "Maybe", "Filter": {}, "Expiration": {"Days": 1}}, "MalformedXML"),
        ({"ID": "x", "Status": "Enabled", "Filter": {}}, "InvalidRequest"),
        ({"ID": "x", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 0}}, "InvalidArgument"),
        ({"ID": "x", "Status": "Enabled", "Filter": {},
          "Expiration": {"Date": datetime(2024, 1, 1, 12, tzinfo=UTC)}}, "InvalidArgument"),
    ],
)  # fmt: skip
def test_invalid_rules(h: Harness, rule: dict[str, Any], code: str) -> None:
    with pytest.raises(ServiceError) as exc:
        h(
            "put_bucket_lifecycle_configuration",
            Bucket="life",
            LifecycleConfiguration={"Rules": [rule]},
        )
    assert exc.value.code == code


def test_lifecycle_through_boto3(s3: Any, bucket: str) -> None:
    rules = [
        {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 7}}
    ]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert got[0]["Expiration"] == {"Days": 7} and got[0]["Filter"] == {"Prefix": "tmp/"}
    s3.delete_bucket_lifecycle(Bucket=bucket)
    with pytest.raises(Exception) as exc:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert "NoSuchLifecycleConfiguration" in str(exc.value)
