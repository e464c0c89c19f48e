"""AWS::S3::Bucket and ::BucketPolicy through the S3 API."""

from __future__ import annotations

from typing import Any

from overcast.services.cloudformation.resources.base import (
    ResourceContext,
    ResourceHandler,
    Result,
    as_bool,
    as_int,
    as_json_text,
    changed,
    ignore_missing,
    tags_list,
)
from overcast.services.cloudformation.resources.generic import Param, build

_MISSING = ("NoSuchBucket",)


_CORS_RULE = (
    Param("AllowedMethods", required=True),
    Param("AllowedOrigins", required=True),
    Param("AllowedHeaders", truthy=True),
    Param("ExposedHeaders", "ExposeHeaders", truthy=True),
    Param("Id", "ID", truthy=True),
    Param("MaxAge", "MaxAgeSeconds", as_int),
)


def _cors(config: dict[str, Any]) -> dict[str, Any]:
    return {"CORSRules": [build(r, _CORS_RULE) for r in config.get("CorsRules") or []]}


def _lifecycle(config: dict[str, Any]) -> dict[str, Any]:
    rules = []
    for r in config.get("Rules") or []:
        rule: dict[str, Any] = {"Status": r.get("Status", "Enabled")}
        if r.get("Id"):
            rule["ID"] = r["Id"]
        rule["Filter"] = {"Prefix": r.get("Prefix", "")}
        if r.get("ExpirationInDays") is not None:
            rule["Expiration"] = {"Days": as_int(r["ExpirationInDays"])}
        elif r.get("ExpirationDate"):
            rule["Expiration"] = {"Date": r["ExpirationDate"]}
        if r.get("NoncurrentVersionExpirationInDays") is not None:
            rule["NoncurrentVersionExpiration"] = {
                "NoncurrentDays": as_int(r["NoncurrentVersionExpirationInDays"])
            }
        if r.get("AbortIncompleteMultipartUpload"):
            rule["AbortIncompleteMultipartUpload"] = {
                "DaysAfterInitiation": as_int(
                    r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
                )
            }
        rules.append(rule)
    return {"Rules": rules}


_ENCRYPTION_RULE = (
    Param("ServerSideEncryptionByDefault", "ApplyServerSideEncryptionByDefault", truthy=True),
    Param("BucketKeyEnabled", conv=as_bool),
)


def _encryption(config: dict[str, Any]) -> dict[str, Any]:
    rules = config.get("ServerSideEncryptionConfiguration") or []
    return {"Rules": [build(r, _ENCRYPTION_RULE) for r in rules]}


def _public_access(config: dict[str, Any]) -> dict[str, Any]:
    return {k: bool(as_bool(v)) for k, v in config.items()}


class Bucket(ResourceHandler):
    """Ref: the bucket name. GetAtt: Arn, DomainName, RegionalDomainName, WebsiteURL."""

    TYPE = "AWS::S3::Bucket"

    async def _configure(
        self, rc: ResourceContext, name: str, old: dict[str, Any], new: dict[str, Any]
    ) -> None:
        if changed(old, new, "VersioningConfiguration") and new.get("VersioningConfiguration"):
            await rc.call(
                "s3",
                "PutBucketVersioning",
                {
                    "Bucket": name,
                    "VersioningConfiguration": {"Status": new["VersioningConfiguration"]["Status"]},
                },
            )
        if changed(old, new, "CorsConfiguration"):
            if new.get("CorsConfiguration"):
                await rc.call(
                    "s3",
                    "PutBucketCors",
                    {"Bucket": name, "CORSConfiguration": _cors(new["CorsConfiguration"])},
                )
            else:
                await rc.call("s3", "DeleteBucketCors", {"Bucket": name})
        if changed(old, new, "PublicAccessBlockConfiguration") and new.get(
            "PublicAccessBlockConfiguration"
        ):
            await rc.call(
                "s3",
                "PutPublicAccessBlock",
                {
                    "Bucket": name,
                    "PublicAccessBlockConfiguration": _public_access(
                        new["PublicAccessBlockConfiguration"]
                    ),
                },
            )
        if changed(old, new, "BucketEncryption") and new.get("BucketEncryption"):
            await rc.call(
                "s3",
                "PutBucketEncryption",
                {
                    "Bucket": name,
                    "ServerSideEncryptionConfiguration": _encryption(new["BucketEncryption"]),
                },
            )
        if changed(old, new, "LifecycleConfiguration"):
            if new.get("LifecycleConfiguration"):
                await rc.call(
                    "s3",
                    "PutBucketLifecycleConfiguration",
                    {
                        "Bucket": name,
                        "LifecycleConfiguration": _lifecycle(new["LifecycleConfiguration"]),
                    },
                )
            else:
                await rc.call("s3", "DeleteBucketLifecycle", {"Bucket": name})
        if changed(old, new, "OwnershipControls") and new.get("OwnershipControls"):
            await rc.call(
                "s3",
                "PutBucketOwnershipControls",
                {"Bucket": name, "OwnershipControls": new["OwnershipControls"]},
            )
        if changed(old, new, "Tags"):
            tags = tags_list(new)
            if tags:
                await rc.call(
                    "s3", "PutBucketTagging", {"Bucket": name, "Tagging": {"TagSet": tags}}
                )
            else:
                await rc.call("s3", "DeleteBucketTagging", {"Bucket": name})

    def _attrs(self, rc: ResourceContext, name: str) -> dict[str, Any]:
        return {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{rc.region}.amazonaws.com",
            "DualStackDomainName": f"{name}.s3.dualstack.{rc.region}.amazonaws.com",
            "WebsiteURL": f"http://{name}.s3-website-{rc.region}.amazonaws.com",
        }

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        name = str(props.get("BucketName") or rc.physical_name(63, lower=True))
        params: dict[str, Any] = {"Bucket": name}
        if rc.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": rc.region}
        if props.get("ObjectLockEnabled") is not None:
            params["ObjectLockEnabledForBucket"] = as_bool(props["ObjectLockEnabled"])
        await rc.call("s3", "CreateBucket", params)
        try:
            await self._configure(rc, name, {}, props)
        except Exception:
            await ignore_missing(rc.call("s3", "DeleteBucket", {"Bucket": name}), *_MISSING)
            raise
        return Result(name, self._attrs(rc, name))

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        await self._configure(rc, physical_id, old, new)
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(rc.call("s3", "DeleteBucket", {"Bucket": physical_id}), *_MISSING)


class BucketPolicy(ResourceHandler):
    TYPE = "AWS::S3::BucketPolicy"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        bucket = str(props["Bucket"])
        await rc.call(
            "s3",
            "PutBucketPolicy",
            {"Bucket": bucket, "Policy": as_json_text(props["PolicyDocument"])},
        )
        return Result(bucket, {})

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        await rc.call(
            "s3",
            "PutBucketPolicy",
            {"Bucket": physical_id, "Policy": as_json_text(new["PolicyDocument"])},
        )
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call("s3", "DeleteBucketPolicy", {"Bucket": physical_id}), *_MISSING
        )


HANDLERS: list[ResourceHandler] = [Bucket(), BucketPolicy()]
