"""CloudFormation's errors (codes from its botocore model; messages from AWS)."""

from __future__ import annotations

from overcast.core.errors import ServiceError


class CfnValidationError(ServiceError):
    code = "ValidationError"


class AlreadyExistsException(ServiceError):
    code = "AlreadyExistsException"


class ChangeSetNotFoundException(ServiceError):
    code = "ChangeSetNotFound"
    status = 404


class InvalidChangeSetStatusException(ServiceError):
    code = "InvalidChangeSetStatus"


class InsufficientCapabilitiesException(ServiceError):
    code = "InsufficientCapabilitiesException"


class TokenAlreadyExistsException(ServiceError):
    code = "TokenAlreadyExistsException"


def stack_not_found(name: str) -> CfnValidationError:
    """What DescribeStacks and friends say for a stack that does not exist."""
    return CfnValidationError(f"Stack with id {name} does not exist")
