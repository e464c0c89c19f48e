"""Records → the output shapes of CloudFormation's botocore model (timestamps as datetimes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from overcast.engines.cfn.parameters import is_list_type
from overcast.engines.cfn.template import Template
from overcast.services.cloudformation.records import ChangeSet, Stack, StackEvent, StackResource

IAM_TYPES = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::Policy": None,
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::AccessKey": None,
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::UserToGroupAddition": None,
}


def ts(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def _present(out: dict[str, Any], members: dict[str, Any]) -> dict[str, Any]:
    """`out` with the members that have a value (output shapes leave empty ones out)."""
    out.update({k: v for k, v in members.items() if v})
    return out


def _stack_ref(s: Stack) -> dict[str, Any]:
    """How output shapes name the stack they belong to."""
    return {"StackId": s.stack_id, "StackName": s.name}


def _stack_head(s: Stack) -> dict[str, Any]:
    """What Stack and StackSummary share."""
    return {
        **_stack_ref(s),
        "CreationTime": ts(s.created),
        "StackStatus": s.status,
    }


def _stack_tail(s: Stack, description: str) -> dict[str, Any]:
    """The optional members Stack and StackSummary share (the description's name differs)."""
    return {
        description: s.description,
        "StackStatusReason": s.reason,
        "LastUpdatedTime": ts(s.updated),
        "DeletionTime": ts(s.deleted),
    }


def stack_shape(s: Stack) -> dict[str, Any]:
    out: dict[str, Any] = {
        **_stack_head(s),
        "DisableRollback": s.disable_rollback,
        "NotificationARNs": [],
        "Capabilities": s.capabilities,
        "Tags": s.tags,
        "EnableTerminationProtection": s.termination_protection,
        "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
    }
    parameters = [
        {
            k: ("****" if p.get("NoEcho") and k == "ParameterValue" else v)
            for k, v in p.items()
            if k != "NoEcho"
        }
        for p in s.parameters
    ]
    change_set = (s.operation or {}).get("change_set_id")
    return _present(
        out,
        {
            "Parameters": parameters,
            **_stack_tail(s, "Description"),
            "Outputs": s.outputs,
            "ChangeSetId": change_set,
        },
    )


def summary_shape(s: Stack) -> dict[str, Any]:
    out = {**_stack_head(s), "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"}}
    return _present(out, _stack_tail(s, "TemplateDescription"))


def event_shape(stack: Stack, e: StackEvent) -> dict[str, Any]:
    out: dict[str, Any] = {
        **_stack_ref(stack),
        "EventId": e.event_id,
        "LogicalResourceId": e.logical_id,
        "ResourceType": e.type,
        "Timestamp": ts(e.ts),
        "ResourceStatus": e.status,
    }
    if e.physical_id is not None:
        out["PhysicalResourceId"] = e.physical_id
    return _present(out, {"ResourceStatusReason": e.reason, "ResourceProperties": e.properties})


def resource_shape(stack: Stack, r: StackResource, kind: str) -> dict[str, Any]:
    """`kind`: "resource" (StackResource), "detail" or "summary"."""
    out: dict[str, Any] = {
        "LogicalResourceId": r.logical_id,
        "PhysicalResourceId": r.physical_id or "",
        "ResourceType": r.type,
        "ResourceStatus": r.status,
        "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"},
    }
    if r.reason:
        out["ResourceStatusReason"] = r.reason
    if kind == "summary":
        out["LastUpdatedTimestamp"] = ts(r.updated)
        return out
    out.update(_stack_ref(stack))
    if kind == "detail":
        out["LastUpdatedTimestamp"] = ts(r.updated)
        metadata = (stack.processed.get("Resources", {}).get(r.logical_id) or {}).get("Metadata")
        if metadata is not None:
            out["Metadata"] = json.dumps(metadata)
    else:
        out["Timestamp"] = ts(r.updated)
    return out


def change_set_summary(stack: Stack, c: ChangeSet) -> dict[str, Any]:
    out: dict[str, Any] = {
        **_stack_ref(stack),
        "ChangeSetId": c.change_set_id,
        "ChangeSetName": c.name,
        "ExecutionStatus": c.execution_status,
        "Status": c.status,
        "CreationTime": ts(c.created),
        "IncludeNestedStacks": False,
    }
    return _present(out, {"StatusReason": c.reason, "Description": c.description})


def _parameter(key: str, decl: dict[str, Any], declaration: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"ParameterKey": key}
    if declaration:
        entry["ParameterType"] = str(decl.get("Type", "String"))
    entry["NoEcho"] = str(decl.get("NoEcho", "false")).lower() == "true"
    if "Default" in decl:
        default = decl["Default"]
        entry["DefaultValue"] = (
            ",".join(map(str, default)) if isinstance(default, list) else str(default)
        )
    if "Description" in decl:
        entry["Description"] = str(decl["Description"])
    if declaration and "AllowedValues" in decl:
        entry["ParameterConstraints"] = {"AllowedValues": [str(v) for v in decl["AllowedValues"]]}
    return entry


def parameter_declarations(template: Template) -> list[dict[str, Any]]:
    """Parameters as GetTemplateSummary reports them."""
    return [_parameter(k, d, True) for k, d in template.parameters.items()]


def template_parameters(template: Template) -> list[dict[str, Any]]:
    """Parameters as ValidateTemplate reports them."""
    return [_parameter(k, d, False) for k, d in template.parameters.items()]


def required_capabilities(resources: dict[str, dict[str, Any]]) -> tuple[list[str], str | None]:
    """The capabilities a template needs (IAM resources), and why."""
    named = [
        n
        for n, r in resources.items()
        if r.get("Type") in IAM_TYPES
        and IAM_TYPES[r["Type"]]
        and (r.get("Properties") or {}).get(IAM_TYPES[r["Type"]])
    ]
    iam = [n for n, r in resources.items() if r.get("Type") in IAM_TYPES]
    for capability, names in (("CAPABILITY_NAMED_IAM", named), ("CAPABILITY_IAM", iam)):
        if names:
            types = ", ".join(sorted({resources[n]["Type"] for n in names}))
            return [capability], f"The following resource(s) require capabilities: [{types}]"
    return [], None


__all__ = ["is_list_type"]
