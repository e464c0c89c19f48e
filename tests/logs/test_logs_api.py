"""CloudWatch Logs through boto3 and the aws CLI."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest


def group_name() -> str:
    return f"/test/{uuid.uuid4().hex[:10]}"


def now_ms() -> int:
    return int(time.time() * 1000)


def test_groups_and_streams_crud_and_paging(client: Any) -> None:
    logs = client("logs")
    prefix = group_name()
    for i in range(3):
        logs.create_log_group(logGroupName=f"{prefix}/g{i}", tags={"i": str(i)})
    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=f"{prefix}/g0")
    names: list[str] = []
    for page in logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix=prefix, PaginationConfig={"PageSize": 2}
    ):
        names += [g["logGroupName"] for g in page["logGroups"]]
    assert names == [f"{prefix}/g0", f"{prefix}/g1", f"{prefix}/g2"]
    group = f"{prefix}/g0"
    for s in ("b-stream", "a-stream", "c-other"):
        logs.create_log_stream(logGroupName=group, logStreamName=s)
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["a-stream", "b-stream", "c-other"]
    pref = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="c")["logStreams"]
    assert [s["logStreamName"] for s in pref] == ["c-other"]
    assert logs.list_tags_log_group(logGroupName=group)["tags"] == {"i": "0"}
    logs.delete_log_stream(logGroupName=group, logStreamName="c-other")
    logs.delete_log_group(logGroupName=f"{prefix}/g2")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.describe_log_streams(logGroupName=f"{prefix}/g2")


def test_put_and_get_events_both_directions(client: Any) -> None:
    logs = client("logs")
    group = group_name()
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    base = now_ms() - 10_000
    events = [{"timestamp": base + i, "message": f"line {i}"} for i in range(25)]
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.put_log_events(logGroupName=group, logStreamName="nope", logEvents=events[:1])

    first = logs.get_log_events(logGroupName=group, logStreamName="s", limit=10, startFromHead=True)
    assert [e["message"] for e in first["events"]] == [f"line {i}" for i in range(10)]
    collected = [e["message"] for e in first["events"]]
    token = first["nextForwardToken"]
    while True:
        page = logs.get_log_events(logGroupName=group, logStreamName="s", limit=10, nextToken=token)
        collected += [e["message"] for e in page["events"]]
        if page["nextForwardToken"] == token:
            break
        token = page["nextForwardToken"]
    assert collected == [f"line {i}" for i in range(25)]

    latest = logs.get_log_events(logGroupName=group, logStreamName="s", limit=10)
    assert [e["message"] for e in latest["events"]] == [f"line {i}" for i in range(15, 25)]
    back = logs.get_log_events(
        logGroupName=group, logStreamName="s", limit=10, nextToken=latest["nextBackwardToken"]
    )
    assert [e["message"] for e in back["events"]] == [f"line {i}" for i in range(5, 15)]


def test_filter_log_events_patterns(client: Any) -> None:
    logs = client("logs")
    group = group_name()
    logs.create_log_group(logGroupName=group)
    t = now_ms()
    lines = {
        "one": ["[ERROR] disk full", "[INFO] all good", json.dumps({"level": "ERROR", "ms": 250})],
        "two": ["[WARN] slow", json.dumps({"level": "INFO", "ms": 20}), "[ERROR] Retry later"],
    }
    for stream, messages in lines.items():
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": t + i, "message": m} for i, m in enumerate(messages)],
        )

    def find(pattern: str, **kwargs: Any) -> list[str]:
        out = logs.filter_log_events(logGroupName=group, filterPattern=pattern, **kwargs)
        return sorted(e["message"] for e in out["events"])

    assert find("ERROR") == sorted(
        ["[ERROR] disk full", "[ERROR] Retry later", json.dumps({"level": "ERROR", "ms": 250})]
    )
    assert find("ERROR -Retry -level") == ["[ERROR] disk full"]
    assert find("?WARN ?INFO") == sorted(
        ["[WARN] slow", "[INFO] all good", json.dumps({"level": "INFO", "ms": 20})]
    )
    assert find('"disk full"') == ["[ERROR] disk full"]
    assert find('{ $.level = "ERROR" }') == [json.dumps({"level": "ERROR", "ms": 250})]
    assert find("{ $.ms < 100 }") == [json.dumps({"level": "INFO", "ms": 20})]
    assert find("ERROR", logStreamNames=["two"]) == ["[ERROR] Retry later"]
    paged = logs.filter_log_events(logGroupName=group, limit=2)
    assert len(paged["events"]) == 2 and "nextToken" in paged
    rest = logs.filter_log_events(logGroupName=group, nextToken=paged["nextToken"])
    assert len(rest["events"]) == 4
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.filter_log_events(logGroupName=group, filterPattern="{ $.level = ")


def test_retention_policy_is_applied(client: Any) -> None:
    logs = client("logs")
    group = group_name()
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    day = 86_400_000
    for stamp, message in ((now_ms() - 5 * day, "old"), (now_ms() - 1000, "new")):
        logs.put_log_events(
            logGroupName=group,
            logStreamName="s",
            logEvents=[{"timestamp": stamp, "message": message}],
        )
    logs.put_retention_policy(logGroupName=group, retentionInDays=3)
    [g] = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert g["retentionInDays"] == 3
    out = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True)
    assert [e["message"] for e in out["events"]] == ["new"]
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.put_retention_policy(logGroupName=group, retentionInDays=2)


def test_aws_cli_logs(aws: Any) -> None:
    group = group_name()
    aws("logs", "create-log-group", "--log-group-name", group)
    aws("logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", "s")
    aws(
        "logs",
        "put-log-events",
        "--log-group-name",
        group,
        "--log-stream-name",
        "s",
        "--log-events",
        f"timestamp={now_ms()},message=hello-cli",
    )
    out = aws("logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", "hello")
    assert json.loads(out.stdout)["events"][0]["message"] == "hello-cli"
