"""AWS::SSM::Parameter through the SSM API."""

from __future__ import annotations

from typing import Any

from overcast.services.cloudformation.resources.base import (
    ResourceContext,
    ResourceHandler,
    Result,
    ignore_missing,
    pick,
    tags_map,
)


class Parameter(ResourceHandler):
    """Ref: the parameter name. GetAtt: Type, Value."""

    TYPE = "AWS::SSM::Parameter"

    async def _put(
        self, rc: ResourceContext, name: str, props: dict[str, Any], overwrite: bool
    ) -> Result:
        params: dict[str, Any] = {
            "Name": name,
            "Value": str(props["Value"]),
            "Type": props.get("Type", "String"),
            "Overwrite": overwrite,
            **pick(props, "Description", "AllowedPattern", "Tier", "Policies", "DataType"),
        }
        if not overwrite:
            tags = tags_map(props)
            if tags:
                params["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        await rc.call("ssm", "PutParameter", params)
        return Result(name, {"Type": params["Type"], "Value": params["Value"]})

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        name = props.get("Name") or f"CFN-{rc.logical_id}-{rc.physical_name(20).rsplit('-', 1)[1]}"
        return await self._put(rc, str(name), props, False)

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        return await self._put(rc, physical_id, new, True)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call("ssm", "DeleteParameter", {"Name": physical_id}), "ParameterNotFound"
        )


HANDLERS = [Parameter()]
