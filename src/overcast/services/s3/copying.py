"""CopyObject (and the copy-source parsing UploadPartCopy shares): new blobs are hard links to
the source's immutable blob file, so a copy is cheap and atomic."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from overcast.core.context import RequestContext
from overcast.services.s3 import checksums, repo
from overcast.services.s3.base import Params, Result, in_thread, ts
from overcast.services.s3.conditions import check_copy_source
from overcast.services.s3.errors import InvalidArgument, InvalidRequest
from overcast.services.s3.objects import (
    ObjectsMixin,
    headers_from_params,
    sse_from_params,
    storage_class,
    tags_from_header,
)
from overcast.services.s3.records import ObjectVersion

_SELF_COPY = (
    "This copy request is illegal because it is trying to copy an object to itself without "
    "changing the object's metadata, storage class, website redirect location or encryption "
    "attributes."
)


def parse_copy_source(value: str | None) -> tuple[str, str, str | None]:
    """`bucket/key[?versionId=v]` (URL-encoded, optional leading slash) → (bucket, key, vid)."""
    if not value:
        raise InvalidArgument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey"
        )
    path, _, query = value.partition("?")
    version_id = None
    if query:
        for pair in query.split("&"):
            name, _, v = pair.partition("=")
            if name == "versionId":
                version_id = unquote(v)
    path = unquote(path).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise InvalidArgument(
            "Invalid copy source object key",
            ArgumentName="x-amz-copy-source",
            ArgumentValue=value,
        )
    return bucket, key, version_id


class CopyMixin(ObjectsMixin):
    """Server-side copies."""

    def copy_source(self, ctx: RequestContext, params: Params) -> ObjectVersion:
        """The source version of a copy, its preconditions checked (412 on failure)."""
        src_bucket, src_key, src_vid = parse_copy_source(params.get("CopySource"))
        bucket = self.bucket(ctx, src_bucket)
        src = self.locate(ctx, bucket, src_key, src_vid, "GET")
        check_copy_source(
            src,
            params.get("CopySourceIfMatch"),
            params.get("CopySourceIfNoneMatch"),
            params.get("CopySourceIfModifiedSince"),
            params.get("CopySourceIfUnmodifiedSince"),
        )
        return src

    def read_chunks(self, obj: ObjectVersion, first: int = 0, length: int = -1) -> Iterator[bytes]:
        """An object's bytes (or a slice), inline or from its blob file, in chunks."""
        if obj.blob_id is None:
            data = obj.data or b""
            yield data[first:] if length < 0 else data[first : first + length]
            return
        left = obj.size - first if length < 0 else length
        with open(self.blobs.path(obj.blob_id), "rb") as f:
            f.seek(first)
            while left > 0 and (chunk := f.read(min(left, 1 << 20))):
                left -= len(chunk)
                yield chunk

    def link_blob(self, blob_id: str) -> str:
        """A new blob with the same bytes, as a hard link (blobs are never modified in place)."""
        new_id, tmp = self.blobs.open_tmp()
        os.link(self.blobs.path(blob_id), tmp)
        return self.blobs.commit_tmp(new_id)

    @in_thread
    def copy_object(self, ctx: RequestContext, params: Params) -> Result:
        """CopyObject: metadata and tagging directives, conditional copy, and copying an object
        onto itself only to change its metadata."""
        dest = self.bucket(ctx, params.get("Bucket"))
        key: str = params["Key"]
        src = self.copy_source(ctx, params)
        directive = params.get("MetadataDirective") or "COPY"
        tag_directive = params.get("TaggingDirective") or "COPY"
        if directive not in ("COPY", "REPLACE") or tag_directive not in ("COPY", "REPLACE"):
            raise InvalidArgument(
                None, ArgumentName="x-amz-metadata-directive", ArgumentValue=directive
            )
        same = src.bucket == dest.name and src.key == key and src.is_latest
        changes = (
            directive == "REPLACE"
            or params.get("StorageClass") is not None
            or params.get("WebsiteRedirectLocation") is not None
            or params.get("ServerSideEncryption") is not None
            or params.get("SSEKMSKeyId") is not None
            or params.get("ChecksumAlgorithm") is not None
        )
        if same and not changes:
            raise InvalidRequest(_SELF_COPY)
        meta: dict[str, Any] = {}
        if directive == "REPLACE":
            meta["headers"] = headers_from_params(params)
            meta["user"] = dict(params.get("Metadata") or {})
        else:
            meta["headers"] = dict(src.meta.get("headers") or {})
            meta["user"] = dict(src.meta.get("user") or {})
            if params.get("WebsiteRedirectLocation") is not None:
                meta["headers"]["WebsiteRedirectLocation"] = params["WebsiteRedirectLocation"]
        meta["tags"] = (
            tags_from_header(params.get("Tagging"))
            if tag_directive == "REPLACE"
            else list(src.tags)
        )
        meta["sse"] = sse_from_params(params, self.encryption_of(dest.name))
        etag = src.etag
        algorithm = params.get("ChecksumAlgorithm")
        ck = dict(src.meta.get("checksum") or {})
        if src.parts or algorithm or not ck:
            # A copy is one part: ETag and checksum are computed over its bytes.
            md5 = hashlib.md5()
            hasher = checksums.Hasher(
                algorithm
                or (ck.get("algorithm") if ck.get("type") == "FULL_OBJECT" else None)
                or "CRC64NVME"
            )
            for chunk in self.read_chunks(src):
                md5.update(chunk)
                hasher.update(chunk)
            etag = f'"{md5.hexdigest()}"'
            ck = {"algorithm": hasher.algorithm, "value": hasher.b64(), "type": "FULL_OBJECT"}
        meta["checksum"] = ck
        new_class = storage_class(params) if params.get("StorageClass") else src.storage_class
        obj = ObjectVersion(
            id=0,
            bucket=dest.name,
            key=key,
            version_id="",
            is_latest=True,
            delete_marker=False,
            blob_id=None,
            size=src.size,
            etag=etag,
            last_modified=self.now(),
            storage_class=new_class,
            owner=ctx.account_id,
            meta=meta,
            data=src.data if src.blob_id is None else None,
        )
        if src.blob_id is not None:
            obj.blob_id = self.link_blob(src.blob_id)  # last: commit_object frees it on failure
        obj = self.commit_object(
            ctx,
            obj,
            params.get("IfMatch"),
            params.get("IfNoneMatch"),
            event="s3:ObjectCreated:Copy",
        )
        src_bucket = repo.get_bucket(self.db.read(), src.bucket)
        out: Result = {
            "CopyObjectResult": {
                "ETag": obj.etag,
                "LastModified": ts(obj.last_modified),
                checksums.member(ck["algorithm"]): ck["value"],
                "ChecksumType": ck["type"],
            },
            **meta["sse"],
        }
        dest_now = repo.get_bucket(self.db.read(), dest.name)
        if dest_now is not None and dest_now.versioning:
            out["VersionId"] = obj.version_id
        if src_bucket is not None and src_bucket.versioning:
            out["CopySourceVersionId"] = src.version_id
        return out
