"""The CloudWatch Logs operations."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson

from overcast.core.arns import arn
from overcast.core.clock import Clock
from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.engines.log_filter import FilterPatternError, compile_pattern
from overcast.services.logs.store import MIGRATIONS
from overcast.store import Store

log = logging.getLogger("overcast.logs")

RETENTION_DAYS = {
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
}
MAX_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
DAY_MS = 86_400_000


class InvalidParameter(ServiceError):
    code = "InvalidParameterException"


class ResourceNotFound(ServiceError):
    code = "ResourceNotFoundException"


class ResourceAlreadyExists(ServiceError):
    code = "ResourceAlreadyExistsException"


class LogsProvider:
    """CloudWatch Logs on the store. `sweep_interval` is how often retention is applied."""

    SERVICE = "logs"

    def __init__(self, store: Store, clock: Clock, *, sweep_interval: float = 60.0) -> None:
        self.db = store.open("logs", MIGRATIONS)
        self.clock = clock
        self.sweep_interval = sweep_interval
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._sweeper = asyncio.ensure_future(self._sweep_loop())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    def _now_ms(self) -> int:
        return int(self.clock.now() * 1000)

    # -- groups -----------------------------------------------------------------------------

    def _group(self, ctx: RequestContext, name: str | None) -> Any:
        if not name:
            raise InvalidParameter("Either logGroupName or logGroupIdentifier must be specified")
        if name.startswith("arn:"):
            name = name.split(":log-group:", 1)[-1].removesuffix(":*")
        row = self.db.query_one(
            "SELECT name, created, retention, kms_key, tags, class FROM log_groups"
            " WHERE account_id = ? AND region = ? AND name = ?",
            (ctx.account_id, ctx.region, name),
        )
        if row is None:
            raise ResourceNotFound("The specified log group does not exist.")
        return row

    def _group_name(self, ctx: RequestContext, p: dict[str, Any]) -> str:
        return str(self._group(ctx, p.get("logGroupName") or p.get("logGroupIdentifier"))[0])

    def _group_arn(self, ctx: RequestContext, name: str) -> str:
        return arn("logs", ctx.region, ctx.account_id, f"log-group:{name}")

    def create_log_group(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        name = p["logGroupName"]
        if not 1 <= len(name) <= 512:
            raise InvalidParameter("Invalid log group name")
        with self.db.transaction() as tx:
            exists = tx.execute(
                "SELECT 1 FROM log_groups WHERE account_id = ? AND region = ? AND name = ?",
                (ctx.account_id, ctx.region, name),
            ).fetchone()
            if exists:
                raise ResourceAlreadyExists("The specified log group already exists")
            tx.execute(
                "INSERT INTO log_groups (account_id, region, name, created, kms_key, tags, class)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    ctx.account_id,
                    ctx.region,
                    name,
                    self._now_ms(),
                    p.get("kmsKeyId"),
                    orjson.dumps(p.get("tags") or {}),
                    p.get("logGroupClass") or "STANDARD",
                ),
            )
        return {}

    def delete_log_group(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        name = self._group_name(ctx, p)
        key = (ctx.account_id, ctx.region, name)
        with self.db.transaction() as tx:
            tx.execute(
                "DELETE FROM log_events WHERE account_id = ? AND region = ? AND grp = ?", key
            )
            tx.execute(
                "DELETE FROM log_streams WHERE account_id = ? AND region = ? AND grp = ?", key
            )
            tx.execute(
                "DELETE FROM log_groups WHERE account_id = ? AND region = ? AND name = ?", key
            )
        return {}

    def describe_log_groups(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        prefix = p.get("logGroupNamePrefix") or ""
        pattern = p.get("logGroupNamePattern")
        if prefix and pattern:
            raise InvalidParameter(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
            )
        limit = _limit(p.get("limit"), 50)
        after = p.get("nextToken") or ""
        rows = self.db.query(
            "SELECT name, created, retention, kms_key, class FROM log_groups WHERE account_id = ?"
            " AND region = ? AND name > ? AND substr(name, 1, ?) = ? ORDER BY name",
            (ctx.account_id, ctx.region, after, len(prefix), prefix),
        )
        if pattern:
            rows = [r for r in rows if pattern.lower() in r[0].lower()]
        if p.get("logGroupIdentifiers"):
            wanted = {
                i.split(":log-group:")[-1].removesuffix(":*") for i in p["logGroupIdentifiers"]
            }
            rows = [r for r in rows if r[0] in wanted]
        page = rows[:limit]
        groups = []
        for name, created, retention, kms, cls in page:
            group_arn = self._group_arn(ctx, name)
            stored = self.db.query_one(
                "SELECT COALESCE(SUM(stored_bytes), 0) FROM log_streams WHERE account_id = ?"
                " AND region = ? AND grp = ?",
                (ctx.account_id, ctx.region, name),
            )
            g: dict[str, Any] = {
                "logGroupName": name,
                "creationTime": created,
                "metricFilterCount": 0,
                "arn": f"{group_arn}:*",
                "logGroupArn": group_arn,
                "storedBytes": int(stored[0]) if stored else 0,
                "logGroupClass": cls,
                "deletionProtectionEnabled": False,
            }
            if retention is not None:
                g["retentionInDays"] = retention
            if kms:
                g["kmsKeyId"] = kms
            groups.append(g)
        out: dict[str, Any] = {"logGroups": groups}
        if len(rows) > limit:
            out["nextToken"] = page[-1][0]
        return out

    def put_retention_policy(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        name = self._group_name(ctx, p)
        days = int(p["retentionInDays"])
        if days not in RETENTION_DAYS:
            raise InvalidParameter(
                f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to "
                f"satisfy constraint: Member must satisfy enum value set: {sorted(RETENTION_DAYS)}"
            )
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE log_groups SET retention = ? WHERE account_id = ? AND region = ?"
                " AND name = ?",
                (days, ctx.account_id, ctx.region, name),
            )
        self.apply_retention()
        return {}

    def delete_retention_policy(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        name = self._group_name(ctx, p)
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE log_groups SET retention = NULL WHERE account_id = ? AND region = ?"
                " AND name = ?",
                (ctx.account_id, ctx.region, name),
            )
        return {}

    def apply_retention(self) -> int:
        """Delete events older than their group's retention; returns how many went."""
        now = self._now_ms()
        deleted = 0
        groups = self.db.query(
            "SELECT account_id, region, name, retention FROM log_groups WHERE retention IS NOT NULL"
        )
        for account, region, name, days in groups:
            cutoff = now - int(days) * DAY_MS
            with self.db.transaction() as tx:
                cur = tx.execute(
                    "DELETE FROM log_events WHERE account_id = ? AND region = ? AND grp = ?"
                    " AND ts < ?",
                    (account, region, name, cutoff),
                )
                deleted += cur.rowcount
                if cur.rowcount:
                    self._recount(tx, account, region, name)
        return deleted

    def _recount(self, tx: Any, account: str, region: str, group: str) -> None:
        tx.execute(
            "UPDATE log_streams SET stored_bytes = COALESCE((SELECT SUM(length(message) + 26)"
            " FROM log_events e WHERE e.account_id = log_streams.account_id AND e.region ="
            " log_streams.region AND e.grp = log_streams.grp AND e.stream = log_streams.name),"
            " 0) WHERE account_id = ? AND region = ? AND grp = ?",
            (account, region, group),
        )

    async def _sweep_loop(self) -> None:
        while True:
            try:
                self.apply_retention()
            except Exception:  # keep sweeping; the failure is logged
                log.exception("applying log retention failed")
            await asyncio.sleep(self.sweep_interval)

    # -- tags -------------------------------------------------------------------------------

    def _set_tags(self, ctx: RequestContext, name: str, tags: dict[str, str]) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE log_groups SET tags = ? WHERE account_id = ? AND region = ? AND name = ?",
                (orjson.dumps(tags), ctx.account_id, ctx.region, name),
            )

    def tag_log_group(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        row = self._group(ctx, p["logGroupName"])
        self._set_tags(ctx, row[0], {**orjson.loads(row[4]), **p["tags"]})
        return {}

    def untag_log_group(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        row = self._group(ctx, p["logGroupName"])
        tags = {k: v for k, v in orjson.loads(row[4]).items() if k not in p["tags"]}
        self._set_tags(ctx, row[0], tags)
        return {}

    def list_tags_log_group(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        return {"tags": orjson.loads(self._group(ctx, p["logGroupName"])[4])}

    def tag_resource(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        return self.tag_log_group(ctx, {"logGroupName": p["resourceArn"], "tags": p["tags"]})

    def untag_resource(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        return self.untag_log_group(ctx, {"logGroupName": p["resourceArn"], "tags": p["tagKeys"]})

    def list_tags_for_resource(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        return self.list_tags_log_group(ctx, {"logGroupName": p["resourceArn"]})

    # -- streams ----------------------------------------------------------------------------

    def create_log_stream(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        group = self._group_name(ctx, p)
        name = p["logStreamName"]
        if ":" in name or "*" in name or not 1 <= len(name) <= 512:
            raise InvalidParameter("Invalid log stream name")
        with self.db.transaction() as tx:
            exists = tx.execute(
                "SELECT 1 FROM log_streams WHERE account_id = ? AND region = ? AND grp = ?"
                " AND name = ?",
                (ctx.account_id, ctx.region, group, name),
            ).fetchone()
            if exists:
                raise ResourceAlreadyExists("The specified log stream already exists")
            tx.execute(
                "INSERT INTO log_streams (account_id, region, grp, name, created) VALUES"
                " (?, ?, ?, ?, ?)",
                (ctx.account_id, ctx.region, group, name, self._now_ms()),
            )
        return {}

    def delete_log_stream(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        group = self._group_name(ctx, p)
        key = (ctx.account_id, ctx.region, group, p["logStreamName"])
        self._stream(*key)
        with self.db.transaction() as tx:
            tx.execute(
                "DELETE FROM log_events WHERE account_id = ? AND region = ? AND grp = ?"
                " AND stream = ?",
                key,
            )
            tx.execute(
                "DELETE FROM log_streams WHERE account_id = ? AND region = ? AND grp = ?"
                " AND name = ?",
                key,
            )
        return {}

    def _stream(self, account: str, region: str, group: str, name: str) -> Any:
        row = self.db.query_one(
            "SELECT name, created, first_ts, last_ts, last_ingest, stored_bytes FROM log_streams"
            " WHERE account_id = ? AND region = ? AND grp = ? AND name = ?",
            (account, region, group, name),
        )
        if row is None:
            raise ResourceNotFound("The specified log stream does not exist.")
        return row

    def describe_log_streams(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        group = self._group_name(ctx, p)
        prefix = p.get("logStreamNamePrefix") or ""
        order = p.get("orderBy") or "LogStreamName"
        if prefix and order == "LastEventTime":
            raise InvalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
        rows = self.db.query(
            "SELECT name, created, first_ts, last_ts, last_ingest, stored_bytes FROM log_streams"
            " WHERE account_id = ? AND region = ? AND grp = ? AND substr(name, 1, ?) = ?",
            (ctx.account_id, ctx.region, group, len(prefix), prefix),
        )
        if order == "LastEventTime":
            rows.sort(key=lambda r: (r[3] or 0, r[0]), reverse=bool(p.get("descending")))
        else:
            rows.sort(key=lambda r: r[0], reverse=bool(p.get("descending")))
        start = int(p["nextToken"]) if str(p.get("nextToken") or "").isdigit() else 0
        limit = _limit(p.get("limit"), 50)
        page = rows[start : start + limit]
        streams = []
        for name, created, first, last, ingest, stored in page:
            s: dict[str, Any] = {
                "logStreamName": name,
                "creationTime": created,
                "arn": f"{self._group_arn(ctx, group)}:log-stream:{name}",
                "storedBytes": stored,
            }
            if first is not None:
                s.update(
                    firstEventTimestamp=first,
                    lastEventTimestamp=last,
                    lastIngestionTime=ingest,
                    uploadSequenceToken="1",
                )
            streams.append(s)
        out: dict[str, Any] = {"logStreams": streams}
        if start + limit < len(rows):
            out["nextToken"] = str(start + limit)
        return out

    # -- events -----------------------------------------------------------------------------

    def put_log_events(
        self, ctx: RequestContext, p: dict[str, Any], *, group_row: Any = None
    ) -> dict[str, Any]:
        if group_row is None:
            group_row = self._group(ctx, p["logGroupName"])
        group = group_row[0]
        stream = p["logStreamName"]
        self._stream(ctx.account_id, ctx.region, group, stream)
        events = p.get("logEvents") or []
        if not 1 <= len(events) <= MAX_EVENTS:
            raise InvalidParameter(
                "1 validation error detected: Value at 'logEvents' failed "
                "to satisfy constraint: Member must have length between 1 "
                "and 10000"
            )
        if sum(len(e["message"].encode()) + 26 for e in events) > MAX_BATCH_BYTES:
            raise InvalidParameter("Upload too large: the batch exceeds 1,048,576 bytes")
        stamps = [int(e["timestamp"]) for e in events]
        if stamps != sorted(stamps):
            raise InvalidParameter(
                "Log events in a single PutLogEvents request must be in chronological order."
            )
        if stamps[-1] - stamps[0] > DAY_MS:
            raise InvalidParameter(
                "The batch of log events in a single PutLogEvents request "
                "cannot span more than 24 hours."
            )
        now = self._now_ms()
        oldest = now - 14 * DAY_MS
        if group_row[2] is not None:
            oldest = max(oldest, now - int(group_row[2]) * DAY_MS)
        newest = now + 2 * 3600 * 1000
        too_old = max((i for i, t in enumerate(stamps) if t < oldest), default=None)
        too_new = min((i for i, t in enumerate(stamps) if t > newest), default=None)
        lo = 0 if too_old is None else too_old + 1
        hi = len(events) if too_new is None else too_new
        keep = events[lo:hi]
        if keep:
            size = sum(len(e["message"]) + 26 for e in keep)
            with self.db.transaction() as tx:
                tx.executemany(
                    "INSERT INTO log_events (account_id, region, grp, stream, ts, ingest, message)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            ctx.account_id,
                            ctx.region,
                            group,
                            stream,
                            int(e["timestamp"]),
                            now,
                            e["message"],
                        )
                        for e in keep
                    ],
                )
                tx.execute(
                    "UPDATE log_streams SET first_ts = MIN(COALESCE(first_ts, ?), ?),"
                    " last_ts = MAX(COALESCE(last_ts, ?), ?), last_ingest = ?,"
                    " stored_bytes = stored_bytes + ? WHERE account_id = ? AND region = ?"
                    " AND grp = ? AND name = ?",
                    (
                        int(keep[0]["timestamp"]),
                        int(keep[0]["timestamp"]),
                        int(keep[-1]["timestamp"]),
                        int(keep[-1]["timestamp"]),
                        now,
                        size,
                        ctx.account_id,
                        ctx.region,
                        group,
                        stream,
                    ),
                )
        out: dict[str, Any] = {"nextSequenceToken": f"{now:056d}"}
        rejected: dict[str, int] = {}
        if too_old is not None:
            rejected["tooOldLogEventEndIndex"] = too_old
        if too_new is not None:
            rejected["tooNewLogEventStartIndex"] = too_new
        if rejected:
            out["rejectedLogEventsInfo"] = rejected
        return out

    def put_log_events_batch(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        """Not an AWS operation (no model names it, so only `Dispatcher.call` reaches it):
        PutLogEvents for several streams of the caller's account and region in ONE transaction,
        so a burst of function logs costs one durable commit instead of one per stream.

        `p["batches"]` is a list of PutLogEvents inputs; the result's `results` holds, in the
        same order, each one's PutLogEvents output or `{"errorCode", "errorMessage"}` (a failed
        batch — its stream deleted meanwhile, say — does not stop the others)."""
        results: list[dict[str, Any]] = []
        groups: dict[str, Any] = {}  # looked up once per call, not once per stream
        with self.db.transaction():
            for item in p.get("batches") or []:
                try:
                    name = item.get("logGroupName")
                    if name not in groups:
                        groups[name] = self._group(ctx, name)
                    results.append(self.put_log_events(ctx, item, group_row=groups[name]))
                except ServiceError as err:
                    results.append({"errorCode": err.code, "errorMessage": err.message})
        return {"results": results}

    def get_log_events(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        group = self._group_name(ctx, p)
        stream = p["logStreamName"]
        self._stream(ctx.account_id, ctx.region, group, stream)
        limit = _limit(p.get("limit"), MAX_EVENTS)
        token = p.get("nextToken")
        base = (
            "SELECT id, ts, ingest, message FROM log_events WHERE account_id = ? AND region = ?"
            " AND grp = ? AND stream = ?"
        )
        args: list[Any] = [ctx.account_id, ctx.region, group, stream]
        if p.get("startTime") is not None:
            base += " AND ts >= ?"
            args.append(_ms(p["startTime"]))
        if p.get("endTime") is not None:
            base += " AND ts < ?"
            args.append(_ms(p["endTime"]))
        if token:
            direction, pos = _parse_token(token)
        else:
            direction, pos = ("f", None) if p.get("startFromHead") else ("b", None)
        if direction == "f":
            sql = base + (" AND (ts, id) > (?, ?)" if pos else "") + " ORDER BY ts, id LIMIT ?"
            rows = self.db.query(sql, [*args, *(pos or ()), limit])
        else:
            sql = (
                base
                + (" AND (ts, id) < (?, ?)" if pos else "")
                + " ORDER BY ts DESC, id DESC LIMIT ?"
            )
            rows = list(reversed(self.db.query(sql, [*args, *(pos or ()), limit])))
        events = [{"timestamp": r[1], "message": r[3], "ingestionTime": r[2]} for r in rows]
        if rows:
            forward = _token("f", rows[-1][1], rows[-1][0])
            backward = _token("b", rows[0][1], rows[0][0])
        else:
            # At either end the token given comes back, so clients know to stop.
            at = pos or (0, 0)
            forward = token if token and direction == "f" else _token("f", *at)
            backward = token if token and direction == "b" else _token("b", *at)
        return {"events": events, "nextForwardToken": forward, "nextBackwardToken": backward}

    def filter_log_events(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        group = self._group_name(ctx, p)
        if p.get("logStreamNames") and p.get("logStreamNamePrefix"):
            raise InvalidParameter("Cannot specify both logStreamNames and logStreamNamePrefix")
        try:
            pattern = compile_pattern(p.get("filterPattern"))
        except FilterPatternError as exc:
            raise InvalidParameter(f"Invalid filter pattern: {exc}") from None
        limit = _limit(p.get("limit"), MAX_EVENTS)
        sql = (
            "SELECT id, stream, ts, ingest, message FROM log_events WHERE account_id = ?"
            " AND region = ? AND grp = ?"
        )
        args: list[Any] = [ctx.account_id, ctx.region, group]
        names = p.get("logStreamNames")
        if names:
            sql += f" AND stream IN ({','.join('?' * len(names))})"
            args += names
        if p.get("logStreamNamePrefix"):
            prefix = p["logStreamNamePrefix"]
            sql += " AND substr(stream, 1, ?) = ?"
            args += [len(prefix), prefix]
        if p.get("startTime") is not None:
            sql += " AND ts >= ?"
            args.append(_ms(p["startTime"]))
        if p.get("endTime") is not None:
            sql += " AND ts <= ?"
            args.append(_ms(p["endTime"]))
        if p.get("nextToken"):
            _, pos = _parse_token(p["nextToken"])
            sql += " AND (ts, id) > (?, ?)"
            args += list(pos or (0, 0))
        sql += " ORDER BY ts, id"
        events: list[dict[str, Any]] = []
        more = False
        last: tuple[int, int] | None = None
        for row in self.db.read().execute(sql, args):
            if len(events) >= limit:
                more = True
                break
            last = (row[2], row[0])
            if pattern(row[4]):
                events.append(
                    {
                        "logStreamName": row[1],
                        "timestamp": row[2],
                        "message": row[4],
                        "ingestionTime": row[3],
                        "eventId": f"{row[2]:020d}{row[0]:020d}",
                    }
                )
        streams = {e["logStreamName"] for e in events}
        out: dict[str, Any] = {
            "events": events,
            "searchedLogStreams": [
                {"logStreamName": s, "searchedCompletely": not more} for s in sorted(streams)
            ],
        }
        if more and last is not None:
            out["nextToken"] = _token("f", *last)
        return out


def _limit(value: Any, maximum: int) -> int:
    if value is None:
        return maximum
    v = int(value)
    if v < 1 or v > maximum:
        raise InvalidParameter(
            f"1 validation error detected: Value '{v}' at 'limit' failed to satisfy constraint: "
            f"Member must have value between 1 and {maximum}"
        )
    return v


def _ms(value: Any) -> int:
    return int(value)


def _token(direction: str, ts: int, event_id: int) -> str:
    return f"{direction}/{ts:020d}{event_id:020d}"


def _parse_token(token: str) -> tuple[str, tuple[int, int] | None]:
    direction, _, digits = token.partition("/")
    if direction not in ("f", "b") or len(digits) != 40 or not digits.isdigit():
        raise InvalidParameter("The specified nextToken is invalid.")
    ts, event_id = int(digits[:20]), int(digits[20:])
    return direction, (None if ts == 0 and event_id == 0 else (ts, event_id))
