"""The Lambda provider: one method per operation, assembled from the parts of this package."""

from __future__ import annotations

import os
import random
import secrets
import shutil
import tempfile
import zlib
from pathlib import Path
from typing import Any

from overcast.core import ids
from overcast.core.clock import Clock
from overcast.core.context import RequestContext
from overcast.dispatch import Dispatcher
from overcast.runtime import Pool, PoolConfig, limits
from overcast.services.lambda_.aliases import AliasesMixin
from overcast.services.lambda_.destinations import DestinationsMixin
from overcast.services.lambda_.extras import ExtrasMixin
from overcast.services.lambda_.functions import FunctionsMixin
from overcast.services.lambda_.invoke import ASYNC_FAILURE, ASYNC_HANDLER, InvokeMixin
from overcast.services.lambda_.layers import LayersMixin
from overcast.services.lambda_.logwriter import LogWriter
from overcast.services.lambda_.store import MIGRATIONS
from overcast.services.lambda_.urls import UrlsMixin
from overcast.store import Store


class LambdaProvider(
    FunctionsMixin,
    AliasesMixin,
    InvokeMixin,
    DestinationsMixin,
    LayersMixin,
    ExtrasMixin,
    UrlsMixin,
):
    """AWS Lambda. Functions run as processes through `overcast.runtime`.

    `edge_url` is the address functions use to reach Overcast (AWS_ENDPOINT_URL) and the base of
    the URLs handed out; `work_root` is where code is extracted and environments live (outside
    the data directory, which functions must not be able to read).
    """

    SERVICE = "lambda"

    def __init__(
        self,
        store: Store,
        clock: Clock,
        dispatcher: Dispatcher,
        *,
        edge_url: str | None = None,
        work_root: Path | None = None,
        pool_config: PoolConfig | None = None,
    ) -> None:
        self.db = store.open("lambda", MIGRATIONS)
        self.clock = clock
        self.dispatcher = dispatcher
        self.edge_url = edge_url
        data_dir = store.data_dir.resolve()
        tag = f"{zlib.crc32(str(data_dir).encode()):08x}"
        # Not under /tmp: environments get their own /tmp bound over it (see runtime.pool).
        base = Path("/var/tmp") if os.access("/var/tmp", os.W_OK) else Path(tempfile.gettempdir())
        self.work_root = work_root or base / f"overcast-lambda-{tag}"
        self._own_work_root = work_root is None
        # Environments of a previous run (killed without cleaning up) are gone: start afresh.
        shutil.rmtree(self.work_root / "run", ignore_errors=True)
        self.work_root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.work_root, 0o711)
        if limits.drop_privileges():
            # Functions run as other users: they must not read Overcast's state.
            os.chmod(data_dir, 0o700)
        self.pool = Pool(pool_config or PoolConfig.from_env(self.work_root / "run"))
        os.chmod(self.pool.config.work_root, 0o711)
        self.logs = LogWriter(dispatcher)
        self.rng = random.Random()
        self.secret = secrets.token_bytes(32)
        self._specs = {}
        self._fv_cache = {}
        self._meta_cache = {}
        self.async_retry_base = float(os.environ.get("OVERCAST_LAMBDA_ASYNC_RETRY_SECONDS", 1.0))
        dispatcher.register_handler(ASYNC_HANDLER, self.async_invoke)
        dispatcher.register_handler(ASYNC_FAILURE, self.async_failure)

    async def start(self) -> None:
        await self.pool.start()
        if self.db.query_one("SELECT 1 FROM functions LIMIT 1") is not None:
            self.pool.warm_up()
        self.logs.start()
        ctx = RequestContext(request_id=ids.request_id(), internal=True)
        if self.edge_url:
            ctx.endpoint = self.edge_url
        await self.restore_provisioned(ctx)

    async def stop(self) -> None:
        await self.pool.stop()
        await self.logs.stop()
        if self._own_work_root:
            # Extracted code is a cache of the blobs in the store: rebuilt on demand.
            shutil.rmtree(self.work_root, ignore_errors=True)

    @staticmethod
    def edge_url_for(host: str, port: int) -> str:
        """The URL functions reach the edge at, from the address the server listens on."""
        if host in ("", "0.0.0.0", "::"):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    def describe(self) -> dict[str, Any]:
        """Figures for the health endpoint and the console."""
        return {"work_root": str(self.work_root), "cgroups": self.pool.cgroups.available}
