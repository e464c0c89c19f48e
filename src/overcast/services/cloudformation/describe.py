"""The read-only CloudFormation operations: stacks, events, resources, templates, exports."""

from __future__ import annotations

import json
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


def _page(items: list[Any], token: str | None, size: int) -> tuple[list[Any], str | None]:
    start = int(token) if token and token.isdigit() else 0
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


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
        page, token = _page(stacks, params.get("NextToken"), 100)
        out: dict[str, Any] = {"Stacks": [stack_shape(s) for s in page]}
        if token:
            out["NextToken"] = token
        return out

    def list_stacks(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        wanted = set(params.get("StackStatusFilter") or [])
        stacks = [
            s
            for s in self.records.list_stacks(ctx.account_id, ctx.region)
            if not wanted or s.status in wanted
        ]
        page, token = _page(stacks, params.get("NextToken"), 100)
        out: dict[str, Any] = {"StackSummaries": [summary_shape(s) for s in page]}
        if token:
            out["NextToken"] = token
        return out

    def describe_stack_events(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self._stack(ctx, params.get("StackName"))
        events = self.records.events(stack.stack_id)
        page, token = _page(events, params.get("NextToken"), 100)
        out: dict[str, Any] = {"StackEvents": [event_shape(stack, e) for e in page]}
        if token:
            out["NextToken"] = token
        return out

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
        page, token = _page(rows, params.get("NextToken"), 100)
        out: dict[str, Any] = {
            "StackResourceSummaries": [resource_shape(stack, r, "summary") for r in page]
        }
        if token:
            out["NextToken"] = token
        return out

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
        page, token = _page(exports, params.get("NextToken"), 100)
        out: dict[str, Any] = {
            "Exports": [
                {"ExportingStackId": owner, "Name": name, "Value": value}
                for name, (value, owner) in page
            ]
        }
        if token:
            out["NextToken"] = token
        return out

    def list_imports(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["ExportName"]
        if name not in self.records.exports(ctx.account_id, ctx.region):
            raise CfnValidationError(f"Export '{name}' does not exist.")
        users = self.records.importers(ctx.account_id, ctx.region, name)
        if not users:
            raise CfnValidationError(f"Export '{name}' is not imported by any stack.")
        return {"Imports": sorted(users)}
