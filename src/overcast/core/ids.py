"""Identifiers in the forms AWS uses. Randomness lives here so engines can take ids as inputs."""

from __future__ import annotations

import itertools
import os
import secrets
import string

_VARIANT = "89ab"
_ALNUM_LOWER = string.ascii_lowercase + string.digits
_ALNUM_UPPER = string.ascii_uppercase + string.digits


def request_id() -> str:
    """A request id as most services send it: UUID4-shaped and unique, built cheaply as this runs
    on every request. The first 80 bits are random per process (re-drawn after a fork); the last
    48 count up from a random start. (The counter carries a leading 1 bit, so that hex() of it,
    less "0x1", is the twelve digits zero-padded: cheaper than formatting with a width.)"""
    return _RID_PREFIX + hex(next(_rid_counter))[3:]


def _draw_request_id_prefix() -> None:
    global _RID_PREFIX, _rid_counter
    r = int.from_bytes(os.urandom(16), "big")
    _RID_PREFIX = (
        f"{r >> 96:08x}-{(r >> 80) & 0xFFFF:04x}-4{(r >> 68) & 0xFFF:03x}-"
        f"{_VARIANT[(r >> 66) & 3]}{(r >> 54) & 0xFFF:03x}-"
    )
    # 2**48 + a random 48-bit start: 2**48 ids before the leading bit becomes a 2 (and the
    # digits run from zero again), the same wrap a 48-bit mask would make.
    _rid_counter = itertools.count(_RID_HIGH_BIT | (r & 0xFFFFFFFFFFFF))


_RID_HIGH_BIT = 1 << 48
_RID_PREFIX = ""
_rid_counter = itertools.count()
_draw_request_id_prefix()
os.register_at_fork(after_in_child=_draw_request_id_prefix)


def short_id(length: int = 10) -> str:
    """A lower-case alphanumeric id, as API Gateway uses for API and resource ids."""
    return "".join(secrets.choice(_ALNUM_LOWER) for _ in range(length))


def upper_id(length: int = 16, prefix: str = "") -> str:
    """An upper-case alphanumeric id, like IAM's unique ids and access key ids."""
    return prefix + "".join(secrets.choice(_ALNUM_UPPER) for _ in range(length - len(prefix)))


def token(nbytes: int = 32) -> str:
    """An opaque url-safe token (secrets, session tokens, receipt handles)."""
    return secrets.token_urlsafe(nbytes)
