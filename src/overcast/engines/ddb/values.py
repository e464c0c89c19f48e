"""Attribute values: validation and normalisation of request values, numbers with DynamoDB's
38-digit precision, comparison and equality, and item size as AWS counts it.

Values are DynamoDB-JSON dicts with one member: {"S": str}, {"N": str}, {"B": bytes}, {"SS": [...]},
{"NS": [...]}, {"BS": [...]}, {"M": {...}}, {"L": [...]}, {"NULL": True}, {"BOOL": bool}. Numbers
stay strings (normalised) and become Decimal only to compare or compute: never float.
"""

from __future__ import annotations

import decimal
import re
from decimal import Decimal
from typing import Any

from overcast.engines.ddb.errors import DdbValidationError, invalid_params
from overcast.engines.ddb.keys import is_plain_int

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

TYPES = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
SET_TYPES = {"SS": "S", "NS": "N", "BS": "B"}
MAX_DEPTH = 32
MAX_ITEM_SIZE = 400 * 1024

# Wide enough that parsing and normalising never round; arithmetic uses ARITH.
_WIDE = decimal.Context(prec=200, Emax=999999, Emin=-999999)
ARITH = decimal.Context(
    prec=38, Emax=999999, Emin=-999999, traps=[decimal.InvalidOperation, decimal.Inexact]
)

_SET_NAMES = {"SS": "string set", "NS": "number set", "BS": "binary set"}


def number_error() -> DdbValidationError:
    return DdbValidationError("A value provided cannot be converted into a number")


def parse_number(text: str) -> Decimal:
    """A request's number string as a Decimal, checked against DynamoDB's limits."""
    if not isinstance(text, str) or not text or text.strip() != text:
        raise number_error()
    try:
        d = Decimal(text)
    except decimal.InvalidOperation:
        raise number_error() from None
    if not d.is_finite():
        raise number_error()
    check_number(d)
    return d


def check_number(d: Decimal) -> None:
    """Raise AWS's errors for a number outside DynamoDB's range or precision."""
    if d.is_zero():
        return
    n = d.normalize(_WIDE)
    digits = len(n.as_tuple().digits)
    if digits > 38:
        raise DdbValidationError("Attempting to store more than 38 significant digits in a Number")
    exp = n.adjusted()
    if exp > 125:
        raise DdbValidationError(
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        )
    if exp < -130:
        raise DdbValidationError(
            "Number underflow. Attempting to store a number with magnitude smaller than supported "
            "range"
        )


def format_number(d: Decimal) -> str:
    """DynamoDB's canonical text for a number: no exponent, no trailing zeros."""
    if d.is_zero():
        return "0"
    n = d.normalize(_WIDE)
    return format(n, "f")


_CANONICAL_INT = re.compile(r"-?[1-9][0-9]{0,37}|0")


def normalize_number(text: str) -> str:
    """Validate and canonicalise a number string."""
    # Most numbers are small integers already in canonical form: skip Decimal for them.
    if isinstance(text, str) and _CANONICAL_INT.fullmatch(text):
        return text
    return format_number(parse_number(text))


def to_decimal(text: str) -> Decimal:
    """A stored (already valid) number string as Decimal."""
    return Decimal(text)


# -- validation of incoming values ----------------------------------------------------------------


def check_value(value: Any, depth: int = 1) -> AttributeValue:
    """Validate one request AttributeValue and return it normalised (numbers canonical, sets
    checked). Raises AWS's ValidationException texts."""
    if not isinstance(value, dict) or not value:
        raise DdbValidationError(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        )
    if len(value) > 1:
        raise DdbValidationError(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of "
            "the supported datatypes"
        )
    if depth > MAX_DEPTH:
        raise DdbValidationError("Nesting Levels have exceeded supported limits")
    ((t, v),) = value.items()
    if t == "S":
        if not isinstance(v, str):
            raise DdbValidationError("Supplied AttributeValue is empty, must contain exactly one "
                                     "of the supported datatypes")  # fmt: skip
        return value
    if t == "N":
        return {"N": normalize_number(v)}
    if t == "B":
        if isinstance(v, str):
            v = v.encode()
        return {"B": bytes(v)}
    if t == "BOOL":
        return {"BOOL": bool(v)}
    if t == "NULL":
        if v is not True:
            raise invalid_params("Null attribute value types must have the value of true")
        return value
    if t in SET_TYPES:
        return {t: _check_set(t, v)}
    if t == "M":
        return {"M": {k: check_value(x, depth + 1) for k, x in v.items()}}
    if t == "L":
        return {"L": [check_value(x, depth + 1) for x in v]}
    raise DdbValidationError(
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
    )


def _check_set(t: str, members: list[Any]) -> list[Any]:
    if not members:
        raise invalid_params(f"An {_SET_NAMES[t]}  may not be empty")
    if t == "NS":
        out: list[Any] = [normalize_number(m) for m in members]
        keys: list[Any] = [Decimal(m) for m in out]
    elif t == "BS":
        out = [m.encode() if isinstance(m, str) else bytes(m) for m in members]
        keys = out
    else:
        out = list(members)
        keys = out
    if len(set(keys)) != len(keys):
        shown = ", ".join(str(m) for m in members)
        raise invalid_params(f"Input collection [{shown}] contains duplicates.")
    return out


def check_item(item: Any) -> Item:
    """Validate and normalise a whole item (top-level attribute map)."""
    return {name: check_value(v) for name, v in item.items()}


def check_item_sized(item: Any) -> tuple[Item, int]:
    """`check_item` and `item_size` in one pass: the normalised item and its size.

    Strings, canonical integers, booleans and string sets, most of any item, are checked inline
    and need no normalising: an item of only those is returned as it is, else a copy with the
    normalised values. The caller raises the size error (after its key checks, as AWS orders
    them).
    """
    out: Item | None = None
    size = 0
    for name, v in item.items():
        size += len(name) if name.isascii() else len(name.encode())
        if type(v) is dict and len(v) == 1:
            ((t, x),) = v.items()
            tx = type(x)
            if tx is str:
                if t == "S":
                    size += len(x) if x.isascii() else len(x.encode())
                    continue
                if t == "N" and (is_plain_int(x) or _CANONICAL_INT.fullmatch(x)):
                    size += _int_size(x)
                    continue
            elif tx is bool:
                if t == "BOOL":
                    size += 1
                    continue
            elif tx is list and t == "SS" and x and len(set(x)) == len(x):
                for m in x:
                    size += len(m) if m.isascii() else len(m.encode())
                continue
        checked = check_value(v)
        if checked is not v:
            if out is None:
                out = dict(item)
            out[name] = checked
        size += value_size(checked)
    return (item if out is None else out), size


def _int_size(text: str) -> int:
    """`number_size` of a canonical integer (no point, no leading zero)."""
    negative = text[0] == "-"
    size = (len(text.rstrip("0")) - negative + 1) // 2 + 1
    return size + 1 if negative else size


def size_error(update: bool = False) -> DdbValidationError:
    """AWS's error for an item over 400 KB."""
    if update:
        return DdbValidationError("Item size to update has exceeded the maximum allowed size")
    return DdbValidationError("Item size has exceeded the maximum allowed size")


# -- comparison -----------------------------------------------------------------------------------


def type_of(value: AttributeValue) -> str:
    """The type tag of a value (its single key)."""
    for t in value:
        return t
    return ""


def scalar(value: AttributeValue) -> Any:
    """A comparable Python value for S/N/B (Decimal for N)."""
    t, v = next(iter(value.items()))
    return Decimal(v) if t == "N" else v


def equal(a: AttributeValue | None, b: AttributeValue | None) -> bool:
    """DynamoDB equality: same type and same value (sets regardless of order, numbers by value)."""
    if a is None or b is None:
        return False
    ta, va = next(iter(a.items()))
    tb, vb = next(iter(b.items()))
    if ta != tb:
        return False
    if ta == "N":
        return bool(Decimal(va) == Decimal(vb))
    if ta == "NS":
        return {Decimal(x) for x in va} == {Decimal(x) for x in vb}
    if ta in ("SS", "BS"):
        return set(va) == set(vb)
    if ta == "L":
        return len(va) == len(vb) and all(equal(x, y) for x, y in zip(va, vb, strict=True))
    if ta == "M":
        return va.keys() == vb.keys() and all(equal(va[k], vb[k]) for k in va)
    return bool(va == vb)


def set_members(value: AttributeValue) -> tuple[str, list[Any]]:
    """A set's element type and members (numbers as Decimal)."""
    t, v = next(iter(value.items()))
    if t == "NS":
        return "N", [Decimal(x) for x in v]
    return SET_TYPES[t], list(v)


# -- size -----------------------------------------------------------------------------------------


def number_size(text: str) -> int:
    """Bytes a number takes, as AWS documents: about one byte per two significant digits, plus 1."""
    digits = text.lstrip("-").replace(".", "").strip("0")
    size = (len(digits) + 1) // 2 + 1
    if text.startswith("-"):
        size += 1
    return size


def value_size(value: AttributeValue) -> int:
    """The size of one value as DynamoDB counts it."""
    t, v = next(iter(value.items()))
    if t == "S":
        return len(v.encode())
    if t == "N":
        return number_size(v)
    if t == "B":
        return len(v)
    if t in ("BOOL", "NULL"):
        return 1
    if t == "SS":
        return sum(len(x.encode()) for x in v)
    if t == "NS":
        return sum(number_size(x) for x in v)
    if t == "BS":
        return sum(len(x) for x in v)
    if t == "L":
        return 3 + sum(1 + value_size(x) for x in v)
    # M
    return 3 + sum(1 + len(k.encode()) + value_size(x) for k, x in v.items())


def item_size(item: Item) -> int:
    """The size of an item: attribute names plus values (UTF-8 bytes)."""
    return sum(len(k.encode()) + value_size(v) for k, v in item.items())


def check_item_size(item: Item, update: bool = False) -> int:
    """Raise AWS's error when an item exceeds 400 KB; returns the size."""
    size = item_size(item)
    if size > MAX_ITEM_SIZE:
        raise size_error(update)
    return size
