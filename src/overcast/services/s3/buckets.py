"""Bucket operations: create, head, list, delete, location, versioning, and the stored
configuration sub-resources (policy, tagging, ACL, ownership controls, public access block,
encryption)."""

from __future__ import annotations

import base64
from typing import Any

import orjson

from overcast.core.context import RequestContext
from overcast.services.s3 import repo
from overcast.services.s3.base import DEFAULT_ENCRYPTION, Params, Result, S3Base, in_thread, ts
from overcast.services.s3.errors import (
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    IllegalLocationConstraintException,
    InvalidArgument,
    InvalidLocationConstraint,
    InvalidTag,
    MalformedPolicy,
    MalformedXML,
    NoSuchBucketPolicy,
    NoSuchPublicAccessBlockConfiguration,
    NoSuchTagSet,
    OwnershipControlsNotFoundError,
)
from overcast.services.s3.names import check_bucket_name
from overcast.services.s3.records import owner

_CANNED_ACLS = {
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
    "log-delivery-write",
}
_ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
_AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


def canned_acl(account_id: str, acl: str | None) -> dict[str, Any]:
    """An AccessControlPolicy (Owner, Grants) for a canned ACL name."""
    me = owner(account_id)
    grants: list[dict[str, Any]] = [
        {"Grantee": {**me, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}
    ]
    if acl in ("public-read", "public-read-write"):
        grants.append({"Grantee": {"Type": "Group", "URI": _ALL_USERS}, "Permission": "READ"})
    if acl == "public-read-write":
        grants.append({"Grantee": {"Type": "Group", "URI": _ALL_USERS}, "Permission": "WRITE"})
    if acl == "authenticated-read":
        grants.append({"Grantee": {"Type": "Group", "URI": _AUTH_USERS}, "Permission": "READ"})
    return {"Owner": me, "Grants": grants}


_GRANTS = (
    ("GrantFullControl", "FULL_CONTROL"),
    ("GrantRead", "READ"),
    ("GrantReadACP", "READ_ACP"),
    ("GrantWrite", "WRITE"),
    ("GrantWriteACP", "WRITE_ACP"),
)
_ACL_MEMBERS = frozenset({"ACL", "AccessControlPolicy", *(m for m, _ in _GRANTS)})


def acl_from_params(account_id: str, params: Params) -> dict[str, Any] | None:
    """The ACL a Put*Acl/Create* request sets: canned, explicit grants headers, or a body."""
    if _ACL_MEMBERS.isdisjoint(params):  # most writes set none
        return None
    acl = params.get("ACL")
    if acl is not None:
        if acl not in _CANNED_ACLS:
            raise InvalidArgument(None, ArgumentName="x-amz-acl", ArgumentValue=acl)
        return canned_acl(account_id, acl)
    policy = params.get("AccessControlPolicy")
    if policy:
        return {
            "Owner": policy.get("Owner") or owner(account_id),
            "Grants": policy.get("Grants", []),
        }
    grants: list[dict[str, Any]] = []
    for member, permission in _GRANTS:
        for grantee in filter(None, (params.get(member) or "").split(",")):
            kind, _, value = grantee.strip().partition("=")
            value = value.strip().strip('"')
            if kind == "id":
                grants.append(
                    {"Grantee": {"Type": "CanonicalUser", "ID": value}, "Permission": permission}
                )
            elif kind == "uri":
                grants.append(
                    {"Grantee": {"Type": "Group", "URI": value}, "Permission": permission}
                )
            elif kind == "emailAddress":
                grants.append(
                    {
                        "Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": value},
                        "Permission": permission,
                    }
                )
            else:
                raise InvalidArgument(None, ArgumentName=member, ArgumentValue=grantee)
    return {"Owner": owner(account_id), "Grants": grants} if grants else None


def validate_tags(tags: list[dict[str, str]]) -> list[dict[str, str]]:
    """S3's tag rules: unique keys, lengths, no `aws:` prefix set by users."""
    seen: set[str] = set()
    for tag in tags:
        key, value = tag.get("Key", ""), tag.get("Value", "")
        if key in seen:
            raise InvalidTag("Cannot provide multiple Tags with the same key", TagKey=key)
        seen.add(key)
        if not 1 <= len(key) <= 128:
            raise InvalidTag("The TagKey you have provided is too long, max 128", TagKey=key)
        if len(value) > 256:
            raise InvalidTag("The TagValue you have provided is too long, max 256", TagKey=key)
        if key.lower().startswith("aws:"):
            raise InvalidTag("System tags cannot be added/updated by requester", TagKey=key)
    return [{"Key": t.get("Key", ""), "Value": t.get("Value", "")} for t in tags]


class BucketsMixin(S3Base):
    """Bucket-level operations."""

    # -- create / head / list / delete ---------------------------------------------------------------

    @in_thread
    def create_bucket(self, ctx: RequestContext, params: Params) -> Result:
        """CreateBucket: naming rules, location constraint, global names, default settings."""
        name = params.get("Bucket") or ""
        check_bucket_name(name)
        config = params.get("CreateBucketConfiguration") or {}
        constraint = config.get("LocationConstraint")
        region = self._bucket_region(ctx.region, constraint)
        with self.config_transaction() as conn:
            existing = repo.get_bucket(conn, name)
            if existing is not None:
                if existing.account_id != ctx.account_id:
                    raise BucketAlreadyExists(BucketName=name)
                if existing.region == "us-east-1" and region == "us-east-1":
                    # Legacy us-east-1 behaviour: re-creating your own bucket succeeds.
                    return {"Location": f"/{name}"}
                raise BucketAlreadyOwnedByYou(BucketName=name)
            conn.execute(
                "INSERT INTO buckets(name, account_id, region, created) VALUES (?, ?, ?, ?)",
                (name, ctx.account_id, region, self.now()),
            )
            ownership = params.get("ObjectOwnership") or "BucketOwnerEnforced"
            repo.put_config(conn, name, "ownership", {"Rules": [{"ObjectOwnership": ownership}]})
            repo.put_config(
                conn,
                name,
                "public_access_block",
                {
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                },
            )
            acl = acl_from_params(ctx.account_id, params)
            if acl is not None:
                repo.put_config(conn, name, "acl", acl)
            tags = config.get("Tags")
            if tags:
                repo.put_config(conn, name, "tagging", validate_tags(tags))
        location = f"/{name}" if region == "us-east-1" else f"{ctx.endpoint}/{name}/"
        return {"Location": location, "BucketArn": f"arn:aws:s3:::{name}"}

    @staticmethod
    def _bucket_region(request_region: str, constraint: str | None) -> str:
        if constraint in (None, ""):
            if request_region != "us-east-1":
                raise IllegalLocationConstraintException()
            return "us-east-1"
        if constraint == "EU":
            constraint = "eu-west-1"
        if constraint == "us-east-1":
            raise InvalidLocationConstraint(LocationConstraint=constraint)
        if request_region != "us-east-1" and constraint != request_region:
            raise IllegalLocationConstraintException(
                f"The {constraint} location constraint is incompatible for the region specific "
                "endpoint this request was sent to."
            )
        return constraint

    def head_bucket(self, ctx: RequestContext, params: Params) -> Result:
        """HeadBucket: 200 with the bucket's region, or 404/403 without a body."""
        b = self.bucket(ctx, params.get("Bucket"))
        ctx.response_headers["x-amz-bucket-region"] = b.region
        return {"BucketRegion": b.region, "AccessPointAlias": False}

    def list_buckets(self, ctx: RequestContext, params: Params) -> Result:
        """ListBuckets: the caller's buckets by name, with optional prefix, region and paging."""
        buckets = repo.list_buckets(self.db.read(), ctx.account_id)
        prefix = params.get("Prefix") or ""
        region = params.get("BucketRegion")
        token = params.get("ContinuationToken")
        after = base64.urlsafe_b64decode(token.encode()).decode() if token else ""
        chosen = [
            b
            for b in buckets
            if b.name.startswith(prefix) and (not region or b.region == region) and b.name > after
        ]
        result: Result = {"Owner": owner(ctx.account_id)}
        limit = params.get("MaxBuckets")
        if limit is not None and len(chosen) > limit:
            chosen = chosen[:limit]
            result["ContinuationToken"] = base64.urlsafe_b64encode(
                chosen[-1].name.encode()
            ).decode()
        result["Buckets"] = [
            {
                "Name": b.name,
                "CreationDate": ts(b.created),
                "BucketRegion": b.region,
                "BucketArn": f"arn:aws:s3:::{b.name}",
            }
            for b in chosen
        ]
        if prefix:
            result["Prefix"] = prefix
        return result

    @in_thread
    def delete_bucket(self, ctx: RequestContext, params: Params) -> Result:
        """DeleteBucket: only an empty bucket (no versions, no delete markers)."""
        b = self.bucket(ctx, params.get("Bucket"))
        freed: list[str] = []
        with self.config_transaction() as conn:
            if repo.bucket_has_versions(conn, b.name):
                raise BucketNotEmpty(BucketName=b.name)
            for up in repo.list_uploads(conn, b.name):
                freed += repo.delete_upload(conn, up.upload_id)
            conn.execute("DELETE FROM buckets WHERE name = ?", (b.name,))
        self.free(freed)
        ctx.response_status = 204
        return {}

    def get_bucket_location(self, ctx: RequestContext, params: Params) -> Result:
        """GetBucketLocation: empty for us-east-1, as S3 answers."""
        b = self.bucket(ctx, params.get("Bucket"))
        return {"LocationConstraint": None if b.region == "us-east-1" else b.region}

    # -- versioning ----------------------------------------------------------------------------------

    @in_thread
    def put_bucket_versioning(self, ctx: RequestContext, params: Params) -> Result:
        """PutBucketVersioning: Enabled or Suspended (a bucket never returns to unversioned)."""
        b = self.bucket(ctx, params.get("Bucket"))
        config = params.get("VersioningConfiguration") or {}
        status = config.get("Status")
        if status not in ("Enabled", "Suspended"):
            raise MalformedXML()
        mfa = config.get("MFADelete")
        if mfa not in (None, "Enabled", "Disabled"):
            raise MalformedXML()
        with self.config_transaction() as conn:
            conn.execute(
                "UPDATE buckets SET versioning = ?, mfa_delete = COALESCE(?, mfa_delete)"
                " WHERE name = ?",
                (status, mfa, b.name),
            )
        return {}

    def get_bucket_versioning(self, ctx: RequestContext, params: Params) -> Result:
        """GetBucketVersioning: nothing until versioning was first set."""
        b = self.bucket(ctx, params.get("Bucket"))
        if not b.versioning:
            return {}
        row = self.db.query_one("SELECT mfa_delete FROM buckets WHERE name = ?", (b.name,))
        out: Result = {"Status": b.versioning}
        if row and row[0]:
            out["MFADelete"] = row[0]
        return out

    # -- stored sub-resources ----------------------------------------------------------------------

    def _put(self, ctx: RequestContext, params: Params, kind: str, value: Any) -> Result:
        b = self.bucket(ctx, params.get("Bucket"))
        with self.config_transaction() as conn:
            repo.put_config(conn, b.name, kind, value)
        return {}

    def _get(self, ctx: RequestContext, params: Params, kind: str) -> Any | None:
        b = self.bucket(ctx, params.get("Bucket"))
        return repo.get_config(self.db.read(), b.name, kind)

    def _delete(self, ctx: RequestContext, params: Params, kind: str) -> Result:
        b = self.bucket(ctx, params.get("Bucket"))
        with self.config_transaction() as conn:
            repo.delete_config(conn, b.name, kind)
        ctx.response_status = 204
        return {}

    def put_bucket_policy(self, ctx: RequestContext, params: Params) -> Result:
        """PutBucketPolicy: the document must be a JSON object with statements."""
        text = params.get("Policy") or ""
        if isinstance(text, bytes):
            text = text.decode()
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise MalformedPolicy("Policies must be valid JSON and the first byte must be '{'")
        if not isinstance(doc, dict) or not text.lstrip().startswith("{"):
            raise MalformedPolicy("Policies must be valid JSON and the first byte must be '{'")
        if not doc.get("Statement"):
            raise MalformedPolicy("Missing required field Statement")
        self._put(ctx, params, "policy", text)
        ctx.response_status = 204
        return {}

    def get_bucket_policy(self, ctx: RequestContext, params: Params) -> Result:
        policy = self._get(ctx, params, "policy")
        if policy is None:
            raise NoSuchBucketPolicy(BucketName=params.get("Bucket"))
        return {"Policy": policy}

    def delete_bucket_policy(self, ctx: RequestContext, params: Params) -> Result:
        return self._delete(ctx, params, "policy")

    def get_bucket_policy_status(self, ctx: RequestContext, params: Params) -> Result:
        """Public when a policy statement allows everyone."""
        policy = self._get(ctx, params, "policy")
        if policy is None:
            raise NoSuchBucketPolicy(BucketName=params.get("Bucket"))
        public = False
        statements = orjson.loads(policy).get("Statement", [])
        for st in [statements] if isinstance(statements, dict) else statements:
            principal = st.get("Principal")
            if (
                st.get("Effect") == "Allow"
                and (
                    principal == "*"
                    or (isinstance(principal, dict) and principal.get("AWS") == "*")
                )
                and not st.get("Condition")
            ):
                public = True
        return {"PolicyStatus": {"IsPublic": public}}

    def put_bucket_tagging(self, ctx: RequestContext, params: Params) -> Result:
        tags = validate_tags((params.get("Tagging") or {}).get("TagSet") or [])
        self._put(ctx, params, "tagging", tags)
        ctx.response_status = 204
        return {}

    def get_bucket_tagging(self, ctx: RequestContext, params: Params) -> Result:
        tags = self._get(ctx, params, "tagging")
        if not tags:
            raise NoSuchTagSet(BucketName=params.get("Bucket"))
        return {"TagSet": tags}

    def delete_bucket_tagging(self, ctx: RequestContext, params: Params) -> Result:
        return self._delete(ctx, params, "tagging")

    def put_bucket_acl(self, ctx: RequestContext, params: Params) -> Result:
        acl = acl_from_params(ctx.account_id, params) or canned_acl(ctx.account_id, "private")
        return self._put(ctx, params, "acl", acl)

    def get_bucket_acl(self, ctx: RequestContext, params: Params) -> Result:
        acl = self._get(ctx, params, "acl")
        if acl is None:
            b = self.bucket(ctx, params.get("Bucket"))
            acl = canned_acl(b.account_id, "private")
        return dict(acl)

    def put_bucket_ownership_controls(self, ctx: RequestContext, params: Params) -> Result:
        controls = params.get("OwnershipControls") or {}
        rules = controls.get("Rules") or []
        if len(rules) != 1 or rules[0].get("ObjectOwnership") not in (
            "BucketOwnerPreferred",
            "ObjectWriter",
            "BucketOwnerEnforced",
        ):
            raise MalformedXML()
        return self._put(ctx, params, "ownership", {"Rules": rules})

    def get_bucket_ownership_controls(self, ctx: RequestContext, params: Params) -> Result:
        controls = self._get(ctx, params, "ownership")
        if controls is None:
            raise OwnershipControlsNotFoundError(BucketName=params.get("Bucket"))
        return {"OwnershipControls": controls}

    def delete_bucket_ownership_controls(self, ctx: RequestContext, params: Params) -> Result:
        return self._delete(ctx, params, "ownership")

    def put_public_access_block(self, ctx: RequestContext, params: Params) -> Result:
        config = params.get("PublicAccessBlockConfiguration") or {}
        value = {
            k: bool(config.get(k, False))
            for k in (
                "BlockPublicAcls",
                "IgnorePublicAcls",
                "BlockPublicPolicy",
                "RestrictPublicBuckets",
            )
        }
        return self._put(ctx, params, "public_access_block", value)

    def get_public_access_block(self, ctx: RequestContext, params: Params) -> Result:
        value = self._get(ctx, params, "public_access_block")
        if value is None:
            raise NoSuchPublicAccessBlockConfiguration(BucketName=params.get("Bucket"))
        return {"PublicAccessBlockConfiguration": value}

    def delete_public_access_block(self, ctx: RequestContext, params: Params) -> Result:
        return self._delete(ctx, params, "public_access_block")

    def put_bucket_encryption(self, ctx: RequestContext, params: Params) -> Result:
        config = params.get("ServerSideEncryptionConfiguration") or {}
        rules = config.get("Rules") or []
        for rule in rules:
            algo = (rule.get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm")
            if algo not in ("AES256", "aws:kms", "aws:kms:dsse"):
                raise MalformedXML()
        return self._put(ctx, params, "encryption", {"Rules": rules})

    def get_bucket_encryption(self, ctx: RequestContext, params: Params) -> Result:
        value = self._get(ctx, params, "encryption")
        if value is None:
            value = DEFAULT_ENCRYPTION  # every bucket encrypts with SSE-S3 by default
        return {"ServerSideEncryptionConfiguration": value}

    def delete_bucket_encryption(self, ctx: RequestContext, params: Params) -> Result:
        return self._delete(ctx, params, "encryption")

    def get_bucket_request_payment(self, ctx: RequestContext, params: Params) -> Result:
        self.bucket(ctx, params.get("Bucket"))
        return {"Payer": "BucketOwner"}

    def get_bucket_accelerate_configuration(self, ctx: RequestContext, params: Params) -> Result:
        self.bucket(ctx, params.get("Bucket"))
        return {}

    def get_bucket_logging(self, ctx: RequestContext, params: Params) -> Result:
        value = self._get(ctx, params, "logging")
        return {"LoggingEnabled": value} if value else {}

    def put_bucket_logging(self, ctx: RequestContext, params: Params) -> Result:
        status = params.get("BucketLoggingStatus") or {}
        return self._put(ctx, params, "logging", status.get("LoggingEnabled"))
