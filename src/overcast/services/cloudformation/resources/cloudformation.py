"""Resource types of CloudFormation itself: nested stacks (AWS::CloudFormation::Stack, made
through CloudFormation's own API by dispatch), and two that hold nothing in any service:
AWS::CDK::Metadata (every `cdk deploy` template carries one; on AWS it records the CDK version and
does nothing else) and AWS::CloudFormation::WaitConditionHandle (a placeholder resource)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from overcast.core.errors import ServiceError
from overcast.services.cloudformation.resources.base import (
    ResourceContext,
    ResourceError,
    ResourceHandler,
    Result,
)


class CdkMetadata(ResourceHandler):
    TYPE = "AWS::CDK::Metadata"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        return Result(str(uuid.uuid4()), {})

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        return None


class WaitConditionHandle(ResourceHandler):
    """Ref: a URL, as on AWS (nothing listens on it: wait conditions are not modelled)."""

    TYPE = "AWS::CloudFormation::WaitConditionHandle"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        handle = f"{rc.endpoint}/_overcast/cloudformation/wait/{uuid.uuid4()}"
        return Result(handle, {})

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        return None


_DONE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE"}
_FAILED = {
    "CREATE_FAILED",
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_FAILED",
    "DELETE_FAILED",
    "UPDATE_FAILED",
}


async def _settled(rc: ResourceContext, stack_id: str) -> dict[str, Any]:
    """Wait for a nested stack's operation to end; ResourceError with its reason on failure."""
    for _ in range(36_000):
        stack = (await rc.call("cloudformation", "DescribeStacks", {"StackName": stack_id}))[
            "Stacks"
        ][0]
        status = stack["StackStatus"]
        if status in _DONE:
            return dict(stack)
        if status in _FAILED:
            events = await rc.call("cloudformation", "DescribeStackEvents", {"StackName": stack_id})
            reasons = [
                e.get("ResourceStatusReason")
                for e in events["StackEvents"]
                if e["ResourceStatus"].endswith("FAILED") and e.get("ResourceStatusReason")
            ]
            detail = f": {reasons[0]}" if reasons else ""
            raise ResourceError(
                f"Embedded stack {stack_id} was not successfully created{detail}"
                if status != "UPDATE_ROLLBACK_COMPLETE"
                else f"Embedded stack {stack_id} update failed{detail}"
            )
        await asyncio.sleep(0.05)
    raise ResourceError(f"Embedded stack {stack_id} did not finish")


def _stack_params(props: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "ParameterKey": k,
            "ParameterValue": ",".join(map(str, v)) if isinstance(v, list) else str(v),
        }
        for k, v in (props.get("Parameters") or {}).items()
    ]


def _outputs(stack: dict[str, Any]) -> dict[str, Any]:
    return {f"Outputs.{o['OutputKey']}": o["OutputValue"] for o in stack.get("Outputs") or []}


class NestedStack(ResourceHandler):
    """AWS::CloudFormation::Stack: a stack created through CloudFormation's own API.
    Ref: the nested stack's id. GetAtt: Outputs.<Name>."""

    TYPE = "AWS::CloudFormation::Stack"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        name = rc.physical_name(128)
        params: dict[str, Any] = {
            "StackName": name,
            "TemplateURL": str(props["TemplateURL"]),
            "Parameters": _stack_params(props),
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
            "Tags": [
                {"Key": str(t["Key"]), "Value": str(t["Value"])} for t in props.get("Tags") or []
            ],
        }
        stack_id = (await rc.call("cloudformation", "CreateStack", params))["StackId"]
        stack = await _settled(rc, stack_id)
        return Result(stack_id, _outputs(stack))

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        params: dict[str, Any] = {
            "StackName": physical_id,
            "TemplateURL": str(new["TemplateURL"]),
            "Parameters": _stack_params(new),
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        }
        try:
            await rc.call("cloudformation", "UpdateStack", params)
        except ServiceError as exc:
            if "No updates are to be performed" not in exc.message:
                raise
        stack = await _settled(rc, physical_id)
        return Result(physical_id, _outputs(stack))

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await rc.call("cloudformation", "DeleteStack", {"StackName": physical_id})
        await _settled(rc, physical_id)


HANDLERS: list[ResourceHandler] = [CdkMetadata(), WaitConditionHandle(), NestedStack()]
