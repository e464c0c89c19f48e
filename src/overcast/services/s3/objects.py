"""Object operations: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from overcast.core.context import RequestContext
from overcast.core.http import FileBody
from overcast.services.s3 import checksums, ingest, repo
from overcast.services.s3.base import Params, Result, S3Base, in_thread, ts
from overcast.services.s3.buckets import acl_from_params, validate_tags
from overcast.services.s3.conditions import check_read, etag_matches, http_date, parse_range
from overcast.services.s3.errors import (
    EntityTooLarge,
    InvalidArgument,
    InvalidPartNumber,
    InvalidStorageClass,
    MalformedXML,
    MethodNotAllowed,
    NoSuchBucket,
    NoSuchKey,
    NoSuchVersion,
    PreconditionFailed,
    S3Error,
)
from overcast.services.s3.records import Bucket, ObjectVersion

MAX_PUT_SIZE = 5 * 1024**3
INLINE_MAX = 64 * 1024  # objects up to this size are stored in their metadata row
STORAGE_CLASSES = {
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "OUTPOSTS",
    "GLACIER_IR",
    "SNOW",
    "EXPRESS_ONEZONE",
    "FSX_OPENZFS",
}
# Stored Content-* members, returned as they were given.
HEADER_MEMBERS = (
    "ContentType",
    "ContentEncoding",
    "ContentDisposition",
    "ContentLanguage",
    "CacheControl",
    "WebsiteRedirectLocation",
)
_OVERRIDES = {
    "ResponseCacheControl": "CacheControl",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentEncoding": "ContentEncoding",
    "ResponseContentLanguage": "ContentLanguage",
    "ResponseContentType": "ContentType",
}


def headers_from_params(params: Params) -> dict[str, Any]:
    """The Content-* and related members a write stores (aws-chunked is framing, not content)."""
    out: dict[str, Any] = {}
    for name in HEADER_MEMBERS:
        value = params.get(name)
        if value is not None:
            out[name] = value
    encoding = out.get("ContentEncoding")
    if encoding is not None:
        kept = [e.strip() for e in encoding.split(",") if e.strip() and e.strip() != "aws-chunked"]
        if kept:
            out["ContentEncoding"] = ",".join(kept)
        else:
            del out["ContentEncoding"]
    out.setdefault("ContentType", "binary/octet-stream")
    expires = params.get("Expires")
    if expires is not None:
        out["Expires"] = expires.timestamp() if hasattr(expires, "timestamp") else expires
    return out


def tags_from_header(value: str | None) -> list[dict[str, str]]:
    """x-amz-tagging: a URL-encoded query string of tags."""
    if not value:
        return []
    return validate_tags(
        [{"Key": k, "Value": v} for k, v in parse_qsl(value, keep_blank_values=True)]
    )


def storage_class(params: Params) -> str:
    value = params.get("StorageClass") or "STANDARD"
    if value not in STORAGE_CLASSES:
        raise InvalidStorageClass(StorageClassRequested=value)
    return str(value)


def sse_from_params(params: Params, default: dict[str, Any]) -> dict[str, Any]:
    """Server-side encryption settings recorded with an object (data is stored as given)."""
    algo = params.get("ServerSideEncryption") or default.get("SSEAlgorithm") or "AES256"
    sse: dict[str, Any] = {"ServerSideEncryption": algo}
    key_id = params.get("SSEKMSKeyId") or default.get("KMSMasterKeyID")
    if algo.startswith("aws:kms") and key_id:
        sse["SSEKMSKeyId"] = key_id
    if params.get("BucketKeyEnabled") is not None:
        sse["BucketKeyEnabled"] = bool(params["BucketKeyEnabled"])
    return sse


def version_out(bucket: Bucket, obj: ObjectVersion) -> dict[str, str]:
    """VersionId is returned once a bucket has had versioning set."""
    return {"VersionId": obj.version_id} if bucket.versioning else {}


def checksum_out(obj: ObjectVersion, part: int | None = None) -> dict[str, str]:
    """The stored checksum members (ChecksumMode=ENABLED), for the object or one part."""
    ck = obj.meta.get("checksum")
    if not ck:
        return {}
    if part is not None:
        value = obj.parts[part - 1][1] if obj.parts else ck["value"]
        return {checksums.member(ck["algorithm"]): value} if value else {}
    return {checksums.member(ck["algorithm"]): ck["value"], "ChecksumType": ck["type"]}


class ObjectsMixin(S3Base):
    """Single-object reads and writes."""

    def locate(
        self, ctx: RequestContext, bucket: Bucket, key: str, version_id: str | None, method: str
    ) -> ObjectVersion:
        """The version a read addresses; NoSuchKey/NoSuchVersion, or the delete-marker answers
        (404 for the current version, 405 when addressed by version id)."""
        self.check_version_id(version_id)
        conn = self.db.read()
        if version_id is not None:
            obj = repo.version(conn, bucket.name, key, version_id)
            if obj is None:
                raise NoSuchVersion(Key=key, VersionId=version_id)
        else:
            obj = repo.latest(conn, bucket.name, key)
            if obj is None:
                raise NoSuchKey(Key=key)
        if obj.delete_marker:
            headers = {"x-amz-delete-marker": "true", "x-amz-version-id": obj.version_id}
            if version_id is not None:
                headers["allow"] = "DELETE"
                headers["last-modified"] = http_date(obj.last_modified)
                raise MethodNotAllowed(headers=headers, Method=method, ResourceType="DeleteMarker")
            raise NoSuchKey(headers=headers, Key=key)
        return obj

    # -- PutObject ---------------------------------------------------------------------------------

    async def put_object(self, ctx: RequestContext, params: Params) -> Result:
        """PutObject: verify digests, keep the bytes (inline in the row, or in a durable blob
        file), then commit the version row in the next group commit (one fsync shared with the
        writes that arrive alongside). A small body is handled on the event loop; a larger
        one is digested and written in a thread, so other requests keep being served."""
        body = params.get("Body")
        if body is not None and len(body) > INLINE_MAX:
            obj = await asyncio.to_thread(self._prepare_put, ctx, params)
        else:
            obj = self._prepare_put(ctx, params)
        blob_id = obj.blob_id
        if_match, if_none_match = params.get("IfMatch"), params.get("IfNoneMatch")
        try:
            versioned, obj, freed = await self.group.submit(
                lambda conn: self._commit_tx(conn, ctx, obj, if_match, if_none_match)
            )
        except asyncio.CancelledError:
            # The row may still commit with the group: keep its blob (if nothing names it, the
            # start-up sweep removes it).
            raise
        except BaseException:
            if blob_id is not None:
                self.blobs.delete(blob_id)
            raise
        self.free(freed)
        ck = obj.meta["checksum"]
        out: Result = {
            "ETag": obj.etag,
            checksums.member(ck["algorithm"]): ck["value"],
            "ChecksumType": "FULL_OBJECT",
            **obj.meta["sse"],
        }
        if versioned:
            out["VersionId"] = obj.version_id
        return out

    def _prepare_put(self, ctx: RequestContext, params: Params) -> ObjectVersion:
        """Validate a PutObject and build its version record; a body too big to keep inline is
        already durable in a blob file when this returns."""
        bucket = self.bucket(ctx, params.get("Bucket"))
        body = params.get("Body") or b""
        if isinstance(body, str):
            body = body.encode()
        size = max(len(body), int(params.get("ContentLength") or 0))
        if size > MAX_PUT_SIZE:
            raise EntityTooLarge(ProposedSize=str(size), MaxSizeAllowed=str(MAX_PUT_SIZE))
        headers = ctx.http.headers if ctx.http is not None else {}
        decl = checksums.declared(params, headers)
        if decl is not None:
            algorithm = decl.algorithm
            checksums.check_format(decl)
            checksum: Callable[[checksums.Body], str] = functools.partial(
                checksums.verify_checked, decl
            )
        else:  # S3 gives every new object a CRC64NVME checksum when the client sent none
            algorithm = "CRC64NVME"
            checksum = functools.partial(checksums.compute, algorithm)
        tags = tags_from_header(params.get("Tagging"))
        acl = acl_from_params(ctx.account_id, params)
        klass = storage_class(params)
        sse = sse_from_params(params, self.encryption_of(bucket.name))
        inline = len(body) <= INLINE_MAX
        stored = ingest.store(
            self.blobs, body, checksum, inline=inline, content_md5=params.get("ContentMD5")
        )
        meta: dict[str, Any] = {
            "headers": headers_from_params(params),
            "user": dict(params.get("Metadata") or {}),
            "checksum": {"algorithm": algorithm, "value": stored.checksum, "type": "FULL_OBJECT"},
            "tags": tags,
            "sse": sse,
        }
        if acl is not None:
            meta["acl"] = acl
        return ObjectVersion(  # by position: it runs for every PUT
            0,
            bucket.name,
            params["Key"],
            "",
            True,
            False,
            stored.blob_id,
            len(body),
            f'"{stored.md5.hex()}"',
            self.now(),
            klass,
            ctx.account_id,
            meta,
            body if inline else None,
        )

    def commit_object(
        self,
        ctx: RequestContext,
        obj: ObjectVersion,
        if_match: str | None = None,
        if_none_match: str | None = None,
        *,
        within: Callable[[sqlite3.Connection], list[str]] | None = None,
        event: str = "s3:ObjectCreated:Put",
    ) -> ObjectVersion:
        """Commit `obj` (its bytes already durable in a blob, or inline in `obj.data`) as the
        new current version, checking conditional-write headers under the writer lock. On any
        failure its blob is removed, so nothing partial stays on disk. `within` runs first in
        the same transaction (e.g. removing the completed upload) and returns blobs to free."""
        blob_id = obj.blob_id
        try:
            with self.db.transaction() as conn:
                _, obj, freed = self._commit_tx(
                    conn, ctx, obj, if_match, if_none_match, within=within, event=event
                )
        except BaseException:
            if blob_id is not None:
                self.blobs.delete(blob_id)
            raise
        self.free(freed)
        return obj

    def _commit_tx(
        self,
        conn: sqlite3.Connection,
        ctx: RequestContext,
        obj: ObjectVersion,
        if_match: str | None,
        if_none_match: str | None,
        *,
        within: Callable[[sqlite3.Connection], list[str]] | None = None,
        event: str = "s3:ObjectCreated:Put",
    ) -> tuple[bool, ObjectVersion, list[str]]:
        """The body of `commit_object`, in the open transaction: the conditions are evaluated
        here, against what the transaction sees. Returns whether the bucket has had versioning
        set (so the reply carries a VersionId), the stored record and the blobs to free."""
        freed_before = within(conn) if within is not None else []
        bucket = self.cache.bucket(obj.bucket)  # as good as a read here: see cache.py
        if bucket is None:
            raise NoSuchBucket(BucketName=obj.bucket)
        if if_none_match is not None or if_match is not None:
            current = repo.latest(conn, obj.bucket, obj.key)
            live = current if current is not None and not current.delete_marker else None
            if if_none_match is not None and live is not None:
                if if_none_match.strip() == "*" or etag_matches(if_none_match, live.etag):
                    raise PreconditionFailed(Condition="If-None-Match")
            if if_match is not None:
                if live is None:
                    raise NoSuchKey(Key=obj.key)
                if not etag_matches(if_match, live.etag):
                    raise PreconditionFailed(Condition="If-Match")
        obj, freed = repo.insert_version(conn, bucket, obj, self.object_id())
        self.emit(conn, ctx, event, obj)
        return bool(bucket.versioning), obj, freed_before + freed

    # -- GetObject / HeadObject ----------------------------------------------------------------------

    def get_object(self, ctx: RequestContext, params: Params) -> Result:
        """GetObject: preconditions, Range or partNumber, response-* overrides; the body is
        streamed from the blob file by the edge."""
        return self._read(ctx, params, "GET")

    def head_object(self, ctx: RequestContext, params: Params) -> Result:
        """HeadObject: GetObject's headers without a body (errors without a body too)."""
        return self._read(ctx, params, "HEAD")

    def _read(self, ctx: RequestContext, params: Params, method: str) -> Result:
        bucket = self.bucket(ctx, params.get("Bucket"))
        obj = self.locate(ctx, bucket, params["Key"], params.get("VersionId"), method)
        check_read(
            obj,
            params.get("IfMatch"),
            params.get("IfNoneMatch"),
            params.get("IfModifiedSince"),
            params.get("IfUnmodifiedSince"),
        )
        out = self.describe(obj, bucket)
        first, length = 0, obj.size
        part_number = params.get("PartNumber")
        if part_number is not None:
            if params.get("Range"):
                raise InvalidArgument(
                    "Cannot specify both Range header and partNumber query parameter",
                    ArgumentName="partNumber",
                    ArgumentValue=str(part_number),
                )
            parts = obj.parts or [[obj.size, None]]
            if not 1 <= part_number <= len(parts):
                raise InvalidPartNumber(
                    PartNumberRequested=str(part_number), ActualPartCount=str(len(parts))
                )
            first = sum(p[0] for p in parts[: part_number - 1])
            length = parts[part_number - 1][0]
            if obj.parts:
                out["PartsCount"] = len(parts)
                out["ContentRange"] = f"bytes {first}-{first + length - 1}/{obj.size}"
                ctx.response_status = 206
            if params.get("ChecksumMode") == "ENABLED":
                out.update(checksum_out(obj, part_number if obj.parts else None))
        else:
            rng = parse_range(params.get("Range"), obj.size)
            if rng is not None:
                first, last = rng
                length = last - first + 1
                out["ContentRange"] = f"bytes {first}-{last}/{obj.size}"
                ctx.response_status = 206
            elif params.get("ChecksumMode") == "ENABLED":
                out.update(checksum_out(obj))
        out["ContentLength"] = length
        for param, member in _OVERRIDES.items():
            if params.get(param) is not None:
                out[member] = params[param]
        if params.get("ResponseExpires") is not None:
            out["Expires"] = params["ResponseExpires"]
        if method == "GET":
            if obj.blob_id is not None:
                out["Body"] = FileBody(str(self.blobs.path(obj.blob_id)), first, length)
            else:
                out["Body"] = (obj.data or b"")[first : first + length]
            if obj.tags:
                out["TagCount"] = len(obj.tags)
        return out

    def describe(self, obj: ObjectVersion, bucket: Bucket) -> Result:
        """The headers GetObject and HeadObject share."""
        out: Result = {
            "AcceptRanges": "bytes",
            "LastModified": ts(int(obj.last_modified)),
            "ContentLength": obj.size,
            "ETag": obj.etag,
            **version_out(bucket, obj),
        }
        headers = dict(obj.meta.get("headers") or {})
        expires = headers.pop("Expires", None)
        out.update(headers)
        if expires is not None:
            out["Expires"] = ts(expires) if isinstance(expires, int | float) else expires
        user = obj.meta.get("user")
        if user:
            out["Metadata"] = dict(user)
        if obj.storage_class != "STANDARD":
            out["StorageClass"] = obj.storage_class
        out.update(obj.meta.get("sse") or {})
        return out

    # -- DeleteObject / DeleteObjects ----------------------------------------------------------------

    async def delete_object(self, ctx: RequestContext, params: Params) -> Result:
        """DeleteObject: removes a version, or (versioned, no version id) adds a delete marker.
        Its rows change in the next group commit."""
        bucket = self.bucket(ctx, params.get("Bucket"))
        key, version_id, if_match = params["Key"], params.get("VersionId"), params.get("IfMatch")
        self.check_version_id(version_id)
        out, freed = await self.group.submit(
            lambda conn: self._delete_tx(conn, ctx, bucket.name, key, version_id, if_match)
        )
        self.free(freed)
        ctx.response_status = 204
        return out

    def _delete_tx(
        self,
        conn: sqlite3.Connection,
        ctx: RequestContext,
        bucket_name: str,
        key: str,
        version_id: str | None,
        if_match: str | None,
    ) -> tuple[Result, list[str]]:
        """The body of a delete, in the open transaction; returns the output and blobs to free."""
        freed: list[str] = []
        out: Result = {}
        bucket = self.cache.bucket(bucket_name)
        if bucket is None:
            raise NoSuchBucket(BucketName=bucket_name)
        if if_match is not None:
            current = repo.latest(conn, bucket_name, key)
            if current is None or current.delete_marker:
                raise NoSuchKey(Key=key)
            if not etag_matches(if_match, current.etag):
                raise PreconditionFailed(Condition="If-Match")
        if version_id is not None:
            obj = repo.version(conn, bucket_name, key, version_id)
            out["VersionId"] = version_id
            if obj is not None:
                freed = repo.delete_version(conn, obj)
                self.emit(conn, ctx, "s3:ObjectRemoved:Delete", obj)
                if obj.delete_marker:
                    out["DeleteMarker"] = True
        elif bucket.versioning == "":
            for obj in repo.versions_of(conn, bucket_name, key):
                freed += repo.delete_version(conn, obj)
                self.emit(conn, ctx, "s3:ObjectRemoved:Delete", obj)
        else:
            marker = ObjectVersion(
                id=0,
                bucket=bucket_name,
                key=key,
                version_id="",
                is_latest=True,
                delete_marker=True,
                blob_id=None,
                size=0,
                etag="",
                last_modified=self.now(),
                storage_class="STANDARD",
                owner=ctx.account_id,
            )
            marker, freed = repo.insert_version(conn, bucket, marker, self.object_id())
            self.emit(conn, ctx, "s3:ObjectRemoved:DeleteMarkerCreated", marker)
            out["DeleteMarker"] = True
            out["VersionId"] = marker.version_id
        return out, freed

    @in_thread
    def delete_objects(self, ctx: RequestContext, params: Params) -> Result:
        """DeleteObjects: up to 1000 keys, each reported as Deleted or as an Error (Quiet: only
        errors)."""
        bucket = self.bucket(ctx, params.get("Bucket"))
        spec = params.get("Delete") or {}
        objects = spec.get("Objects") or []
        if not objects or len(objects) > 1000:
            raise MalformedXML()
        quiet = bool(spec.get("Quiet"))
        outcomes: list[tuple[dict[str, Any], Result | S3Error]] = []
        freed: list[str] = []
        # One transaction (one fsync) for the whole request; each key in its own savepoint so
        # a failing one (e.g. its ETag condition) rolls back alone.
        with self.db.transaction() as conn:
            for item in objects:
                conn.execute("SAVEPOINT s3_key")
                try:
                    self.check_version_id(item.get("VersionId"))
                    done, gone = self._delete_tx(
                        conn, ctx, bucket.name, item.get("Key", ""), item.get("VersionId"),
                        item.get("ETag"),
                    )  # fmt: skip
                except S3Error as err:
                    conn.execute("ROLLBACK TO s3_key")
                    conn.execute("RELEASE s3_key")
                    outcomes.append((item, err))
                    continue
                conn.execute("RELEASE s3_key")
                freed += gone
                outcomes.append((item, done))
        self.free(freed)
        deleted: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for item, res in outcomes:
            key = item.get("Key", "")
            vid = item.get("VersionId")
            if isinstance(res, S3Error):
                errors.append(
                    {
                        "Key": key,
                        **({"VersionId": vid} if vid else {}),
                        "Code": res.code,
                        "Message": res.message,
                    }
                )
                continue
            if quiet:
                continue
            entry: dict[str, Any] = {"Key": key}
            if vid is not None:
                entry["VersionId"] = vid
                if res.get("DeleteMarker"):
                    entry["DeleteMarker"] = True
                    entry["DeleteMarkerVersionId"] = vid
            elif res.get("DeleteMarker"):
                entry["DeleteMarker"] = True
                entry["DeleteMarkerVersionId"] = res["VersionId"]
            deleted.append(entry)
        out: Result = {}
        if deleted:
            out["Deleted"] = deleted
        if errors:
            out["Errors"] = errors
        return out
