"""ListObjects (v1), ListObjectsV2 and ListObjectVersions: keys in UTF-8 byte order, grouped
into CommonPrefixes by a delimiter, paged by marker, start-after or continuation token, and
URL-encoded on request (EncodingType=url)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from overcast.core.context import RequestContext
from overcast.services.s3 import repo
from overcast.services.s3.base import Params, Result, S3Base, ts
from overcast.services.s3.errors import InvalidArgument
from overcast.services.s3.records import ObjectVersion, owner

_BATCH = 1000


@dataclass(slots=True)
class Page:
    """One page of a listing: entries and common prefixes in order, and where it stopped."""

    entries: list[ObjectVersion] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last: str | None = None  # the last key or common prefix returned
    last_entry: ObjectVersion | None = None


def _start(prefix: str, delimiter: str, marker: str | None) -> tuple[str | None, bool]:
    """Where a listing resumes after `marker`: a marker inside a common prefix skips the rest
    of that prefix, so a page never repeats a CommonPrefixes entry."""
    if not marker:
        return None, False
    if delimiter and marker.startswith(prefix):
        rest = marker[len(prefix) :]
        i = rest.find(delimiter)
        if i >= 0:
            end = repo.prefix_end(prefix + rest[: i + len(delimiter)])
            return (end, True) if end is not None else (marker, False)
    return marker, False


def walk(
    fetch: Callable[[Any, bool, int], list[ObjectVersion]],
    cursor_of: Callable[[ObjectVersion], Any],
    cursor_at: Callable[[str], Any],
    start: Any,
    inclusive: bool,
    prefix: str,
    delimiter: str,
    max_keys: int,
) -> Page:
    """Collect up to `max_keys` entries and common prefixes (both count) from `fetch`, which
    reads rows from a cursor; `cursor_of` is the cursor just past a row, `cursor_at` the cursor
    at a key (to skip the rest of a common prefix)."""
    page = Page()
    count = 0
    cursor, incl = start, inclusive
    while True:
        rows = fetch(cursor, incl, _BATCH)
        if not rows:
            return page
        regroup = False
        for row in rows:
            rest = row.key[len(prefix) :]
            cut = rest.find(delimiter) if delimiter else -1
            if count >= max_keys:
                page.truncated = True
                return page
            count += 1
            if cut >= 0:
                cp = prefix + rest[: cut + len(delimiter)]
                page.prefixes.append(cp)
                page.last = cp
                page.last_entry = None
                end = repo.prefix_end(cp)
                if end is None:
                    return page
                cursor, incl, regroup = cursor_at(end), True, True
                break
            page.entries.append(row)
            page.last = row.key
            page.last_entry = row
            cursor, incl = cursor_of(row), False
        if not regroup and len(rows) < _BATCH:
            return page


def _enc(value: str | None, encode: bool) -> str | None:
    if value is None or not encode:
        return value
    return quote_plus(value, safe="/")


def _max_keys(params: Params) -> int:
    value = params.get("MaxKeys")
    if value is None:
        return 1000
    if int(value) < 0:
        raise InvalidArgument(
            "Argument maxKeys must be an integer between 0 and 2147483647",
            ArgumentName="maxKeys",
            ArgumentValue=str(value),
        )
    return min(int(value), 1000)


def _encoding(params: Params) -> bool:
    enc = params.get("EncodingType")
    if enc not in (None, "url"):
        raise InvalidArgument(
            "Invalid Encoding Method specified in Request",
            ArgumentName="encoding-type",
            ArgumentValue=enc,
        )
    return enc == "url"


class ListingMixin(S3Base):
    """Listing keys and versions."""

    def _list_latest(
        self, bucket: str, prefix: str, delimiter: str, marker: str | None, max_keys: int
    ) -> Page:
        conn = self.db.read()
        start, inclusive = _start(prefix, delimiter, marker)
        return walk(
            lambda after, incl, n: repo.scan_latest(conn, bucket, after, incl, prefix, n),
            lambda row: row.key,
            lambda key: key,
            start,
            inclusive,
            prefix,
            delimiter,
            max_keys,
        )

    def _content(self, obj: ObjectVersion, encode: bool, with_owner: bool) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "Key": _enc(obj.key, encode),
            "LastModified": ts(obj.last_modified),
            "ETag": obj.etag,
            "Size": obj.size,
            "StorageClass": obj.storage_class,
        }
        ck = obj.meta.get("checksum")
        if ck:
            entry["ChecksumAlgorithm"] = [ck["algorithm"]]
            entry["ChecksumType"] = ck["type"]
        if with_owner:
            entry["Owner"] = owner(obj.owner)
        return entry

    def list_objects(self, ctx: RequestContext, params: Params) -> Result:
        """ListObjects (v1): Marker paging; NextMarker when a delimiter is given."""
        bucket = self.bucket(ctx, params.get("Bucket"))
        encode = _encoding(params)
        prefix = params.get("Prefix") or ""
        delimiter = params.get("Delimiter") or ""
        marker = params.get("Marker") or ""
        max_keys = _max_keys(params)
        page = self._list_latest(bucket.name, prefix, delimiter, marker, max_keys)
        out: Result = {
            "Name": bucket.name,
            "Prefix": _enc(prefix, encode),
            "Marker": _enc(marker, encode),
            "MaxKeys": max_keys,
            "IsTruncated": page.truncated,
            "Contents": [self._content(o, encode, True) for o in page.entries],
            "CommonPrefixes": [{"Prefix": _enc(p, encode)} for p in page.prefixes],
        }
        if delimiter:
            out["Delimiter"] = _enc(delimiter, encode)
        if page.truncated and delimiter:
            out["NextMarker"] = _enc(page.last, encode)
        if encode:
            out["EncodingType"] = "url"
        return out

    def list_objects_v2(self, ctx: RequestContext, params: Params) -> Result:
        """ListObjectsV2: StartAfter and opaque continuation tokens; KeyCount."""
        bucket = self.bucket(ctx, params.get("Bucket"))
        encode = _encoding(params)
        prefix = params.get("Prefix") or ""
        delimiter = params.get("Delimiter") or ""
        max_keys = _max_keys(params)
        token = params.get("ContinuationToken")
        start_after = params.get("StartAfter") or ""
        if token is not None:
            try:
                marker = base64.urlsafe_b64decode(token.encode()).decode()
            except ValueError:
                raise InvalidArgument(
                    "The continuation token provided is incorrect",
                    ArgumentName="continuation-token",
                    ArgumentValue=token,
                )
        else:
            marker = start_after
        page = self._list_latest(bucket.name, prefix, delimiter, marker, max_keys)
        out: Result = {
            "Name": bucket.name,
            "Prefix": _enc(prefix, encode),
            "MaxKeys": max_keys,
            "KeyCount": len(page.entries) + len(page.prefixes),
            "IsTruncated": page.truncated,
            "Contents": [
                self._content(o, encode, bool(params.get("FetchOwner"))) for o in page.entries
            ],
            "CommonPrefixes": [{"Prefix": _enc(p, encode)} for p in page.prefixes],
        }
        if delimiter:
            out["Delimiter"] = _enc(delimiter, encode)
        if token is not None:
            out["ContinuationToken"] = token
        if start_after:
            out["StartAfter"] = _enc(start_after, encode)
        if page.truncated and page.last is not None:
            out["NextContinuationToken"] = base64.urlsafe_b64encode(page.last.encode()).decode()
        if encode:
            out["EncodingType"] = "url"
        return out

    def list_object_versions(self, ctx: RequestContext, params: Params) -> Result:
        """ListObjectVersions: versions and delete markers, newest first within a key."""
        bucket = self.bucket(ctx, params.get("Bucket"))
        encode = _encoding(params)
        prefix = params.get("Prefix") or ""
        delimiter = params.get("Delimiter") or ""
        max_keys = _max_keys(params)
        key_marker = params.get("KeyMarker") or ""
        vid_marker = params.get("VersionIdMarker") or ""
        conn = self.db.read()
        start: tuple[str, int | None] | None = None
        inclusive = False
        if key_marker:
            row_id = None
            if vid_marker:
                found = repo.version(conn, bucket.name, key_marker, vid_marker)
                if found is None:
                    raise InvalidArgument(
                        "Invalid version id specified",
                        ArgumentName="version-id-marker",
                        ArgumentValue=vid_marker,
                    )
                row_id = found.id
            skip, inclusive = _start(prefix, delimiter, key_marker)
            start = (skip or key_marker, row_id if skip == key_marker else None)
        page = walk(
            lambda after, incl, n: repo.scan_versions(conn, bucket.name, after, incl, prefix, n),
            lambda row: (row.key, row.id),
            lambda key: (key, None),
            start,
            inclusive,
            prefix,
            delimiter,
            max_keys,
        )
        versions: list[dict[str, Any]] = []
        markers: list[dict[str, Any]] = []
        for v in page.entries:
            common = {
                "Key": _enc(v.key, encode),
                "VersionId": v.version_id,
                "IsLatest": v.is_latest,
                "LastModified": ts(v.last_modified),
                "Owner": owner(v.owner),
            }
            if v.delete_marker:
                markers.append(common)
            else:
                entry = self._content(v, encode, True)
                entry.update(common)
                versions.append(entry)
        out: Result = {
            "Name": bucket.name,
            "Prefix": _enc(prefix, encode),
            "KeyMarker": _enc(key_marker, encode),
            "VersionIdMarker": vid_marker,
            "MaxKeys": max_keys,
            "IsTruncated": page.truncated,
            "Versions": versions,
            "DeleteMarkers": markers,
            "CommonPrefixes": [{"Prefix": _enc(p, encode)} for p in page.prefixes],
        }
        if delimiter:
            out["Delimiter"] = _enc(delimiter, encode)
        if page.truncated:
            out["NextKeyMarker"] = _enc(page.last, encode)
            if page.last_entry is not None:
                out["NextVersionIdMarker"] = page.last_entry.version_id
        if encode:
            out["EncodingType"] = "url"
        return out
