"""AWS-shaped errors. Providers raise them; the protocol layer turns them into each protocol's shape."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """An error with an AWS error code, a message, an HTTP status and a sender-fault flag.

    `fields` holds extra members of the modelled error shape (e.g. DynamoDB's CancellationReasons,
    S3's BucketName); `headers` extra response headers.
    """

    code: str = "InternalFailure"
    status: int = 400
    sender_fault: bool = True

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        status: int | None = None,
        sender_fault: bool | None = None,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if sender_fault is not None:
            self.sender_fault = sender_fault
        self.fields = fields or {}
        self.headers = headers or {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.status}, {self.message!r})"


class ValidationError(ServiceError):
    """The generic 400 for bad input (the code name differs per service: pass code= to override)."""

    code = "ValidationException"


class NotImplementedOperation(ServiceError):
    """An operation Overcast does not implement yet: 501, naming service and operation."""

    code = "NotImplemented"
    status = 501
    sender_fault = False

    def __init__(self, service: str, operation: str) -> None:
        super().__init__(
            f"The operation {operation} of service {service} is not implemented yet in Overcast"
        )


class InternalFailure(ServiceError):
    code = "InternalFailure"
    status = 500
    sender_fault = False
