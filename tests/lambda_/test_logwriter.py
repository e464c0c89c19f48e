"""Lambda's log writer with a recording dispatcher: streams batched into one call, group and
stream created once, a deleted stream re-created, and a logs service without the batch
operation served one PutLogEvents per stream."""

from __future__ import annotations

import asyncio
from typing import Any

from overcast.core.context import RequestContext
from overcast.core.errors import NotImplementedOperation, ServiceError
from overcast.services.lambda_.logwriter import LogWriter


class NotFound(ServiceError):
    code = "ResourceNotFoundException"


class Recorder:
    def __init__(self, batch: bool = True, missing: set[str] | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.batch = batch
        self.missing = missing or set()

    async def call(
        self, ctx: RequestContext, service: str, op: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        self.calls.append((op, params))
        if op == "PutLogEventsBatch":
            if not self.batch:
                raise NotImplementedOperation(service, op)
            results: list[dict[str, Any]] = []
            for b in params["batches"]:
                if b["logStreamName"] in self.missing:
                    self.missing.discard(b["logStreamName"])
                    results.append({"errorCode": "ResourceNotFoundException"})
                else:
                    results.append({"nextSequenceToken": "0"})
            return {"results": results}
        return {}

    def ops(self) -> list[str]:
        return [op for op, _ in self.calls]


KEY_A = ("000000000000", "us-east-1", "/aws/lambda/f", "a")
KEY_B = ("000000000000", "us-east-1", "/aws/lambda/f", "b")


def run(rec: Recorder) -> None:
    async def scenario() -> None:
        writer = LogWriter(rec)  # type: ignore[arg-type]
        writer.start()
        writer.write(KEY_A, [(2, "second"), (1, "first")])
        writer.write(KEY_B, [(1, "other")])
        await asyncio.sleep(0.5)  # the flush delay passes
        writer.write(KEY_A, [(3, "third")])
        await writer.stop()  # flushes what is left

    asyncio.run(scenario())


def test_streams_share_one_batch_call() -> None:
    rec = Recorder()
    run(rec)
    assert rec.ops() == [
        "CreateLogGroup",
        "CreateLogStream",
        "CreateLogStream",
        "PutLogEventsBatch",
        "PutLogEventsBatch",
    ]
    first = rec.calls[3][1]["batches"]
    assert [b["logStreamName"] for b in first] == ["a", "b"]
    assert [e["message"] for e in first[0]["logEvents"]] == ["first", "second"]  # sorted
    assert rec.calls[4][1]["batches"][0]["logEvents"] == [{"timestamp": 3, "message": "third"}]


def test_deleted_stream_is_created_again() -> None:
    rec = Recorder(missing={"b"})
    run(rec)
    assert rec.ops()[3:7] == [
        "PutLogEventsBatch",
        "CreateLogGroup",
        "CreateLogStream",
        "PutLogEvents",
    ]
    assert rec.calls[6][1]["logStreamName"] == "b"


def test_without_batch_operation_one_call_per_stream() -> None:
    rec = Recorder(batch=False)
    run(rec)
    puts = [p["logStreamName"] for op, p in rec.calls if op == "PutLogEvents"]
    assert sorted(puts) == ["a", "a", "b"]
    assert rec.ops().count("PutLogEventsBatch") == 1  # asked once, then remembered
