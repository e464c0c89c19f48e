"""The errors the engine raises; all are DynamoDB ValidationExceptions (400) with AWS's text."""

from __future__ import annotations

from overcast.core.errors import ServiceError


class DdbValidationError(ServiceError):
    """DynamoDB's ValidationException."""

    code = "ValidationException"


class InvalidExpression(DdbValidationError):
    """An expression that does not parse or check: `Invalid <Kind>Expression: <detail>`."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"Invalid {kind}: {detail}")
        self.kind = kind
        self.detail = detail


def invalid_params(detail: str) -> DdbValidationError:
    """`One or more parameter values were invalid: <detail>`."""
    return DdbValidationError(f"One or more parameter values were invalid: {detail}")
