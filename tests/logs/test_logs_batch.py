"""The internal PutLogEventsBatch (Lambda's log writer): several streams in one transaction, a
failed batch not stopping the others; and it is not reachable from outside."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from overcast.core.clock import SystemClock
from overcast.core.context import RequestContext
from overcast.services.logs.provider import LogsProvider
from overcast.store import Store


def test_batch_writes_streams_and_reports_failures(tmp_path: Path) -> None:
    logs = LogsProvider(Store(tmp_path), SystemClock())
    ctx = RequestContext(
        request_id="r", account_id="000000000000", region="us-east-1", internal=True
    )
    logs.create_log_group(ctx, {"logGroupName": "g"})
    for s in ("a", "b"):
        logs.create_log_stream(ctx, {"logGroupName": "g", "logStreamName": s})
    now = int(time.time() * 1000)

    def batch(stream: str, *messages: str) -> dict[str, Any]:
        events = [{"timestamp": now + i, "message": m} for i, m in enumerate(messages)]
        return {"logGroupName": "g", "logStreamName": stream, "logEvents": events}

    out = logs.put_log_events_batch(
        ctx, {"batches": [batch("a", "1", "2"), batch("missing", "x"), batch("b", "3")]}
    )
    results = out["results"]
    assert "nextSequenceToken" in results[0] and "nextSequenceToken" in results[2]
    assert results[1]["errorCode"] == "ResourceNotFoundException"
    got = logs.filter_log_events(ctx, {"logGroupName": "g"})["events"]
    assert sorted((e["logStreamName"], e["message"]) for e in got) == [
        ("a", "1"),
        ("a", "2"),
        ("b", "3"),
    ]


def test_batch_is_not_reachable_from_outside(server: Any) -> None:
    body = b'{"batches": []}'
    req = AWSRequest(
        method="POST",
        url=server.url + "/",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "Logs_20140328.PutLogEventsBatch",
        },
    )
    SigV4Auth(Credentials("test", "test"), "logs", "us-east-1").add_auth(req)
    http = urllib.request.Request(server.url + "/", data=body, headers=dict(req.headers.items()))
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(http, timeout=10)
    assert err.value.code >= 400
