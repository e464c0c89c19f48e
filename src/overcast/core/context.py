"""The context every operation runs in: who asks, where, and for which request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from overcast.core.http import HttpRequest

DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"


@dataclass(slots=True)
class RequestContext:
    """One call of one operation, from outside (the edge) or inside (dispatch.call).

    `endpoint` is the base URL the client used (e.g. ``http://127.0.0.1:4566``); URLs that
    Overcast hands out (queue URLs, Code.Location, API endpoints) are built from it so that they
    work as printed. `response_headers` lets a provider add headers its model does not describe
    (CORS, for example).
    """

    request_id: str
    account_id: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    service: str = ""
    operation: str = ""
    access_key_id: str | None = None
    principal_arn: str | None = None
    endpoint: str = "http://127.0.0.1:4566"
    http: HttpRequest | None = None
    internal: bool = False
    response_headers: dict[str, str] = field(default_factory=dict)
    response_status: int | None = None

    def child(self, service: str, operation: str) -> RequestContext:
        """A context for an internal call made on behalf of this one (same account and region)."""
        return RequestContext(
            request_id=self.request_id,
            account_id=self.account_id,
            region=self.region,
            service=service,
            operation=operation,
            access_key_id=self.access_key_id,
            principal_arn=self.principal_arn,
            endpoint=self.endpoint,
            internal=True,
        )
