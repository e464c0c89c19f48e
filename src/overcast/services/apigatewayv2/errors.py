"""apigatewayv2's error codes."""

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
