"""AWS::Logs::LogGroup through the CloudWatch Logs API."""

from __future__ import annotations

from typing import Any

from overcast.services.cloudformation.resources.base import (
    ResourceContext,
    ResourceHandler,
    Result,
)
from overcast.services.cloudformation.resources.generic import (
    Name,
    Param,
    Spec,
    SpecHandler,
    follow_int,
    the_name,
)

_MISSING = ("ResourceNotFoundException",)


async def _retention(
    rc: ResourceContext, name: str, old: dict[str, Any], new: dict[str, Any]
) -> None:
    await follow_int(
        rc,
        "logs",
        {"logGroupName": name},
        (old, new, "RetentionInDays"),
        ("PutRetentionPolicy", "retentionInDays"),
        "DeleteRetentionPolicy",
    )


class LogGroup(SpecHandler):
    """Ref: the log group name. GetAtt: Arn. Retention is a policy of its own."""

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        result = await super().create(rc, props)
        await _retention(rc, result.physical_id, {}, props)
        return result

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        await _retention(rc, physical_id, old, new)
        return Result(physical_id, attributes)


HANDLERS: list[ResourceHandler] = [
    LogGroup(
        Spec(
            "AWS::Logs::LogGroup",
            "logs",
            "CreateLogGroup",
            "DeleteLogGroup",
            _MISSING,
            name=Name("logGroupName", "LogGroupName", lambda rc: rc.physical_name(512)),
            params=(Param("KmsKeyId", "kmsKeyId"),),
            tags="tags",
            physical=the_name,
            attributes={"Arn": lambda m: m.rc.arn("logs", f"log-group:{m.name}:*")},
            id_param="logGroupName",
        )
    )
]
