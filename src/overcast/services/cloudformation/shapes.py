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


def stack_shape(s: Stack) -> dict[str, Any]:
    out: dict[str, Any] = {
        "StackId": s.stack_id,
        "StackName": s.name,
        "CreationTime": ts(s.created),
        "StackStatus": s.status,
        "DisableRollback": s.disable_rollback,
        "NotificationARNs": [],
        "Capabilities": s.capabilities,
        "Tags": s.tags,
        "EnableTerminationProtection": s.termination_protection,
        "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
    }
    if s.parameters:
        out["Parameters"] = [
            {
                k: ("****" if p.get("NoEcho") and k == "ParameterValue" else v)
                for k, v in p.items()
                if k != "NoEcho"
            }
            for p in s.parameters
        ]
    if s.description:
        out["Description"] = s.description
    if s.reason:
        out["StackStatusReason"] = s.reason
    if s.updated is not None:
        out["LastUpdatedTime"] = ts(s.updated)
    if s.deleted is not None:
        out["DeletionTime"] = ts(s.deleted)
    if s.outputs:
        out["Outputs"] = s.outputs
    if s.operation and s.operation.get("change_set_id"):
        out["ChangeSetId"] = s.operation["change_set_id"]
    return out


def summary_shape(s: Stack) -> dict[str, Any]:
    out: dict[str, Any] = {
        "StackId": s.stack_id,
        "StackName": s.name,
        "CreationTime": ts(s.created),
        "StackStatus": s.status,
        "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
    }
    if s.description:
        out["TemplateDescription"] = s.description
    if s.reason:
        out["StackStatusReason"] = s.reason
    if s.updated is not None:
        out["LastUpdatedTime"] = ts(s.updated)
    if s.deleted is not None:
        out["DeletionTime"] = ts(s.deleted)
    return out


def event_shape(stack: Stack, e: StackEvent) -> dict[str, Any]:
    out: dict[str, Any] = {
        "StackId": stack.stack_id,
        "EventId": e.event_id,
        "StackName": stack.name,
        "LogicalResourceId": e.logical_id,
        "ResourceType": e.type,
        "Timestamp": ts(e.ts),
        "ResourceStatus": e.status,
    }
    if e.physical_id is not None:
        out["PhysicalResourceId"] = e.physical_id
    if e.reason:
        out["ResourceStatusReason"] = e.reason
    if e.properties:
        out["ResourceProperties"] = e.properties
    return out


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
    out["StackName"] = stack.name
    out["StackId"] = stack.stack_id
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
        "StackId": stack.stack_id,
        "StackName": stack.name,
        "ChangeSetId": c.change_set_id,
        "ChangeSetName": c.name,
        "ExecutionStatus": c.execution_status,
        "Status": c.status,
        "CreationTime": ts(c.created),
        "IncludeNestedStacks": False,
    }
    if c.reason:
        out["StatusReason"] = c.reason
    if c.description:
        out["Description"] = c.description
    return out


def parameter_declarations(template: Template) -> list[dict[str, Any]]:
    """Parameters as GetTemplateSummary reports them."""
    out = []
    for key, decl in template.parameters.items():
        entry: dict[str, Any] = {
            "ParameterKey": key,
            "ParameterType": str(decl.get("Type", "String")),
            "NoEcho": str(decl.get("NoEcho", "false")).lower() == "true",
        }
        if "Default" in decl:
            default = decl["Default"]
            entry["DefaultValue"] = (
                ",".join(map(str, default)) if isinstance(default, list) else str(default)
            )
        if "Description" in decl:
            entry["Description"] = str(decl["Description"])
        if "AllowedValues" in decl:
            entry["ParameterConstraints"] = {
                "AllowedValues": [str(v) for v in decl["AllowedValues"]]
            }
        out.append(entry)
    return out


def template_parameters(template: Template) -> list[dict[str, Any]]:
    """Parameters as ValidateTemplate reports them."""
    out = []
    for key, decl in template.parameters.items():
        entry: dict[str, Any] = {
            "ParameterKey": key,
            "NoEcho": str(decl.get("NoEcho", "false")).lower() == "true",
        }
        if "Default" in decl:
            default = decl["Default"]
            entry["DefaultValue"] = (
                ",".join(map(str, default)) if isinstance(default, list) else str(default)
            )
        if "Description" in decl:
            entry["Description"] = str(decl["Description"])
        out.append(entry)
    return out


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
    if named:
        return ["CAPABILITY_NAMED_IAM"], (
            f"The following resource(s) require capabilities: [{', '.join(sorted({resources[n]['Type'] for n in named}))}]"
        )
    if iam:
        return ["CAPABILITY_IAM"], (
            f"The following resource(s) require capabilities: [{', '.join(sorted({resources[n]['Type'] for n in iam}))}]"
        )
    return [], None


__all__ = ["is_list_type"]
