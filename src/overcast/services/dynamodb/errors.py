"""DynamoDB's modelled errors."""

from __future__ import annotations

from overcast.core.errors import ServiceError
from overcast.engines.ddb.errors import DdbValidationError

ValidationException = DdbValidationError


class ResourceNotFoundException(ServiceError):
    code = "ResourceNotFoundException"


class ResourceInUseException(ServiceError):
    code = "ResourceInUseException"


class ConditionalCheckFailedException(ServiceError):
    code = "ConditionalCheckFailedException"


class TransactionCanceledException(ServiceError):
    code = "TransactionCanceledException"


class TransactionConflictException(ServiceError):
    code = "TransactionConflictException"


class IdempotentParameterMismatchException(ServiceError):
    code = "IdempotentParameterMismatchException"


class DuplicateItemException(ServiceError):
    code = "DuplicateItemException"


class LimitExceededException(ServiceError):
    code = "LimitExceededException"


class ExpiredIteratorException(ServiceError):
    code = "ExpiredIteratorException"


class TrimmedDataAccessException(ServiceError):
    code = "TrimmedDataAccessException"


def not_found(name: str | None = None) -> ResourceNotFoundException:
    """AWS's not-found: item operations say less than table operations."""
    if name is None:
        return ResourceNotFoundException("Requested resource not found")
    return ResourceNotFoundException(f"Requested resource not found: Table: {name} not found")
