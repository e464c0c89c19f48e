"""HTTP preconditions and byte ranges as S3 evaluates them (RFC 7232/7233 with S3's rules on how
the headers combine)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import format_datetime

from overcast.services.s3.errors import InvalidRange, NotModified, PreconditionFailed
from overcast.services.s3.records import ObjectVersion

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def http_date(epoch: float) -> str:
    """An RFC 7231 date (`Wed, 21 Oct 2015 07:28:00 GMT`)."""
    return format_datetime(datetime.fromtimestamp(int(epoch), UTC), usegmt=True)


def etag_matches(header: str, etag: str) -> bool:
    """Whether an If-Match/If-None-Match list names this ETag (`*` names any)."""
    bare = etag.strip('"')
    for candidate in header.split(","):
        c = candidate.strip()
        if c.startswith("W/"):
            c = c[2:]
        if c == "*" or c.strip('"') == bare:
            return True
    return False


def _epoch(value: datetime | str | float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp() if value.tzinfo else value.replace(tzinfo=UTC).timestamp()
    if isinstance(value, int | float):
        return float(value)
    try:
        from email.utils import parsedate_to_datetime

        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


def check_read(
    obj: ObjectVersion,
    if_match: str | None,
    if_none_match: str | None,
    if_modified_since: datetime | str | None,
    if_unmodified_since: datetime | str | None,
) -> None:
    """GetObject/HeadObject preconditions: 412 PreconditionFailed or 304 NotModified."""
    modified = int(obj.last_modified)
    headers = {"ETag": obj.etag, "Last-Modified": http_date(obj.last_modified)}
    if if_match is not None:
        if not etag_matches(if_match, obj.etag):
            raise PreconditionFailed(Condition="If-Match")
    else:
        since = _epoch(if_unmodified_since)
        if since is not None and modified > since:
            raise PreconditionFailed(Condition="If-Unmodified-Since")
    if if_none_match is not None:
        if etag_matches(if_none_match, obj.etag):
            raise NotModified(headers=headers)
    else:
        since = _epoch(if_modified_since)
        if since is not None and modified <= since:
            raise NotModified(headers=headers)


def check_copy_source(
    obj: ObjectVersion,
    if_match: str | None,
    if_none_match: str | None,
    if_modified_since: datetime | str | None,
    if_unmodified_since: datetime | str | None,
) -> None:
    """x-amz-copy-source-if-*: every failure is 412 PreconditionFailed (If-Match true wins
    over If-Unmodified-Since; If-None-Match false fails even if If-Modified-Since is true)."""
    modified = int(obj.last_modified)
    if if_match is not None:
        if not etag_matches(if_match, obj.etag):
            raise PreconditionFailed(Condition="x-amz-copy-source-If-Match")
    else:
        since = _epoch(if_unmodified_since)
        if since is not None and modified > since:
            raise PreconditionFailed(Condition="x-amz-copy-source-If-Unmodified-Since")
    if if_none_match is not None:
        if etag_matches(if_none_match, obj.etag):
            raise PreconditionFailed(Condition="x-amz-copy-source-If-None-Match")
    else:
        since = _epoch(if_modified_since)
        if since is not None and modified <= since:
            raise PreconditionFailed(Condition="x-amz-copy-source-If-Modified-Since")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) bytes a Range header asks for, or None for the whole object
    (no header, or one S3 ignores: malformed or several ranges). InvalidRange (416) if it cannot
    be satisfied."""
    if not header:
        return None
    m = _RANGE.match(header.strip().replace(" ", ""))
    if m is None:
        return None
    first_s, last_s = m.groups()
    if first_s == "" and last_s == "":
        return None
    if first_s == "":
        suffix = int(last_s)
        if suffix == 0 or size == 0:
            raise InvalidRange(ActualObjectSize=str(size), RangeRequested=header)
        return max(0, size - suffix), size - 1
    first = int(first_s)
    if last_s and int(last_s) < first:
        return None
    if first >= size:
        raise InvalidRange(ActualObjectSize=str(size), RangeRequested=header)
    last = int(last_s) if last_s else size - 1
    return first, min(last, size - 1)
