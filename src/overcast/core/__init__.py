"""Shared vocabulary of every layer: request context, HTTP records, errors, ARNs, ids, the clock.

Imports nothing else from Overcast. Everything above may import it.
"""

from overcast.core.clock import Clock, FakeClock, SystemClock
from overcast.core.context import DEFAULT_ACCOUNT, DEFAULT_REGION, RequestContext
from overcast.core.errors import ServiceError
from overcast.core.http import FileBody, HttpRequest, HttpResponse

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEFAULT_REGION",
    "Clock",
    "FakeClock",
    "FileBody",
    "HttpRequest",
    "HttpResponse",
    "RequestContext",
    "ServiceError",
    "SystemClock",
]
