"""DynamoDB Streams (botocore "dynamodbstreams"): a second provider over the same database.

Each stream has one shard. Stream records are written by the table writes themselves (same
transaction as the item); this provider only reads them. A shard iterator is an opaque token that
carries the stream, the shard and the next position.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson

from overcast.core.clock import Clock
from overcast.core.context import RequestContext
from overcast.engines.ddb.errors import DdbValidationError
from overcast.services.dynamodb.base import open_db
from overcast.services.dynamodb.errors import (
    ExpiredIteratorException,
    ResourceNotFoundException,
    TrimmedDataAccessException,
)
from overcast.services.dynamodb.storage import STREAM_RETENTION, load_record, seq_text, seq_value
from overcast.store import Store

ITERATOR_TTL = 15 * 60.0
_TYPES = ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")


class DynamodbStreamsProvider:
    """The DynamoDB Streams API."""

    SERVICE = "dynamodbstreams"

    def __init__(self, store: Store, clock: Clock) -> None:
        self.db = open_db(store)
        self.clock = clock

    def _stream(self, arn: str) -> Any:
        row = self.db.query_one("SELECT * FROM streams WHERE arn = ?", (arn,))
        if row is None:
            raise ResourceNotFoundException(
                f"Requested resource not found: Stream: {arn} not found"
            )
        return row

    def list_streams(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        sql = "SELECT arn, table_name, label FROM streams WHERE account = ? AND region = ?"
        args: list[Any] = [ctx.account_id, ctx.region]
        if params.get("TableName"):
            sql += " AND table_name = ?"
            args.append(params["TableName"])
        if params.get("ExclusiveStartStreamArn"):
            sql += " AND arn > ?"
            args.append(params["ExclusiveStartStreamArn"])
        limit = int(params.get("Limit") or 100)
        rows = self.db.query(sql + " ORDER BY arn LIMIT ?", (*args, limit + 1))
        out: dict[str, Any] = {
            "Streams": [
                {"StreamArn": r["arn"], "TableName": r["table_name"], "StreamLabel": r["label"]}
                for r in rows[:limit]
            ]
        }
        if len(rows) > limit:
            out["LastEvaluatedStreamArn"] = rows[limit - 1]["arn"]
        return out

    def _range(self, arn: str) -> tuple[int | None, int | None]:
        row = self.db.query_one(
            "SELECT MIN(seq), MAX(seq) FROM stream_records WHERE stream = ? AND created >= ?",
            (arn, self.clock.now() - STREAM_RETENTION),
        )
        return (row[0], row[1]) if row is not None else (None, None)

    def describe_stream(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        s = self._stream(params["StreamArn"])
        meta = self.db.query_one(
            "SELECT meta FROM tables WHERE account = ? AND region = ? AND name = ? AND tid = ?",
            (s["account"], s["region"], s["table_name"], s["tid"]),
        )
        key_schema: list[dict[str, str]] = []
        if meta is not None:
            m = orjson.loads(meta[0])
            key_schema.append({"AttributeName": m["hash"][0], "KeyType": "HASH"})
            if m["range"]:
                key_schema.append({"AttributeName": m["range"][0], "KeyType": "RANGE"})
        first, last = self._range(s["arn"])
        rng: dict[str, str] = {"StartingSequenceNumber": seq_text(first if first is not None
                                                                   else 1)}  # fmt: skip
        if s["disabled"] is not None:
            rng["EndingSequenceNumber"] = seq_text(last if last is not None else 1)
        shard = {"ShardId": s["shard_id"], "SequenceNumberRange": rng}
        start = params.get("ExclusiveStartShardId")
        return {
            "StreamDescription": {
                "StreamArn": s["arn"],
                "StreamLabel": s["label"],
                "StreamStatus": "ENABLED" if s["disabled"] is None else "DISABLED",
                "StreamViewType": s["view_type"],
                "CreationRequestDateTime": s["created"],
                "TableName": s["table_name"],
                "KeySchema": key_schema,
                "Shards": [] if start == s["shard_id"] else [shard],
            }
        }

    def get_shard_iterator(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        s = self._stream(params["StreamArn"])
        if params["ShardId"] != s["shard_id"]:
            raise ResourceNotFoundException(
                f"Requested resource not found: Shard does not exist: {params['ShardId']}"
            )
        kind = params["ShardIteratorType"]
        if kind not in _TYPES:
            raise DdbValidationError(
                f"1 validation error detected: Value '{kind}' at 'shardIteratorType' failed to "
                "satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, "
                "LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]"
            )
        first, last = self._range(s["arn"])
        if kind == "TRIM_HORIZON":
            pos = first if first is not None else (last or 0) + 1
        elif kind == "LATEST":
            row = self.db.query_one("SELECT MAX(seq) FROM stream_records")
            pos = (row[0] or 0) + 1 if row is not None else 1
        else:
            text = params.get("SequenceNumber")
            if not text:
                raise DdbValidationError("Invalid SequenceNumber for ShardIteratorType: " + kind)
            try:
                seq = seq_value(text)
            except ValueError:
                raise DdbValidationError(f"Invalid SequenceNumber: {text}") from None
            if first is not None and seq < first:
                raise TrimmedDataAccessException(
                    "The requested sequence number is beyond the trim horizon of the shard"
                )
            pos = seq if kind == "AT_SEQUENCE_NUMBER" else seq + 1
        return {"ShardIterator": self._iterator(s["arn"], s["shard_id"], pos)}

    def _iterator(self, arn: str, shard: str, pos: int) -> str:
        token = orjson.dumps({"a": arn, "s": shard, "p": pos, "t": self.clock.now()})
        return base64.urlsafe_b64encode(token).decode()

    def get_records(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        try:
            it = orjson.loads(base64.urlsafe_b64decode(params["ShardIterator"].encode()))
            arn, shard, pos, made = it["a"], it["s"], int(it["p"]), float(it["t"])
        except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
            raise DdbValidationError("Invalid ShardIterator") from None
        now = self.clock.now()
        if now - made > ITERATOR_TTL:
            raise ExpiredIteratorException(
                "Iterator expired: The iterator was created over 15 minutes ago"
            )
        s = self._stream(arn)
        limit = int(params.get("Limit") or 1000)
        if limit < 1 or limit > 1000:
            raise DdbValidationError(
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
                "constraint: Member must have value less than or equal to 1000"
            )
        rows = self.db.query(
            "SELECT seq, record FROM stream_records WHERE stream = ? AND seq >= ? AND created >= ?"
            " ORDER BY seq LIMIT ?",
            (arn, pos, now - STREAM_RETENTION, limit),
        )
        records = []
        for seq, blob in rows:
            rec = load_record(blob, seq)
            rec["dynamodb"]["ApproximateCreationDateTime"] = float(
                rec["dynamodb"]["ApproximateCreationDateTime"]
            )
            records.append(rec)
        nxt = rows[-1][0] + 1 if rows else pos
        out: dict[str, Any] = {"Records": records}
        closed = s["disabled"] is not None and not rows
        if not closed:
            out["NextShardIterator"] = self._iterator(arn, shard, nxt)
        return out
