"""CloudFormation's errors (codes from its botocore model; messages from AWS)."""

from __future__ import annotations

from overcast.core.errors import ServiceError


class CfnValidationError(ServiceError):
    code = "ValidationError"


def _error(name: str, code: str, status: int = 400) -> type[ServiceError]:
    """A ServiceError class for one of CloudFormation's error codes."""
    return type(name, (ServiceError,), {"code": code, "status": status, "__module__": __name__})


AlreadyExistsException = _error("AlreadyExistsException", "AlreadyExistsException")
ChangeSetNotFoundException = _error("ChangeSetNotFoundException", "ChangeSetNotFound", 404)
InvalidChangeSetStatusException = _error(
    "InvalidChangeSetStatusException", "InvalidChangeSetStatus"
)
InsufficientCapabilitiesException = _error(
    "InsufficientCapabilitiesException", "InsufficientCapabilitiesException"
)
TokenAlreadyExistsException = _error("TokenAlreadyExistsException", "TokenAlreadyExistsException")


def stack_not_found(name: str) -> CfnValidationError:
    """What DescribeStacks and friends say for a stack that does not exist."""
    return CfnValidationError(f"Stack with id {name} does not exist")
