"""Multipart uploads: parts are blobs of their own; completing concatenates them (in-kernel
copy) into the object's blob and computes S3's ETag (MD5 of the part MD5s, `-N`) and the
full-object or COMPOSITE checksum."""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
import shutil
from typing import Any

from overcast.core.context import RequestContext
from overcast.services.s3 import checksums, ingest, repo
from overcast.services.s3.base import Params, Result, in_thread, ts
from overcast.services.s3.buckets import acl_from_params
from overcast.services.s3.conditions import parse_range
from overcast.services.s3.copying import CopyMixin
from overcast.services.s3.errors import (
    BadDigest,
    EntityTooSmall,
    InvalidArgument,
    InvalidPart,
    InvalidPartOrder,
    InvalidRequest,
    NoSuchUpload,
)
from overcast.services.s3.objects import (
    MAX_PUT_SIZE,
    headers_from_params,
    sse_from_params,
    storage_class,
    tags_from_header,
)
from overcast.services.s3.records import ObjectVersion, Part, Upload, owner

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10000


def _concat(paths: list[str], dest: str) -> None:
    """Concatenate files into `dest` (copy_file_range keeps the bytes in the kernel)."""
    with open(dest, "wb") as out:
        for path in paths:
            with open(path, "rb") as src:
                left = os.fstat(src.fileno()).st_size
                try:
                    while left > 0:
                        n = os.copy_file_range(src.fileno(), out.fileno(), left)
                        if n == 0:
                            break
                        left -= n
                except OSError:  # a filesystem without copy_file_range: both offsets moved on
                    shutil.copyfileobj(src, out, 1 << 20)


class MultipartMixin(CopyMixin):
    """Create, upload parts (or copy them), complete, abort, list."""

    def _upload(self, params: Params) -> Upload:
        up = repo.get_upload(self.db.read(), params.get("UploadId") or "")
        if up is None or up.bucket != params.get("Bucket") or up.key != params.get("Key"):
            raise NoSuchUpload(UploadId=params.get("UploadId"))
        return up

    @in_thread
    def create_multipart_upload(self, ctx: RequestContext, params: Params) -> Result:
        """CreateMultipartUpload: records the object's metadata and checksum choice."""
        bucket = self.bucket(ctx, params.get("Bucket"))
        algorithm = params.get("ChecksumAlgorithm")
        kind = params.get("ChecksumType")
        if algorithm is not None:
            algorithm = algorithm.upper()
            if algorithm not in checksums.ALGORITHMS:
                raise InvalidRequest("Checksum algorithm provided is unsupported.")
        if kind is not None and algorithm is None:
            raise InvalidRequest(
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."
            )
        if algorithm is not None:
            kind = kind or (
                "FULL_OBJECT" if algorithm in checksums.FULL_OBJECT_ONLY else "COMPOSITE"
            )
            if (kind == "COMPOSITE" and algorithm in checksums.FULL_OBJECT_ONLY) or (
                kind == "FULL_OBJECT" and algorithm in checksums.COMPOSITE_ONLY
            ):
                raise InvalidRequest(
                    f"The {algorithm} checksum algorithm is not supported with the {kind} checksum type."
                )
        meta: dict[str, Any] = {
            "headers": headers_from_params(params),
            "user": dict(params.get("Metadata") or {}),
            "tags": tags_from_header(params.get("Tagging")),
            "sse": sse_from_params(params, self.encryption_of(bucket.name)),
        }
        acl = acl_from_params(ctx.account_id, params)
        if acl is not None:
            meta["acl"] = acl
        up = Upload(
            upload_id=secrets.token_urlsafe(48),
            bucket=bucket.name,
            key=params["Key"],
            initiated=self.now(),
            owner=ctx.account_id,
            storage_class=storage_class(params),
            checksum_algorithm=algorithm,
            checksum_type=kind,
            meta=meta,
        )
        with self.db.transaction() as conn:
            repo.insert_upload(conn, up)
        out: Result = {"Bucket": up.bucket, "Key": up.key, "UploadId": up.upload_id, **meta["sse"]}
        if algorithm:
            out["ChecksumAlgorithm"] = algorithm
            out["ChecksumType"] = kind
        return out

    def _check_part_number(self, params: Params) -> int:
        n = params.get("PartNumber")
        if n is None or not 1 <= int(n) <= MAX_PARTS:
            raise InvalidArgument(
                "Part number must be an integer between 1 and 10000, inclusive",
                ArgumentName="partNumber",
                ArgumentValue=str(n),
            )
        return int(n)

    def _store_part(
        self, up: Upload, number: int, blob_id: str, size: int, md5: bytes, ck: str | None
    ) -> Part:
        part = Part(number, blob_id, size, f'"{md5.hex()}"', self.now(), ck)
        try:
            with self.db.transaction() as conn:
                if repo.get_upload(conn, up.upload_id) is None:
                    raise NoSuchUpload(UploadId=up.upload_id)
                freed = repo.put_part(conn, up.upload_id, part)
        except BaseException:
            self.blobs.delete(blob_id)
            raise
        self.free(freed)
        return part

    def _part_checksum(
        self, up: Upload, decl: checksums.Declared | None, data: checksums.Body
    ) -> str:
        algorithm = up.checksum_algorithm or "CRC64NVME"
        if decl is not None and decl.algorithm != algorithm and up.checksum_algorithm:
            raise InvalidRequest(
                f"Checksum Type mismatch occurred, expected checksum Type: {algorithm.lower()}, "
                f"actual checksum Type: {decl.algorithm.lower()}"
            )
        if decl is not None and decl.algorithm == algorithm:
            return checksums.verify(decl, data)
        if decl is not None:
            checksums.verify(decl, data)
        return checksums.compute(algorithm, data)

    @in_thread
    def upload_part(self, ctx: RequestContext, params: Params) -> Result:
        """UploadPart: verify digests, store the part's blob and row."""
        self.bucket(ctx, params.get("Bucket"))
        up = self._upload(params)
        number = self._check_part_number(params)
        body = params.get("Body") or b""
        if len(body) > MAX_PUT_SIZE:
            raise InvalidArgument("Part size exceeds the maximum allowed size")
        headers = ctx.http.headers if ctx.http is not None else {}
        decl = checksums.declared(params, headers)
        if decl is not None:
            checksums.check_format(decl)
        stored = ingest.store(
            self.blobs,
            body,
            functools.partial(self._part_checksum, up, decl),
            inline=False,
            content_md5=params.get("ContentMD5"),
        )
        assert stored.blob_id is not None
        ck = stored.checksum
        part = self._store_part(up, number, stored.blob_id, len(body), stored.md5, ck)
        out: Result = {"ETag": part.etag, **up.meta.get("sse", {})}
        if up.checksum_algorithm:
            out[checksums.member(up.checksum_algorithm)] = ck
        return out

    @in_thread
    def upload_part_copy(self, ctx: RequestContext, params: Params) -> Result:
        """UploadPartCopy: a part from (a byte range of) an existing object."""
        self.bucket(ctx, params.get("Bucket"))
        up = self._upload(params)
        number = self._check_part_number(params)
        src = self.copy_source(ctx, params)
        header = params.get("CopySourceRange")
        rng = parse_range(header, src.size) if header else None
        if header and rng is None:
            raise InvalidArgument(
                "The x-amz-copy-source-range value must be of the form bytes=first-last where "
                "first and last are the zero-based offsets of the first and last bytes to copy",
                ArgumentName="x-amz-copy-source-range",
                ArgumentValue=header,
            )
        first, last = rng if rng is not None else (0, src.size - 1)
        data = b"".join(self.read_chunks(src, first, max(0, last - first + 1)))
        md5 = hashlib.md5(data).digest()
        ck = checksums.compute(up.checksum_algorithm or "CRC64NVME", data)
        part = self._store_part(up, number, self.blobs.write(data), len(data), md5, ck)
        result: dict[str, Any] = {"ETag": part.etag, "LastModified": ts(part.last_modified)}
        if up.checksum_algorithm:
            result[checksums.member(up.checksum_algorithm)] = ck
        out: Result = {"CopyPartResult": result}
        src_bucket = repo.get_bucket(self.db.read(), src.bucket)
        if src_bucket is not None and src_bucket.versioning:
            out["CopySourceVersionId"] = src.version_id
        return out

    @in_thread
    def complete_multipart_upload(self, ctx: RequestContext, params: Params) -> Result:
        """CompleteMultipartUpload: check the part list, concatenate, commit the object."""
        bucket = self.bucket(ctx, params.get("Bucket"))
        up = self._upload(params)
        listed = (params.get("MultipartUpload") or {}).get("Parts") or []
        if not listed:
            raise InvalidRequest("You must specify at least one part")
        stored = {p.part_number: p for p in repo.parts_of(self.db.read(), up.upload_id)}
        chosen: list[Part] = []
        previous = 0
        for item in listed:
            n = int(item.get("PartNumber") or 0)
            if n <= previous:
                raise InvalidPartOrder(UploadId=up.upload_id)
            previous = n
            part = stored.get(n)
            etag = (item.get("ETag") or "").strip('"')
            if part is None or etag != part.etag.strip('"'):
                raise InvalidPart(UploadId=up.upload_id, PartNumber=str(n), ETag=item.get("ETag"))
            if up.checksum_algorithm and up.checksum_type == "COMPOSITE":
                sent = item.get(checksums.member(up.checksum_algorithm))
                if sent is not None and sent != part.checksum:
                    raise InvalidPart(
                        UploadId=up.upload_id, PartNumber=str(n), ETag=item.get("ETag")
                    )
            chosen.append(part)
        for part in chosen[:-1]:
            if part.size < MIN_PART_SIZE:
                raise EntityTooSmall(
                    ProposedSize=str(part.size),
                    MinSizeAllowed=str(MIN_PART_SIZE),
                    PartNumber=str(part.part_number),
                    ETag=part.etag,
                )
        size = sum(p.size for p in chosen)
        if params.get("MpuObjectSize") is not None and int(params["MpuObjectSize"]) != size:
            raise InvalidRequest(
                f"The provided 'x-amz-mp-object-size' header value {params['MpuObjectSize']} "
                f"does not match what was computed: {size}"
            )
        ck = self._object_checksum(up, chosen, params)
        md5s = b"".join(bytes.fromhex(p.etag.strip('"')) for p in chosen)
        etag = f'"{hashlib.md5(md5s).hexdigest()}-{len(chosen)}"'
        blob_id, tmp = self.blobs.open_tmp()
        try:
            _concat([str(self.blobs.path(p.blob_id)) for p in chosen], str(tmp))
            self.blobs.commit_tmp(blob_id)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        meta = dict(up.meta)
        meta["checksum"] = ck
        meta["parts"] = [[p.size, p.checksum] for p in chosen]
        obj = ObjectVersion(
            id=0,
            bucket=bucket.name,
            key=up.key,
            version_id="",
            is_latest=True,
            delete_marker=False,
            blob_id=blob_id,
            size=size,
            etag=etag,
            last_modified=self.now(),
            storage_class=up.storage_class,
            owner=up.owner,
            meta=meta,
        )

        def remove_upload(conn: Any) -> list[str]:
            if repo.get_upload(conn, up.upload_id) is None:
                raise NoSuchUpload(UploadId=up.upload_id)
            return repo.delete_upload(conn, up.upload_id)

        obj = self.commit_object(
            ctx,
            obj,
            params.get("IfMatch"),
            params.get("IfNoneMatch"),
            within=remove_upload,
            event="s3:ObjectCreated:CompleteMultipartUpload",
        )
        out: Result = {
            "Location": f"{ctx.endpoint}/{bucket.name}/{up.key}",
            "Bucket": bucket.name,
            "Key": up.key,
            "ETag": etag,
            **up.meta.get("sse", {}),
        }
        if up.checksum_algorithm:
            out[checksums.member(ck["algorithm"])] = ck["value"]
            out["ChecksumType"] = ck["type"]
        fresh = repo.get_bucket(self.db.read(), bucket.name)
        if fresh is not None and fresh.versioning:
            out["VersionId"] = obj.version_id
        return out

    def _object_checksum(self, up: Upload, parts: list[Part], params: Params) -> dict[str, Any]:
        algorithm = up.checksum_algorithm or "CRC64NVME"
        kind = up.checksum_type or "FULL_OBJECT"
        values = [p.checksum or "" for p in parts]
        if kind == "COMPOSITE":
            value = checksums.composite(algorithm, values)
        else:
            value = checksums.combine_full(
                algorithm, [(v, p.size) for v, p in zip(values, parts, strict=True)]
            )
        sent = params.get(checksums.member(algorithm))
        if sent is not None and up.checksum_algorithm and sent.split("-")[0] != value.split("-")[0]:
            raise BadDigest(f"The {algorithm} you specified did not match the calculated checksum.")
        return {"algorithm": algorithm, "value": value, "type": kind}

    @in_thread
    def abort_multipart_upload(self, ctx: RequestContext, params: Params) -> Result:
        """AbortMultipartUpload: drops the upload and frees its parts."""
        self.bucket(ctx, params.get("Bucket"))
        up = self._upload(params)
        with self.db.transaction() as conn:
            freed = repo.delete_upload(conn, up.upload_id)
        self.free(freed)
        ctx.response_status = 204
        return {}

    def list_parts(self, ctx: RequestContext, params: Params) -> Result:
        """ListParts: the parts uploaded so far, paged by part number."""
        self.bucket(ctx, params.get("Bucket"))
        up = self._upload(params)
        marker = int(params.get("PartNumberMarker") or 0)
        max_parts = int(params.get("MaxParts") or 1000)
        after = [p for p in repo.parts_of(self.db.read(), up.upload_id) if p.part_number > marker]
        page = after[:max_parts]
        parts: list[dict[str, Any]] = []
        for p in page:
            entry: dict[str, Any] = {
                "PartNumber": p.part_number,
                "LastModified": ts(p.last_modified),
                "ETag": p.etag,
                "Size": p.size,
            }
            if up.checksum_algorithm and p.checksum:
                entry[checksums.member(up.checksum_algorithm)] = p.checksum
            parts.append(entry)
        out: Result = {
            "Bucket": up.bucket,
            "Key": up.key,
            "UploadId": up.upload_id,
            "PartNumberMarker": marker,
            "MaxParts": max_parts,
            "IsTruncated": len(after) > max_parts,
            "Parts": parts,
            "Initiator": owner(up.owner),
            "Owner": owner(up.owner),
            "StorageClass": up.storage_class,
        }
        if page:
            out["NextPartNumberMarker"] = page[-1].part_number
        if up.checksum_algorithm:
            out["ChecksumAlgorithm"] = up.checksum_algorithm
            out["ChecksumType"] = up.checksum_type
        return out

    def list_multipart_uploads(self, ctx: RequestContext, params: Params) -> Result:
        """ListMultipartUploads: in-progress uploads by key then initiation time."""
        bucket = self.bucket(ctx, params.get("Bucket"))
        prefix = params.get("Prefix") or ""
        delimiter = params.get("Delimiter") or ""
        key_marker = params.get("KeyMarker") or ""
        id_marker = params.get("UploadIdMarker") or ""
        max_uploads = min(int(params.get("MaxUploads") or 1000), 1000)
        uploads: list[dict[str, Any]] = []
        prefixes: list[str] = []
        truncated = False
        last: tuple[str, str] = ("", "")
        for up in repo.list_uploads(self.db.read(), bucket.name):
            if not up.key.startswith(prefix):
                continue
            if key_marker and (
                up.key < key_marker
                or (up.key == key_marker and (not id_marker or up.upload_id <= id_marker))
            ):
                continue
            rest = up.key[len(prefix) :]
            cut = rest.find(delimiter) if delimiter else -1
            if cut >= 0:
                cp = prefix + rest[: cut + len(delimiter)]
                if cp in prefixes:
                    continue
            if len(uploads) + len(prefixes) >= max_uploads:
                truncated = True
                break
            if cut >= 0:
                prefixes.append(cp)
                continue
            entry: dict[str, Any] = {
                "UploadId": up.upload_id,
                "Key": up.key,
                "Initiated": ts(up.initiated),
                "StorageClass": up.storage_class,
                "Owner": owner(up.owner),
                "Initiator": owner(up.owner),
            }
            if up.checksum_algorithm:
                entry["ChecksumAlgorithm"] = up.checksum_algorithm
                entry["ChecksumType"] = up.checksum_type
            uploads.append(entry)
            last = (up.key, up.upload_id)
        out: Result = {
            "Bucket": bucket.name,
            "KeyMarker": key_marker,
            "UploadIdMarker": id_marker,
            "Prefix": prefix,
            "MaxUploads": max_uploads,
            "IsTruncated": truncated,
            "Uploads": uploads,
            "CommonPrefixes": [{"Prefix": p} for p in prefixes],
        }
        if delimiter:
            out["Delimiter"] = delimiter
        if truncated:
            out["NextKeyMarker"], out["NextUploadIdMarker"] = last
        return out
