"""Bucket notification configuration: validated and stored; events for object changes are
written to the outbox in the same transaction as the change, and delivered to SQS, SNS,
Lambda or EventBridge through the dispatcher once those services exist."""

from __future__ import annotations

import fnmatch
import secrets
import sqlite3
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

import orjson

from overcast.core.arns import parse_arn
from overcast.core.context import RequestContext
from overcast.dispatch import Target
from overcast.services.s3 import repo
from overcast.services.s3.base import Params, Result, S3Base
from overcast.services.s3.errors import InvalidArgument
from overcast.services.s3.records import ObjectVersion, canonical_id

EVENTS = {
    "s3:ReducedRedundancyLostObject",
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:Replication:*",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
    "s3:ObjectAcl:Put",
}
# (configuration list member, ARN member, service the ARN must name)
_KINDS = (
    ("TopicConfigurations", "TopicArn", "sns"),
    ("QueueConfigurations", "QueueArn", "sqs"),
    ("LambdaFunctionConfigurations", "LambdaFunctionArn", "lambda"),
)


def _invalid_destination(arn: str) -> InvalidArgument:
    return InvalidArgument(
        "Unable to validate the following destination configurations",
        ArgumentName=arn,
        ArgumentValue="Invalid ARN",
    )


def validate(config: dict[str, Any]) -> dict[str, Any]:
    """S3's checks on a NotificationConfiguration; gives each entry an Id if it has none."""
    out: dict[str, Any] = {}
    for member, arn_member, service in _KINDS:
        entries = []
        for raw in config.get(member) or []:
            entry = dict(raw)
            arn = entry.get(arn_member) or ""
            try:
                parsed = parse_arn(arn)
            except ValueError:
                raise _invalid_destination(arn)
            if parsed.service != service:
                raise _invalid_destination(arn)
            events = entry.get("Events") or []
            if not events:
                raise InvalidArgument(
                    "The event is not supported for notifications", ArgumentName="Event"
                )
            for e in events:
                if e not in EVENTS:
                    raise InvalidArgument(
                        "The event is not supported for notifications",
                        ArgumentName="Event",
                        ArgumentValue=e,
                    )
            rules = ((entry.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
            names = [r.get("Name", "").lower() for r in rules]
            if any(n not in ("prefix", "suffix") for n in names) or len(set(names)) != len(names):
                raise InvalidArgument(
                    "filter rule name must be either prefix or suffix",
                    ArgumentName="FilterRule.Name",
                )
            entry.setdefault("Id", secrets.token_hex(16))
            entries.append(entry)
        if entries:
            out[member] = entries
    if config.get("EventBridgeConfiguration") is not None:
        out["EventBridgeConfiguration"] = {}
    return out


def _selected(entry: dict[str, Any], event: str, key: str) -> bool:
    if not any(fnmatch.fnmatchcase(event, pattern) for pattern in entry.get("Events", [])):
        return False
    for rule in ((entry.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []:
        name, value = rule.get("Name", "").lower(), rule.get("Value", "")
        if name == "prefix" and not key.startswith(value):
            return False
        if name == "suffix" and not key.endswith(value):
            return False
    return True


class NotificationsMixin(S3Base):
    """Notification configuration and event emission."""

    def put_bucket_notification_configuration(self, ctx: RequestContext, params: Params) -> Result:
        """PutBucketNotificationConfiguration: validated, then stored (empty clears it)."""
        config = validate(params.get("NotificationConfiguration") or {})
        b = self.bucket(ctx, params.get("Bucket"))
        with self.config_transaction() as conn:
            if config:
                repo.put_config(conn, b.name, "notification", config)
            else:
                repo.delete_config(conn, b.name, "notification")
        return {}

    def get_bucket_notification_configuration(self, ctx: RequestContext, params: Params) -> Result:
        b = self.bucket(ctx, params.get("Bucket"))
        return dict(repo.get_config(self.db.read(), b.name, "notification") or {})

    def emit(
        self, conn: sqlite3.Connection, ctx: RequestContext, event: str, obj: ObjectVersion
    ) -> None:
        """Enqueue the bucket's notifications for an event, inside the caller's transaction."""
        if self.dispatcher is None:
            return
        config = self.cache.config(obj.bucket, "notification")
        if not config:
            return
        record = self._record(ctx, event, obj)
        for member, arn_member, service in _KINDS:
            for entry in config.get(member, []):
                if not _selected(entry, event, obj.key):
                    continue
                arn = entry[arn_member]
                body = {
                    "Records": [{**record, "s3": {**record["s3"], "configurationId": entry["Id"]}}]
                }
                text = orjson.dumps(body).decode()
                payload: dict[str, Any]
                if service == "sqs":
                    a = parse_arn(arn)
                    url = f"{ctx.endpoint}/{a.account}/{a.resource}"
                    target, payload = (
                        Target("op", "sqs", "SendMessage"),
                        {"QueueUrl": url, "MessageBody": text},
                    )
                elif service == "sns":
                    target = Target("op", "sns", "Publish")
                    payload = {
                        "TopicArn": arn,
                        "Message": text,
                        "Subject": "Amazon S3 Notification",
                    }
                else:
                    target = Target("op", "lambda", "Invoke")
                    payload = {
                        "FunctionName": arn,
                        "InvocationType": "Event",
                        "Payload": text.encode(),
                    }
                self.dispatcher.enqueue(self.db, target, payload, ctx=ctx)
        if "EventBridgeConfiguration" in config:
            detail_type = (
                "Object Created" if event.startswith("s3:ObjectCreated") else "Object Deleted"
            )
            detail = {
                "version": "0",
                "bucket": {"name": obj.bucket},
                "object": {
                    "key": obj.key,
                    "size": obj.size,
                    "etag": obj.etag.strip('"'),
                    "version-id": obj.version_id,
                },
                "request-id": ctx.request_id,
                "requester": ctx.account_id,
                "reason": event.split(":")[-1],
            }
            entry = {
                "Source": "aws.s3",
                "DetailType": detail_type,
                "Detail": orjson.dumps(detail).decode(),
                "Resources": [f"arn:aws:s3:::{obj.bucket}"],
            }
            self.dispatcher.enqueue(
                self.db, Target("op", "events", "PutEvents"), {"Entries": [entry]}, ctx=ctx
            )

    def _record(self, ctx: RequestContext, event: str, obj: ObjectVersion) -> dict[str, Any]:
        """One S3 event record, as S3 sends it."""
        when = datetime.fromtimestamp(obj.last_modified, UTC)
        s3obj: dict[str, Any] = {
            "key": quote_plus(obj.key, safe="/"),
            "sequencer": f"{obj.id:016X}",
        }
        if not obj.delete_marker and event.startswith("s3:ObjectCreated"):
            s3obj.update({"size": obj.size, "eTag": obj.etag.strip('"')})
        if obj.version_id != "null":
            s3obj["versionId"] = obj.version_id
        return {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": ctx.region,
            "eventTime": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
            "eventName": event.removeprefix("s3:"),
            "userIdentity": {"principalId": canonical_id(ctx.account_id)},
            "requestParameters": {
                "sourceIPAddress": ctx.http.client_ip if ctx.http else "127.0.0.1"
            },
            "responseElements": {
                "x-amz-request-id": ctx.request_id,
                "x-amz-id-2": canonical_id(ctx.request_id),
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "bucket": {
                    "name": obj.bucket,
                    "ownerIdentity": {"principalId": canonical_id(ctx.account_id)},
                    "arn": f"arn:aws:s3:::{obj.bucket}",
                },
                "object": s3obj,
            },
        }
