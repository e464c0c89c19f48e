"""Key values as byte strings whose memcmp order is DynamoDB's order.

S: UTF-8 bytes (UTF-8 preserves code point order). B: the bytes. N: a sign byte, then the decimal
exponent (one byte, flipped for negatives), then one byte per significant digit (complemented for
negatives, with a terminator so that a shorter negative mantissa sorts after a longer one). The
whole 38-digit range orders exactly; no float is involved.
"""

from __future__ import annotations

import zlib
from decimal import Decimal
from typing import Any

_NEG, _ZERO, _POS = b"\x01", b"\x02", b"\x03"


# Digit characters to digit bytes.
_DIGITS = bytes.maketrans(b"0123456789", bytes(range(10)))


# The sign and exponent bytes of a positive integer of n digits (exponent n - 1, + 130).
_INT_PREFIX = [b""] + [_POS + bytes([n + 129]) for n in range(1, 39)]


def is_plain_int(text: str) -> bool:
    """A positive integer in canonical form (no sign, no leading zero, 38 digits at most): the
    most common number key, valid and normalised as it stands."""
    return text.isdigit() and text.isascii() and text[0] != "0" and len(text) <= 38


def encode_plain_int(text: str) -> bytes:
    """`encode_number` of a text that `is_plain_int`: no Decimal needed."""
    return _INT_PREFIX[len(text)] + text.rstrip("0").encode().translate(_DIGITS)


def encode_number(text: str) -> bytes:
    """The sortable encoding of a (valid) number string."""
    if is_plain_int(text):
        return encode_plain_int(text)
    d = Decimal(text)
    if d.is_zero():
        return _ZERO
    sign, digits_t, _ = d.as_tuple()
    digits = list(digits_t)
    while digits and digits[-1] == 0:
        digits.pop()
    # adjusted exponent is in [-130, 125]; +130 maps it to one byte
    exp = d.adjusted() + 130
    if not sign:
        return _POS + bytes([exp]) + bytes(digits)
    return _NEG + bytes([255 - exp]) + bytes(9 - x for x in digits) + b"\x0a"


def decode_number(data: bytes) -> str:
    """The canonical number string back from its encoding (used for LastEvaluatedKey checks)."""
    from overcast.engines.ddb.values import format_number

    if data == _ZERO:
        return "0"
    if data[:1] == _POS:
        exp = data[1] - 130
        digits = list(data[2:])
        sign = 0
    else:
        exp = 255 - data[1] - 130
        digits = [9 - x for x in data[2:-1]]
        sign = 1
    d = Decimal((sign, tuple(digits), exp - len(digits) + 1))
    return format_number(d)


def encode_key(value: dict[str, Any]) -> bytes:
    """A key attribute's value (S, N or B) as sortable bytes."""
    t, v = next(iter(value.items()))
    if t == "S":
        return bytes(v.encode())
    if t == "N":
        return encode_number(v)
    return bytes(v)


def segment_of(pk: bytes) -> int:
    """A stable 31-bit hash of a partition key, used to split parallel scans into segments."""
    return zlib.crc32(pk) & 0x7FFFFFFF
