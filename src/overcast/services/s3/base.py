"""What every S3 mixin shares: the database, the clock, bucket look-up with access checks,
deferred freeing of blob files, and running blocking work off the event loop."""

from __future__ import annotations

import asyncio
import functools
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Coroutine
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import orjson

from overcast.core.clock import Clock
from overcast.core.context import RequestContext
from overcast.dispatch import Dispatcher
from overcast.services.s3 import repo
from overcast.services.s3.cache import BucketCache
from overcast.services.s3.errors import AccessDenied, InvalidArgument, NoSuchBucket
from overcast.services.s3.records import Bucket
from overcast.services.s3.schema import MIGRATIONS
from overcast.store import Database, Store
from overcast.store.group import GroupCommit

Params = dict[str, Any]
Result = dict[str, Any]
SyncOp = Callable[[Any, RequestContext, Params], Result]
AsyncOp = Callable[[Any, RequestContext, Params], Coroutine[Any, Any, Result]]

DEFAULT_ENCRYPTION: dict[str, Any] = {
    "Rules": [
        {
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
            "BucketKeyEnabled": False,
        }
    ]
}
_VERSION_ID = re.compile(r"^[A-Za-z0-9._\-]{1,1024}$")


INLINE_BODY = 256 * 1024
"""Uploads with a body up to this size run on the event loop; larger ones, and the operations
that copy or assemble objects, in a thread."""


def in_thread(fn: SyncOp) -> AsyncOp:
    """Run a blocking operation (fsync, hashing, the writer lock) in a worker thread so the event
    loop keeps serving other requests meanwhile."""

    @functools.wraps(fn)
    async def wrapper(self: Any, ctx: RequestContext, params: Params) -> Result:
        body = params.get("Body")
        if body is not None and len(body) <= INLINE_BODY:
            # A small upload costs less than the hop to a thread and back.
            return fn(self, ctx, params)
        return await asyncio.to_thread(fn, self, ctx, params)

    return wrapper


def ts(epoch: float) -> datetime:
    """An epoch float as the aware UTC datetime the protocol layer serializes."""
    return datetime.fromtimestamp(epoch, UTC)


class S3Base:
    """State and helpers shared by the S3 mixins."""

    SERVICE = "s3"

    def __init__(
        self,
        store: Store,
        clock: Clock,
        dispatcher: Dispatcher | None = None,
        *,
        free_grace: float = 5.0,
        lifecycle_interval: float = 60.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.dispatcher = dispatcher
        self.db: Database = store.open("s3", MIGRATIONS)
        self.blobs = self.db.blobs
        self.cache = BucketCache(self.db)
        self._last_object_id = repo.max_object_id(self.db.read())
        # Small writes issued on the event loop share one durable commit (see store/group.py).
        self.group = GroupCommit(self.db, savepoint="s3_write")
        # Freed blob files wait `free_grace` seconds before unlinking, so a GET that already
        # resolved its FileBody can still open it (an overwrite never breaks a reader).
        self.free_grace = free_grace
        self.lifecycle_interval = lifecycle_interval
        self._trash: list[tuple[float, str]] = []
        self._trash_lock = threading.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    # -- buckets -----------------------------------------------------------------------------------

    def bucket(self, ctx: RequestContext, name: str | None) -> Bucket:
        """The bucket named in a request, or NoSuchBucket; AccessDenied for another account's
        bucket unless its policy lets the caller in."""
        b = self.cache.bucket(name or "")
        if b is None:
            raise NoSuchBucket(BucketName=name)
        if b.account_id != ctx.account_id and not ctx.internal and not self._policy_allows(ctx, b):
            raise AccessDenied()
        if ctx.http is not None and "origin" in ctx.http.headers:
            self.apply_cors(ctx, b.name)
        return b

    def apply_cors(self, ctx: RequestContext, bucket: str) -> None:
        """Add CORS response headers (cors.py implements it)."""

    def config_transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """The write transaction for anything that changes `buckets` or `bucket_config` (the
        cache of them is dropped when it ends)."""
        return self.cache.writing()

    def object_id(self) -> int:
        """A row id for a new object version, larger than any handed out before (in this run,
        and in earlier ones unless the clock was set back): a key's versions are ordered by id,
        and event sequencers come from it. Only called inside a write transaction, which
        serializes the callers."""
        self._last_object_id = max(self._last_object_id + 1, int(self.now() * 1_000_000))
        return self._last_object_id

    def emit(self, conn: sqlite3.Connection, ctx: RequestContext, event: str, obj: Any) -> None:
        """Enqueue event notifications for an object change (notifications.py implements it)."""

    def _policy_allows(self, ctx: RequestContext, b: Bucket) -> bool:
        policy = self.cache.config(b.name, "policy")
        if not policy:
            return False
        try:
            doc = orjson.loads(policy)
        except ValueError:
            return False
        statements = doc.get("Statement", [])
        if isinstance(statements, dict):
            statements = [statements]
        for st in statements:
            if st.get("Effect") != "Allow":
                continue
            principal = st.get("Principal")
            values: list[str] = []
            if principal == "*":
                return True
            if isinstance(principal, dict):
                aws = principal.get("AWS", [])
                values = [aws] if isinstance(aws, str) else list(aws)
            for v in values:
                if v == "*" or v == ctx.account_id or f":{ctx.account_id}:" in v:
                    return True
        return False

    def encryption_of(self, bucket: str) -> dict[str, Any]:
        """The default encryption objects written to `bucket` get."""
        value = self.cache.config(bucket, "encryption") or DEFAULT_ENCRYPTION
        rules = value.get("Rules") or [{}]
        default: dict[str, Any] = rules[0].get("ApplyServerSideEncryptionByDefault") or {}
        return default

    def now(self) -> float:
        return self.clock.now()

    @staticmethod
    def check_version_id(version_id: str | None) -> None:
        """S3 answers InvalidArgument to a version id that cannot be one."""
        if version_id is not None and not _VERSION_ID.match(version_id):
            raise InvalidArgument(
                "Invalid version id specified", ArgumentName="versionId", ArgumentValue=version_id
            )

    # -- freeing blob files ------------------------------------------------------------------------

    def free(self, blob_ids: list[str]) -> None:
        """Schedule blob files for deletion (their rows are already gone, committed)."""
        if not blob_ids:
            return
        due = time.monotonic() + self.free_grace
        with self._trash_lock:
            self._trash.extend((due, b) for b in blob_ids)

    def purge_trash(self, force: bool = False) -> int:
        """Unlink the freed blobs whose grace has passed (all of them with `force`)."""
        now = time.monotonic()
        with self._trash_lock:
            ready = [b for due, b in self._trash if force or due <= now]
            self._trash = [] if force else [(d, b) for d, b in self._trash if d > now]
        for blob_id in ready:
            self.blobs.delete(blob_id)
        return len(ready)

    def sweep_orphans(self) -> int:
        """Delete blob files that no row names: what a crash between writing a blob and
        committing its row (or between committing a delete and unlinking) leaves behind."""
        self.blobs.sweep_tmp()
        keep = repo.referenced_blobs(self.db.read())
        removed = 0
        for blob_id in list(self.blobs.all_ids()):
            if blob_id not in keep:
                self.blobs.delete(blob_id)
                removed += 1
        return removed
