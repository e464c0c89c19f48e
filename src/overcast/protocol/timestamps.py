"""Timestamps on the wire: read any format a client sends, write the one each location expects.

Read: epoch seconds (number or numeric string), ISO 8601, RFC 822/1123 — always to an aware UTC
datetime. Write: `iso8601` with millisecond precision (as AWS does), `rfc822` (HTTP-date,
seconds), `unixtimestamp` (epoch seconds, millisecond precision). Providers may hand in a
datetime (naive = UTC) or epoch seconds.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime
from typing import Any

from botocore.utils import parse_timestamp as _botocore_parse_timestamp

_NUMERIC = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def parse(value: Any) -> datetime:
    """A timestamp as a client sent it (number, datetime or string in any AWS format) → UTC.

    Raises ValueError when the value is not a timestamp.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {value!r}")
    text = value.strip()
    if _NUMERIC.match(text):
        return datetime.fromtimestamp(float(text), UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            try:
                parsed = _botocore_parse_timestamp(text)
            except Exception as exc:  # dateutil raises several kinds; all mean "not a date"
                raise ValueError(f"not a timestamp: {value!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def to_datetime(value: Any) -> datetime:
    """A provider's timestamp (datetime, epoch seconds, or string) as an aware UTC datetime."""
    if type(value) is datetime and value.tzinfo is UTC:
        return value
    return parse(value)


def iso8601(value: Any) -> str:
    """`2024-01-02T03:04:05.678Z` — ISO 8601 in UTC with milliseconds, as AWS writes it."""
    # to_datetime gives UTC, so isoformat ends in "+00:00"
    return to_datetime(value).isoformat(timespec="milliseconds")[:-6] + "Z"


def rfc822(value: Any) -> str:
    """`Tue, 02 Jan 2024 03:04:05 GMT` — the HTTP-date form (seconds precision)."""
    dt = to_datetime(value)
    return (
        f"{_DAYS[dt.weekday()]}, {dt.day:02d} {_MONTHS[dt.month - 1]} {dt.year:04d} "
        f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} GMT"
    )


def epoch(value: Any) -> float | int:
    """Epoch seconds with millisecond precision (an int when there is no fraction)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        seconds = to_datetime(value).timestamp()
    rounded = round(seconds, 3)
    return int(rounded) if rounded.is_integer() else rounded


def formatter(fmt: str) -> Any:
    """The writer for a model `timestampFormat` (case-insensitive)."""
    fmt = fmt.lower()
    if fmt == "iso8601":
        return iso8601
    if fmt == "rfc822":
        return rfc822
    if fmt == "unixtimestamp":
        return epoch
    raise ValueError(f"unknown timestampFormat {fmt}")
