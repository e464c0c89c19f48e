"""The composition root: builds the store, the dispatcher, the providers and the edge, and wires
them together. No logic of its own beyond wiring."""

from __future__ import annotations

import contextlib
import gc
import ipaddress
import logging
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from overcast import __version__
from overcast.core.clock import SystemClock
from overcast.core.http import HttpRequest
from overcast.dispatch import Dispatcher, OperationTable
from overcast.edge import Edge, EdgeConfig, sigv4
from overcast.services.apigateway.v1.provider import ApiGatewayProvider
from overcast.services.apigateway.v2.provider import ApiGatewayV2Provider
from overcast.services.cloudformation.provider import CloudFormationProvider
from overcast.services.dynamodb.provider import DynamodbProvider
from overcast.services.dynamodb.streams import DynamodbStreamsProvider
from overcast.services.iam.provider import IamProvider
from overcast.services.lambda_.provider import LambdaProvider
from overcast.services.logs.provider import LogsProvider
from overcast.services.s3.provider import S3Provider
from overcast.services.ssm.provider import SsmProvider
from overcast.services.sts.provider import StsProvider
from overcast.store import Store

log = logging.getLogger("overcast")

# Every service of ARCHITECTURE.md, by botocore name; the health endpoint reports each one.
ALL_SERVICES = [
    "apigateway", "apigatewayv2", "cloudformation", "cloudwatch", "cognito-identity",
    "cognito-idp", "dynamodb", "dynamodbstreams", "events", "iam", "kms", "lambda", "logs",
    "pipes", "s3", "scheduler", "secretsmanager", "sns", "sqs", "ssm", "stepfunctions", "sts",
    "xray",
]  # fmt: skip


@dataclass(slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: str = ".overcast"
    strict_auth: bool = False
    log_requests: bool = True

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Defaults, then OVERCAST_* environment variables, then explicit overrides."""
        s = cls(
            host=os.environ.get("OVERCAST_HOST", "127.0.0.1"),
            port=int(os.environ.get("OVERCAST_PORT", "4566")),
            data_dir=os.environ.get("OVERCAST_DATA_DIR", ".overcast"),
            strict_auth=os.environ.get("OVERCAST_STRICT_AUTH", "") in ("1", "true", "yes"),
        )
        for k, v in overrides.items():
            if v is not None:
                setattr(s, k, v)
        if not _is_loopback(s.host):
            s.strict_auth = True  # anything reachable from outside must check signatures
        return s


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Overcast:
    """One running Overcast: store, dispatcher, providers and the edge that serves them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = SystemClock()
        self.store = Store(Path(settings.data_dir))
        self.table = OperationTable()
        self.dispatcher = Dispatcher(self.table, self.store, self.clock)

        # -- providers (one line each) ---------------------------------------------------------
        store, clock, dispatcher = self.store, self.clock, self.dispatcher
        self.sts = StsProvider(store, clock)
        self.s3 = S3Provider.from_env(store, clock, dispatcher)
        edge_url = LambdaProvider.edge_url_for(settings.host, settings.port)
        self.lambda_ = LambdaProvider(store, clock, dispatcher, edge_url=edge_url)
        self.apigateway = ApiGatewayProvider(store, clock, dispatcher)
        self.apigatewayv2 = ApiGatewayV2Provider(store, clock, dispatcher)
        self.providers: list[Any] = [
            self.sts,
            self.s3,
            DynamodbProvider(store, clock, raw_json=True),
            DynamodbStreamsProvider(store, clock),
            SsmProvider(store, clock),
            IamProvider(store, clock),
            LogsProvider(store, clock),
            self.lambda_,
            self.apigateway,
            self.apigatewayv2,
            # Last: on start it resumes interrupted stack operations, which call the others.
            CloudFormationProvider(store, clock, dispatcher),
        ]
        # ---------------------------------------------------------------------------------------

        for provider in self.providers:
            self.table.register(provider.SERVICE, provider)
        self.edge = Edge(
            self.table,
            config=EdgeConfig(
                strict_auth=settings.strict_auth,
                log_requests=settings.log_requests,
                version=__version__,
                spool_dir=str(Path(settings.data_dir) / ".spool"),
            ),
            lookup_credential=self.lookup_credential,
            health=self.health,
            data_planes=[
                self.apigateway.data_plane,
                self.apigatewayv2.data_plane,
                self.s3.data_plane,
                self.lambda_.data_plane,
            ],
            clock=self.clock,
            on_startup=self.startup,
            on_shutdown=self.shutdown,
            body_digests=self.s3.spool_digests,
            refuse_body=self.refuse_body,
        )

    def refuse_body(self, service: str, req: HttpRequest, size: int) -> Exception | None:
        """A body too large for its service, refused before it is read (S3's 5 GiB)."""
        return self.s3.refuse_upload(req, size) if service == "s3" else None

    def lookup_credential(self, access_key_id: str) -> sigv4.Credential | None:
        """The secret and identity of an access key Overcast issued, or None if unknown."""
        cred = self.sts.credential(access_key_id)
        if cred is None:
            return None
        return sigv4.Credential(
            access_key_id=cred.access_key_id,
            secret_access_key=cred.secret_access_key,
            account_id=cred.account_id,
            principal_arn=cred.principal_arn,
            session_token=cred.session_token,
            expiration=cred.expiration,
        )

    def health(self) -> dict[str, Any]:
        running = set(self.table.services())
        return {
            "version": __version__,
            "services": {
                name: ("running" if name in running else "not implemented") for name in ALL_SERVICES
            },
        }

    async def startup(self) -> None:
        for provider in self.providers:
            start = getattr(provider, "start", None)
            if start is not None:
                await start()
        await self.dispatcher.start()
        # Everything loaded so far (models, plans, caches) lives as long as the server: keep it out
        # of the garbage collector's scans, which otherwise grow with the heap on every request.
        gc.collect()
        gc.freeze()
        log.info("Overcast %s ready on http://%s:%d", __version__, self.settings.host,
                 self.settings.port)  # fmt: skip

    async def shutdown(self) -> None:
        await self.dispatcher.stop()
        for provider in reversed(self.providers):
            stop = getattr(provider, "stop", None)
            if stop is not None:
                await stop()
        self.store.close()


def _server_class() -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, but SIGINT/SIGTERM end it with exit status 0 after a clean
        shutdown, instead of re-raising the signal."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in _EXIT_SIGNALS}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server


_EXIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def serve(settings: Settings) -> None:
    """Run Overcast in the foreground until SIGINT or SIGTERM."""
    import uvicorn

    from overcast.edge.http1 import CoalescingHttpToolsProtocol

    _Server = _server_class()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = Overcast(settings)
    config = uvicorn.Config(
        app.edge,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http=CoalescingHttpToolsProtocol,
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=False,
        proxy_headers=False,
        timeout_keep_alive=75,
    )
    _Server(config).run()
    log.info("Overcast stopped")
