"""Lifecycle configuration (validated and stored) and the sweeper that applies its expiration
actions: current versions expire (deleted, or hidden by a delete marker when versioned),
noncurrent versions are removed, lone delete markers cleaned, stale multipart uploads aborted.
Times follow AWS: an action is due at the first midnight UTC after the object's age is reached."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime
from typing import Any

from overcast.core.context import RequestContext
from overcast.services.s3 import repo
from overcast.services.s3.base import Params, Result, S3Base
from overcast.services.s3.errors import (
    InvalidArgument,
    InvalidRequest,
    MalformedXML,
    NoSuchLifecycleConfiguration,
)
from overcast.services.s3.records import ObjectVersion

DAY = 86400.0
_ACTIONS = (
    "Expiration",
    "Transitions",
    "NoncurrentVersionExpiration",
    "NoncurrentVersionTransitions",
    "AbortIncompleteMultipartUpload",
)


def due_after_days(start: float, days: int) -> float:
    """`start` plus `days`, rounded up to the next midnight UTC (as S3 schedules actions)."""
    return math.ceil((start + days * DAY) / DAY) * DAY


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp() if value.tzinfo else value.replace(tzinfo=UTC).timestamp()
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return float(value)


def validate_rules(config: dict[str, Any]) -> list[dict[str, Any]]:
    """PutBucketLifecycleConfiguration's checks, with S3's messages; dates stored as epochs."""
    rules = config.get("Rules") or []
    if not rules or len(rules) > 1000:
        raise MalformedXML()
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for raw in rules:
        rule = dict(raw)
        rid = rule.get("ID") or ""
        if len(rid) > 255:
            raise InvalidArgument("ID length should not exceed allowed limit of 255")
        if rid and rid in seen:
            raise InvalidArgument("Rule ID must be unique. Found same ID for more than one rule")
        seen.add(rid)
        if rule.get("Status") not in ("Enabled", "Disabled"):
            raise MalformedXML()
        if "Filter" in rule and "Prefix" in rule:
            raise MalformedXML()
        if not any(rule.get(a) for a in _ACTIONS):
            raise InvalidRequest("At least one action needs to be specified in a rule")
        exp = rule.get("Expiration")
        if exp:
            exp = dict(exp)
            given = [
                k for k in ("Days", "Date", "ExpiredObjectDeleteMarker") if exp.get(k) is not None
            ]
            if len(given) != 1:
                raise MalformedXML()
            if exp.get("Days") is not None and int(exp["Days"]) <= 0:
                raise InvalidArgument("'Days' for Expiration action must be a positive integer")
            if exp.get("Date") is not None:
                at = _epoch(exp["Date"])
                if at % DAY:
                    raise InvalidArgument("'Date' must be at midnight GMT")
                exp["Date"] = at
            rule["Expiration"] = exp
        nce = rule.get("NoncurrentVersionExpiration")
        if nce and int(nce.get("NoncurrentDays") or 0) <= 0:
            raise InvalidArgument(
                "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"
            )
        abort = rule.get("AbortIncompleteMultipartUpload")
        if abort and int(abort.get("DaysAfterInitiation") or 0) <= 0:
            raise InvalidArgument(
                "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer"
            )
        for t in rule.get("Transitions") or []:
            if t.get("Date") is not None:
                t["Date"] = _epoch(t["Date"])
        out.append(rule)
    return out


def _for_output(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for raw in rules:
        rule = dict(raw)
        if rule.get("Expiration", {}).get("Date") is not None:
            rule["Expiration"] = {
                **rule["Expiration"],
                "Date": datetime.fromtimestamp(rule["Expiration"]["Date"], UTC),
            }
        if rule.get("Transitions"):
            rule["Transitions"] = [
                {**t, "Date": datetime.fromtimestamp(t["Date"], UTC)}
                if t.get("Date") is not None
                else t
                for t in rule["Transitions"]
            ]
        out.append(rule)
    return out


def rule_filter(rule: dict[str, Any]) -> tuple[str, list[dict[str, str]], int | None, int | None]:
    """A rule's (prefix, required tags, size greater than, size less than)."""
    f = rule.get("Filter") or {}
    if "Prefix" in rule:
        return rule.get("Prefix") or "", [], None, None
    if "And" in f:
        a = f["And"]
        return (
            a.get("Prefix") or "",
            a.get("Tags") or [],
            a.get("ObjectSizeGreaterThan"),
            a.get("ObjectSizeLessThan"),
        )
    tags = [f["Tag"]] if f.get("Tag") else []
    return f.get("Prefix") or "", tags, f.get("ObjectSizeGreaterThan"), f.get("ObjectSizeLessThan")


def matches(rule: dict[str, Any], obj: ObjectVersion) -> bool:
    """Whether a rule's filter selects this version."""
    prefix, tags, bigger, smaller = rule_filter(rule)
    if not obj.key.startswith(prefix):
        return False
    have = {(t["Key"], t["Value"]) for t in obj.tags}
    if any((t["Key"], t["Value"]) not in have for t in tags):
        return False
    if bigger is not None and not obj.size > int(bigger):
        return False
    return not (smaller is not None and not obj.size < int(smaller))


class LifecycleMixin(S3Base):
    """Lifecycle rules and their sweeper."""

    def put_bucket_lifecycle_configuration(self, ctx: RequestContext, params: Params) -> Result:
        """PutBucketLifecycleConfiguration: validated rules replace the old ones."""
        rules = validate_rules(params.get("LifecycleConfiguration") or {})
        b = self.bucket(ctx, params.get("Bucket"))
        size_rule = params.get("TransitionDefaultMinimumObjectSize") or "all_storage_classes_128K"
        with self.config_transaction() as conn:
            repo.put_config(conn, b.name, "lifecycle", {"Rules": rules, "MinSize": size_rule})
        return {"TransitionDefaultMinimumObjectSize": size_rule}

    def get_bucket_lifecycle_configuration(self, ctx: RequestContext, params: Params) -> Result:
        b = self.bucket(ctx, params.get("Bucket"))
        value = repo.get_config(self.db.read(), b.name, "lifecycle")
        if not value:
            raise NoSuchLifecycleConfiguration(BucketName=b.name)
        return {
            "Rules": _for_output(value["Rules"]),
            "TransitionDefaultMinimumObjectSize": value["MinSize"],
        }

    def delete_bucket_lifecycle(self, ctx: RequestContext, params: Params) -> Result:
        b = self.bucket(ctx, params.get("Bucket"))
        with self.config_transaction() as conn:
            repo.delete_config(conn, b.name, "lifecycle")
        ctx.response_status = 204
        return {}

    def apply_lifecycle(self, now: float | None = None) -> int:
        """Carry out every due lifecycle action; returns how many versions/uploads it touched."""
        now = self.now() if now is None else now
        done = 0
        for bucket_name, config in repo.buckets_with_config(self.db.read(), "lifecycle"):
            for rule in config.get("Rules", []):
                if rule.get("Status") == "Enabled":
                    done += self._apply_rule(bucket_name, rule, now)
        return done

    def _apply_rule(self, bucket_name: str, rule: dict[str, Any], now: float) -> int:
        done = 0
        prefix, _, _, _ = rule_filter(rule)
        exp = rule.get("Expiration") or {}
        nce = rule.get("NoncurrentVersionExpiration") or {}
        conn = self.db.read()
        versions = repo.scan_versions(conn, bucket_name, None, False, prefix, 1 << 62)
        by_key: dict[str, list[ObjectVersion]] = {}
        for v in versions:
            by_key.setdefault(v.key, []).append(v)
        for key, chain in by_key.items():  # each chain is newest first
            current = chain[0] if chain[0].is_latest else None
            if current is not None and not current.delete_marker and matches(rule, current):
                due = None
                if exp.get("Days") is not None:
                    due = due_after_days(current.last_modified, int(exp["Days"]))
                elif exp.get("Date") is not None:
                    due = float(exp["Date"])
                if due is not None and now >= due:
                    self._expire_current(current)
                    done += 1
                    continue
            if nce.get("NoncurrentDays") is not None:
                keep = int(nce.get("NewerNoncurrentVersions") or 0)
                noncurrent = 0
                for newer, v in itertools.pairwise(chain):
                    if not matches(rule, v) and not v.delete_marker:
                        continue
                    noncurrent += 1
                    if noncurrent <= keep:
                        continue
                    if now >= due_after_days(newer.last_modified, int(nce["NoncurrentDays"])):
                        self._remove(v)
                        done += 1
            if exp.get("ExpiredObjectDeleteMarker"):
                fresh = repo.versions_of(self.db.read(), bucket_name, key)
                if len(fresh) == 1 and fresh[0].delete_marker:
                    self._remove(fresh[0])
                    done += 1
        abort = rule.get("AbortIncompleteMultipartUpload") or {}
        if abort.get("DaysAfterInitiation") is not None:
            for up in repo.list_uploads(conn, bucket_name):
                if up.key.startswith(prefix) and now >= due_after_days(
                    up.initiated, int(abort["DaysAfterInitiation"])
                ):
                    with self.db.transaction() as tx:
                        freed = repo.delete_upload(tx, up.upload_id)
                    self.free(freed)
                    done += 1
        return done

    def _expire_current(self, obj: ObjectVersion) -> None:
        with self.db.transaction() as conn:
            bucket = repo.get_bucket(conn, obj.bucket)
            fresh = repo.latest(conn, obj.bucket, obj.key)
            if bucket is None or fresh is None or fresh.id != obj.id:
                return  # changed since we looked
            if bucket.versioning == "":
                freed = repo.delete_version(conn, fresh)
            else:
                marker = ObjectVersion(
                    id=0,
                    bucket=obj.bucket,
                    key=obj.key,
                    version_id="",
                    is_latest=True,
                    delete_marker=True,
                    blob_id=None,
                    size=0,
                    etag="",
                    last_modified=self.now(),
                    storage_class="STANDARD",
                    owner=obj.owner,
                )
                _, freed = repo.insert_version(conn, bucket, marker, self.object_id())
        self.free(freed)

    def _remove(self, obj: ObjectVersion) -> None:
        with self.db.transaction() as conn:
            if repo.version(conn, obj.bucket, obj.key, obj.version_id) is None:
                return
            freed = repo.delete_version(conn, obj)
        self.free(freed)
