"""The read-only CloudFormation operations: stacks, events, resources, templates, exports."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from overcast.core.context import RequestContext
from overcast.engines.cfn.template import Template
from overcast.services.cloudformation.common import ProviderBase
from overcast.services.cloudformation.errors import CfnValidationError, stack_not_found
from overcast.services.cloudformation.records import TERMINAL_DELETED
from overcast.services.cloudformation.shapes import (
    event_shape,
    parameter_declarations,
    required_capabilities,
    resource_shape,
    stack_shape,
    summary_shape,
    template_parameters,
)
from overcast.services.cloudformation.templates import (
    TransformFailed,
    parse,
    process,
    template_record,
    template_text,
)


def _page(
    items: list[Any], params: dict[str, Any], member: str, shape: Callable[[Any], Any]
) -> dict[str, Any]:
    """One page of 100 `items` (shaped) under `member`, with the token of the next page."""
    token = params.get("NextToken")
    start = int(token) if token and token.isdigit() else 0
    end = start + 100
    out: dict[str, Any] = {member: [shape(x) for x in items[start:end]]}
    if end < len(items):
        out["NextToken"] = str(end)
    return out


class DescribeOperations(ProviderBase):
    def describe_stacks(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("StackName")
        if name:
            return {"Stacks": [stack_shape(self._stack(ctx, name))]}
        stacks = [
            s
            for s in self.records.list_stacks(ctx.account_id, ctx.region)
            if s.status != TERMINAL_DELETED
        ]
        return _page(stacks, params, "Stacks", stack_shape)

    def list_stacks(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        wanted = set(params.get("StackStatusFilter") or [])
        stacks = [
            s
            for s in self.records.list_stacks(ctx.account_id, ctx.region)
            if not wanted or s.status in wanted
        ]
        return _page(stacks, params, "StackSummaries", summary_shape)

    def describe_stack_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self._stack(ctx, params.get("StackName"))
        events = self.records.events(stack.stack_id)
        return _page(events, params, "StackEvents", lambda e: event_shape(stack, e))

    def describe_stack_resource(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        stack = self._stack(ctx, params["StackName"])
        logical = params["LogicalResourceId"]
        for r in self.records.resources(stack.stack_id):
            if r.logical_id == logical:
                return {"StackResourceDetail": resource_shape(stack, r, "detail")}
        raise CfnValidationError(f"Resource {logical} does not exist for stack {stack.name}")

    def describe_stack_resources(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name = params.get("StackName")
        physical = params.get("PhysicalResourceId")
        if not name and not physical:
            raise CfnValidationError("Either StackName or PhysicalResourceId must be specified.")
        if name:
            stack = self._stack(ctx, name)
        else:
            found = self.records.find_by_physical_id(ctx.account_id, ctx.region, str(physical))
            if found is None:
                raise stack_not_found(str(physical))
            stack = self._stack(ctx, found.stack_id)
        rows = self.records.resources(stack.stack_id)
        logical = params.get("LogicalResourceId")
        if logical:
            rows = [r for r in rows if r.logical_id == logical]
        return {"StackResources": [resource_shape(stack, r, "resource") for r in rows]}

    def list_stack_resources(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self._stack(ctx, params["StackName"])
        rows = self.records.resources(stack.stack_id)
        return _page(
            rows, params, "StackResourceSummaries", lambda r: resource_shape(stack, r, "summary")
        )

    def get_template(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self._stack(ctx, params["StackName"])
        stage = params.get("TemplateStage", "Original")
        body, processed = stack.template_body, stack.processed
        if params.get("ChangeSetName"):
            cs = self._change_set(ctx, params["ChangeSetName"], params["StackName"])
            body, processed = cs.template_body, cs.processed
        text = json.dumps(processed, indent=2) if stage == "Processed" else body
        stages = ["Original", "Processed"]
        return {"TemplateBody": text, "StagesAvailable": stages}

    async def get_template_summary(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        if params.get("StackName"):
            stack = self._stack(ctx, params["StackName"])
            data = parse(stack.template_body)
            processed = stack.processed
        else:
            data = parse(await template_text(self._call(ctx), params))
            try:
                processed = process(data, {}, ctx.region, ctx.account_id)
            except TransformFailed as exc:
                raise CfnValidationError(exc.reason) from None
        template = Template.from_data(data) if "Resources" in data else template_record(processed)
        resources = processed.get("Resources") or {}
        caps, why = required_capabilities(resources)
        if template.transform:
            caps = [*caps, "CAPABILITY_AUTO_EXPAND"]
        out: dict[str, Any] = {
            "Parameters": parameter_declarations(template),
            "Capabilities": caps,
            "ResourceTypes": sorted(
                {str(r.get("Type")) for r in (data.get("Resources") or {}).values()}
            ),
            "Version": template.version or "2010-09-09",
            "DeclaredTransforms": list(template.transform),
            "ResourceIdentifierSummaries": [],
        }
        if why:
            out["CapabilitiesReason"] = why
        if template.description:
            out["Description"] = template.description
        if template.metadata:
            out["Metadata"] = json.dumps(template.metadata)
        return out

    async def validate_template(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        data = parse(await template_text(self._call(ctx), params))
        template = template_record(data) if "Transform" not in data else Template.from_data(data)
        resources = data.get("Resources") or {}
        caps, why = required_capabilities(resources)
        out: dict[str, Any] = {
            "Parameters": template_parameters(template),
            "Capabilities": caps,
            "DeclaredTransforms": list(template.transform),
        }
        if why:
            out["CapabilitiesReason"] = why
        if template.description:
            out["Description"] = template.description
        return out

    def list_exports(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        exports = sorted(self.records.exports(ctx.account_id, ctx.region).items())
        return _page(
            exports,
            params,
            "Exports",
            lambda e: {"ExportingStackId": e[1][1], "Name": e[0], "Value": e[1][0]},
        )

    def list_imports(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["ExportName"]
        if name not in self.records.exports(ctx.account_id, ctx.region):
            raise CfnValidationError(f"Export '{name}' does not exist.")
        users = self.records.importers(ctx.account_id, ctx.region, name)
        if not users:
            raise CfnValidationError(f"Export '{name}' is not imported by any stack.")
        return {"Imports": sorted(users)}
