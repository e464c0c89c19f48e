"""API Gateway's error codes (rest-json: the code travels in x-amzn-ErrorType)."""

from __future__ import annotations

from overcast.core.errors import ServiceError


class BadRequestException(ServiceError):
    code = "BadRequestException"
    status = 400


class NotFoundException(ServiceError):
    code = "NotFoundException"
    status = 404


class ConflictException(ServiceError):
    code = "ConflictException"
    status = 409


class LimitExceededException(ServiceError):
    code = "LimitExceededException"
    status = 429
