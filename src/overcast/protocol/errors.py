"""AWS error shapes: which code, type name, status and fault each wire protocol shows for an error.

A provider raises `ServiceError(code=...)` with either the modelled shape name (`QueueDoesNotExist`,
`NoSuchEntityException`) or the legacy query code (`AWS.SimpleQueueService.NonExistentQueue`,
`NoSuchEntity`). `ErrorCatalog.spec()` finds the shape either way and gives both names: JSON and
CBOR bodies carry the shape name in `__type`; query and rest-xml bodies and the
`x-amzn-query-error` header carry the query code — the one botocore maps back to the exception.
Legacy codes absent from the model (SQS lost them when it moved to JSON) come from quirks.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.model import ServiceModel, StructureShape

from overcast.core.errors import ServiceError


class MalformedInput(ValueError):
    """Raised inside a codec when a request cannot be read; the codec turns it into the protocol's
    own 400 error. `where` says which part was bad ("body", "header", "query", "uri")."""

    def __init__(self, message: str, where: str = "body") -> None:
        super().__init__(message)
        self.message = message
        self.where = where


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """How one error code looks on the wire for one service."""

    type_name: str  # the shape name: JSON/CBOR `__type`
    code: str  # the query-compatible code: query/rest-xml <Code>, x-amzn-query-error
    status: int | None  # the modelled HTTP status, if any
    sender_fault: bool | None  # the modelled fault, if any
    shape: StructureShape | None  # the modelled error shape, for its extra members


class ErrorCatalog:
    """Every modelled error of a service, found by shape name or by query code."""

    def __init__(self, model: ServiceModel, quirks: dict[str, Any]) -> None:
        self._model = model
        self._legacy: dict[str, list[Any]] = quirks.get("query_errors", {})
        self._by_name: dict[str, ErrorSpec] | None = None
        self._by_code: dict[str, ErrorSpec] = {}
        self._cache: dict[str, ErrorSpec] = {}

    def _index(self) -> dict[str, ErrorSpec]:
        if self._by_name is None:
            by_name: dict[str, ErrorSpec] = {}
            for shape in self._model.error_shapes:
                meta = shape.metadata.get("error", {})
                legacy = self._legacy.get(shape.name)
                code = meta.get("code") or (legacy[0] if legacy else shape.name)
                status = meta.get("httpStatusCode") or (legacy[1] if legacy else None)
                fault = meta.get("senderFault")
                spec = ErrorSpec(shape.name, code, status, fault, shape)
                by_name[shape.name] = spec
                # Several shapes may share one code (CloudWatch); the first keeps it.
                self._by_code.setdefault(code, spec)
            self._by_name = by_name
        return self._by_name

    def spec(self, code: str) -> ErrorSpec:
        """The wire names of error `code` (a shape name or a query code; unknown codes as is)."""
        found = self._cache.get(code)
        if found is None:
            by_name = self._index()
            found = by_name.get(code) or self._by_code.get(code)
            if found is None:
                found = ErrorSpec(code, code, None, None, None)
            self._cache[code] = found
        return found

    def status_and_fault(self, err: ServiceError) -> tuple[ErrorSpec, int, bool]:
        """The spec of `err`, and the status and fault to send: what the provider said
        explicitly wins, otherwise the model's, otherwise the ServiceError defaults."""
        spec = self.spec(err.code)
        status = err.status
        if spec.status is not None and not _explicit(err, "status"):
            status = spec.status
        fault = err.sender_fault
        if spec.sender_fault is not None and not _explicit(err, "sender_fault"):
            fault = spec.sender_fault
        elif not _explicit(err, "sender_fault"):
            fault = status < 500
        return spec, status, fault


def _explicit(err: ServiceError, attr: str) -> bool:
    """Whether `attr` was set on this error or by a ServiceError subclass (not the base default)."""
    if attr in vars(err):
        return True
    for cls in type(err).__mro__:
        if cls is ServiceError:
            return False
        if attr in vars(cls):
            return True
    return False


def protocol_error(code: str, message: str, status: int = 400) -> ServiceError:
    """A request the protocol layer itself rejects (unknown operation, malformed body...)."""
    return ServiceError(message, code=code, status=status, sender_fault=status < 500)
