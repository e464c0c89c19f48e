"""Lambda's errors, with the codes, statuses and message texts AWS uses."""

from __future__ import annotations

from typing import Any

from overcast.core.errors import ServiceError


class LambdaError(ServiceError):
    """Lambda errors carry `Type: User` (or `Service`) in their body."""

    def __init__(
        self,
        message: str = "",
        *,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        merged = {"Type": "User" if self.sender_fault else "Service", **(fields or {})}
        super().__init__(message, fields=merged, headers=headers)


class ResourceNotFound(LambdaError):
    code = "ResourceNotFoundException"
    status = 404


class ResourceConflict(LambdaError):
    code = "ResourceConflictException"
    status = 409


class InvalidParameterValue(LambdaError):
    code = "InvalidParameterValueException"


class InvalidRequestContent(LambdaError):
    code = "InvalidRequestContentException"


class RequestTooLarge(LambdaError):
    code = "RequestEntityTooLargeException"
    status = 413


class TooManyRequests(LambdaError):
    code = "TooManyRequestsException"
    status = 429


class PreconditionFailed(LambdaError):
    code = "PreconditionFailedException"
    status = 412


class ProvisionedConcurrencyConfigNotFound(LambdaError):
    code = "ProvisionedConcurrencyConfigNotFoundException"
    status = 404


class ServiceException(LambdaError):
    code = "ServiceException"
    status = 500
    sender_fault = False


class ValidationException(LambdaError):
    code = "ValidationException"


def function_not_found(arn: str) -> ResourceNotFound:
    return ResourceNotFound(f"Function not found: {arn}")


def constraint(name: str, value: object, rule: str) -> ValidationException:
    """AWS's "1 validation error detected" message."""
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy "
        f"constraint: {rule}"
    )
