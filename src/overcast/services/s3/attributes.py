"""Per-object sub-resources: GetObjectAttributes, object tagging and object ACLs."""

from __future__ import annotations

import sqlite3
from typing import Any

from overcast.core.context import RequestContext
from overcast.services.s3 import checksums, repo
from overcast.services.s3.base import Params, Result, ts
from overcast.services.s3.buckets import acl_from_params, canned_acl, validate_tags
from overcast.services.s3.errors import InvalidArgument
from overcast.services.s3.objects import ObjectsMixin
from overcast.services.s3.records import ObjectVersion

_ATTRIBUTES = {"ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"}


class AttributesMixin(ObjectsMixin):
    """Object attributes, tags and ACLs."""

    def get_object_attributes(self, ctx: RequestContext, params: Params) -> Result:
        """GetObjectAttributes: only the attributes asked for (ETag without quotes)."""
        bucket = self.bucket(ctx, params.get("Bucket"))
        wanted = set(params.get("ObjectAttributes") or [])
        if not wanted or wanted - _ATTRIBUTES:
            raise InvalidArgument(
                "Invalid attribute name specified.",
                ArgumentName="x-amz-object-attributes",
                ArgumentValue=",".join(sorted(wanted - _ATTRIBUTES)),
            )
        obj = self.locate(ctx, bucket, params["Key"], params.get("VersionId"), "GET")
        out: Result = {"LastModified": ts(int(obj.last_modified))}
        if bucket.versioning:
            out["VersionId"] = obj.version_id
        if "ETag" in wanted:
            out["ETag"] = obj.etag.strip('"')
        if "StorageClass" in wanted:
            out["StorageClass"] = obj.storage_class
        if "ObjectSize" in wanted:
            out["ObjectSize"] = obj.size
        ck = obj.meta.get("checksum")
        if "Checksum" in wanted and ck:
            out["Checksum"] = {
                checksums.member(ck["algorithm"]): ck["value"],
                "ChecksumType": ck["type"],
            }
        if "ObjectParts" in wanted and obj.parts:
            out["ObjectParts"] = self._parts(obj, params, ck)
        return out

    @staticmethod
    def _parts(obj: ObjectVersion, params: Params, ck: dict[str, Any] | None) -> dict[str, Any]:
        marker = int(params.get("PartNumberMarker") or 0)
        max_parts = int(params.get("MaxParts") or 1000)
        numbered = list(enumerate(obj.parts, start=1))
        after = [(n, p) for n, p in numbered if n > marker]
        page = after[:max_parts]
        parts: list[dict[str, Any]] = []
        for n, (size, value) in page:
            entry: dict[str, Any] = {"PartNumber": n, "Size": size}
            if ck and value:
                entry[checksums.member(ck["algorithm"])] = value
            parts.append(entry)
        out: dict[str, Any] = {
            "TotalPartsCount": len(obj.parts),
            "PartNumberMarker": marker,
            "MaxParts": max_parts,
            "IsTruncated": len(after) > max_parts,
            "Parts": parts,
        }
        if page:
            out["NextPartNumberMarker"] = page[-1][0]
        return out

    # -- tagging -------------------------------------------------------------------------------------

    async def put_object_tagging(self, ctx: RequestContext, params: Params) -> Result:
        """PutObjectTagging: replaces a version's tag set (at most 10 tags)."""
        tags = validate_tags((params.get("Tagging") or {}).get("TagSet") or [])
        if len(tags) > 10:
            raise InvalidArgument(
                "Object tags cannot be greater than 10", ArgumentName="x-amz-tagging"
            )
        return await self._update(ctx, params, lambda obj: obj.meta.__setitem__("tags", tags))

    def get_object_tagging(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self.bucket(ctx, params.get("Bucket"))
        obj = self.locate(ctx, bucket, params["Key"], params.get("VersionId"), "GET")
        out: Result = {"TagSet": obj.tags}
        if bucket.versioning:
            out["VersionId"] = obj.version_id
        return out

    async def delete_object_tagging(self, ctx: RequestContext, params: Params) -> Result:
        out = await self._update(ctx, params, lambda obj: obj.meta.__setitem__("tags", []))
        ctx.response_status = 204
        return out

    # -- ACL -------------------------------------------------------------------------------------------

    async def put_object_acl(self, ctx: RequestContext, params: Params) -> Result:
        acl = acl_from_params(ctx.account_id, params) or canned_acl(ctx.account_id, "private")
        out = await self._update(ctx, params, lambda obj: obj.meta.__setitem__("acl", acl))
        out.pop("VersionId", None)
        return out

    def get_object_acl(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self.bucket(ctx, params.get("Bucket"))
        obj = self.locate(ctx, bucket, params["Key"], params.get("VersionId"), "GET")
        acl = obj.meta.get("acl") or canned_acl(obj.owner, "private")
        return dict(acl)

    async def _update(self, ctx: RequestContext, params: Params, change: Any) -> Result:
        """Change one version's metadata in the next group commit (a small write)."""
        bucket = self.bucket(ctx, params.get("Bucket"))

        def apply(conn: sqlite3.Connection) -> ObjectVersion:
            # The flush runs on the event-loop thread, whose connection holds the transaction:
            # `locate` reads through it, so it sees the writes serialized before this one.
            obj = self.locate(ctx, bucket, params["Key"], params.get("VersionId"), "PUT")
            change(obj)
            repo.update_meta(conn, obj)
            return obj

        obj = await self.group.submit(apply)
        return {"VersionId": obj.version_id} if bucket.versioning else {}
