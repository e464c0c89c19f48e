"""Identifiers in the forms AWS uses. Randomness lives here so engines can take ids as inputs."""

from __future__ import annotations

import os
import secrets
import string

_VARIANT = "89ab"
_ALNUM_LOWER = string.ascii_lowercase + string.digits
_ALNUM_UPPER = string.ascii_uppercase + string.digits


def request_id() -> str:
    """A request id as most services send it (UUID4-shaped; built directly, as this runs on
    every request)."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


def short_id(length: int = 10) -> str:
    """A lower-case alphanumeric id, as API Gateway uses for API and resource ids."""
    return "".join(secrets.choice(_ALNUM_LOWER) for _ in range(length))


def upper_id(length: int = 16, prefix: str = "") -> str:
    """An upper-case alphanumeric id, like IAM's unique ids and access key ids."""
    return prefix + "".join(secrets.choice(_ALNUM_UPPER) for _ in range(length - len(prefix)))


def token(nbytes: int = 32) -> str:
    """An opaque url-safe token (secrets, session tokens, receipt handles)."""
    return secrets.token_urlsafe(nbytes)
