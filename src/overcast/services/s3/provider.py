"""The S3 provider: one class assembled from the per-concern mixins, plus its background work
(the orphan-blob sweep at start-up, deferred unlinking of freed blobs, the lifecycle sweeper)."""

from __future__ import annotations

import asyncio
import logging
import os
from contextlib import suppress

from overcast.core.clock import Clock
from overcast.core.errors import ServiceError
from overcast.core.http import HttpRequest
from overcast.dispatch import Dispatcher
from overcast.services.s3 import checksums
from overcast.services.s3.attributes import AttributesMixin
from overcast.services.s3.buckets import BucketsMixin
from overcast.services.s3.cors import CorsMixin
from overcast.services.s3.errors import EntityTooLarge, InvalidArgument
from overcast.services.s3.lifecycle import LifecycleMixin
from overcast.services.s3.listing import ListingMixin
from overcast.services.s3.multipart import MultipartMixin
from overcast.services.s3.notifications import NotificationsMixin
from overcast.services.s3.objects import MAX_PUT_SIZE
from overcast.store import Store

log = logging.getLogger("overcast.s3")


class S3Provider(
    BucketsMixin,
    MultipartMixin,
    AttributesMixin,
    ListingMixin,
    CorsMixin,
    LifecycleMixin,
    NotificationsMixin,
):
    """Amazon S3 (botocore service "s3"). Construct with `S3Provider(store, clock, dispatcher)`,
    or `S3Provider.from_env(...)` to take the tunables from the environment."""

    @classmethod
    def from_env(
        cls, store: Store, clock: Clock, dispatcher: Dispatcher | None = None
    ) -> S3Provider:
        """OVERCAST_S3_FREE_GRACE: seconds before freed blob files are unlinked (default 5);
        OVERCAST_S3_LIFECYCLE_INTERVAL: seconds between lifecycle sweeps (default 60)."""
        return cls(
            store,
            clock,
            dispatcher,
            free_grace=float(os.environ.get("OVERCAST_S3_FREE_GRACE", "5")),
            lifecycle_interval=float(os.environ.get("OVERCAST_S3_LIFECYCLE_INTERVAL", "60")),
        )

    # What the edge digests a large upload with while it arrives (edge/spool.py).
    spool_digests = staticmethod(checksums.spool_digests)

    @staticmethod
    def refuse_upload(req: HttpRequest, size: int) -> ServiceError | None:
        """The error for an upload larger than S3 takes, answered from its declared size
        before any of it is read (as S3 does), or None."""
        if size <= MAX_PUT_SIZE:
            return None
        if "uploadId=" in req.query_string:
            return InvalidArgument("Part size exceeds the maximum allowed size")
        return EntityTooLarge(ProposedSize=str(size), MaxSizeAllowed=str(MAX_PUT_SIZE))

    async def start(self) -> None:
        """Remove what a crash left (temporary files, blobs no row names), then run the
        background loops."""
        removed = await asyncio.to_thread(self.sweep_orphans)
        if removed:
            log.info("s3: removed %d orphan blob file(s) left by an earlier run", removed)
        self._tasks = [
            asyncio.create_task(self._purge_loop(), name="s3-purge"),
            asyncio.create_task(self._lifecycle_loop(), name="s3-lifecycle"),
        ]

    async def stop(self) -> None:
        """Stop the loops and unlink every freed blob now."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self.purge_trash(force=True)

    async def _purge_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                await asyncio.to_thread(self.purge_trash)
            except Exception:
                log.exception("s3: freeing blob files failed")

    async def _lifecycle_loop(self) -> None:
        while True:
            try:
                applied = await asyncio.to_thread(self.apply_lifecycle)
                if applied:
                    log.info("s3: lifecycle applied %d action(s)", applied)
            except Exception:
                log.exception("s3: lifecycle sweep failed")
            await asyncio.sleep(self.lifecycle_interval)
