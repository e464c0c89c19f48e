"""AWS::Logs::LogGroup through the CloudWatch Logs API."""

from __future__ import annotations

from typing import Any

from overcast.services.cloudformation.resources.base import (
    ResourceContext,
    ResourceHandler,
    Result,
    as_int,
    ignore_missing,
    pick,
    tags_map,
)

_MISSING = ("ResourceNotFoundException",)


class LogGroup(ResourceHandler):
    """Ref: the log group name. GetAtt: Arn."""

    TYPE = "AWS::Logs::LogGroup"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        name = str(props.get("LogGroupName") or rc.physical_name(512))
        params: dict[str, Any] = {"logGroupName": name, **pick(props, "KmsKeyId")}
        if "KmsKeyId" in params:
            params["kmsKeyId"] = params.pop("KmsKeyId")
        tags = tags_map(props)
        if tags:
            params["tags"] = tags
        await rc.call("logs", "CreateLogGroup", params)
        if props.get("RetentionInDays") is not None:
            await rc.call(
                "logs",
                "PutRetentionPolicy",
                {"logGroupName": name, "retentionInDays": as_int(props["RetentionInDays"])},
            )
        return Result(name, {"Arn": rc.arn("logs", f"log-group:{name}:*")})

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        if old.get("RetentionInDays") != new.get("RetentionInDays"):
            if new.get("RetentionInDays") is None:
                await rc.call("logs", "DeleteRetentionPolicy", {"logGroupName": physical_id})
            else:
                await rc.call(
                    "logs",
                    "PutRetentionPolicy",
                    {
                        "logGroupName": physical_id,
                        "retentionInDays": as_int(new["RetentionInDays"]),
                    },
                )
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call("logs", "DeleteLogGroup", {"logGroupName": physical_id}), *_MISSING
        )


HANDLERS: list[ResourceHandler] = [LogGroup()]
