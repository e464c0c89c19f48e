"""The engine's one error: a template or its inputs are invalid. The service turns it into the
CloudFormation `ValidationError` with the same message."""

from __future__ import annotations


class TemplateError(Exception):
    """A template, parameter or intrinsic-function error, with CloudFormation's message text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
