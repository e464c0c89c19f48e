"""The operation table: (service, operation) → provider method."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from overcast.core.errors import NotImplementedOperation

_CAMEL_1 = re.compile(r"(.)([A-Z][a-z]+)")
_CAMEL_2 = re.compile(r"([a-z0-9])([A-Z])")


def op_method_name(operation: str) -> str:
    """`GetCallerIdentity` → `get_caller_identity` (as botocore's xform_name does)."""
    name = _CAMEL_1.sub(r"\1_\2", operation)
    return _CAMEL_2.sub(r"\1_\2", name).lower()


@dataclass(frozen=True, slots=True)
class Handler:
    """A resolved operation: the bound method and whether it must be awaited."""

    fn: Callable[..., Any]
    is_async: bool


class OperationTable:
    """Providers by service name (botocore's service name: `sts`, `lambda`, `dynamodb`, ...)."""

    def __init__(self) -> None:
        self._providers: dict[str, Any] = {}
        self._cache: dict[tuple[str, str], Handler] = {}

    def register(self, service: str, provider: Any) -> None:
        self._providers[service] = provider

    def provider(self, service: str) -> Any | None:
        return self._providers.get(service)

    def services(self) -> list[str]:
        return sorted(self._providers)

    def resolve(self, service: str, operation: str) -> Handler:
        """The method for an operation; raises NotImplementedOperation (501) if there is none."""
        key = (service, operation)
        handler = self._cache.get(key)
        if handler is not None:
            return handler
        provider = self._providers.get(service)
        fn = getattr(provider, op_method_name(operation), None) if provider is not None else None
        if fn is None:
            raise NotImplementedOperation(service, operation)
        handler = Handler(fn, inspect.iscoroutinefunction(fn))
        self._cache[key] = handler
        return handler
