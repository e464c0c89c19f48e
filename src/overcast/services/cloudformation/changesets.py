"""Change sets: a proposed template's plan, described as resource changes, executed later.

A change set is computed while CreateChangeSet runs (the template read, transformed and
planned), so it is CREATE_COMPLETE — or FAILED with its reason — when the call returns; that is
well before the first poll of any deploy tool."""

from __future__ import annotations

import uuid
from typing import Any

from overcast.core.context import RequestContext
from overcast.engines.cfn.plan import describe_changes, plan_create
from overcast.services.cloudformation.common import (
    SETTLE_SECONDS,
    Candidate,
    ProviderBase,
    check_updatable,
)
from overcast.services.cloudformation.errors import (
    AlreadyExistsException,
    CfnValidationError,
    InvalidChangeSetStatusException,
)
from overcast.services.cloudformation.records import ChangeSet, Stack
from overcast.services.cloudformation.shapes import change_set_summary, stack_shape, ts
from overcast.services.cloudformation.templates import (
    TransformFailed,
    prepared_of,
    template_record,
)

NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to create "
    "a change set."
)
_CREATABLE = {"REVIEW_IN_PROGRESS"}
_UPDATABLE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"}


class ChangeSetOperations(ProviderBase):
    async def create_change_set(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        name = params["StackName"]
        cs_name = params["ChangeSetName"]
        kind = params.get("ChangeSetType", "UPDATE")
        if kind not in ("CREATE", "UPDATE"):
            raise CfnValidationError(f"ChangeSetType {kind} is not supported by Overcast")
        stack = self.records.find_stack(ctx.account_id, ctx.region, name)
        if kind == "CREATE":
            if stack is not None and stack.status not in _CREATABLE:
                raise CfnValidationError(
                    f"Stack [{name}] already exists and cannot be created again with the "
                    f"changeSet [{cs_name}]."
                )
        elif stack is None:
            raise CfnValidationError(f"Stack [{name}] does not exist")
        else:
            check_updatable(stack, _UPDATABLE)
        if stack is not None:
            for other in self.records.change_sets(stack.stack_id):
                if other.name != cs_name:
                    continue
                if other.execution_status != "EXECUTE_COMPLETE":
                    raise AlreadyExistsException(f"ChangeSet {cs_name} already exists")
                # An executed change set is history: its name is free again. (The aws CLI names
                # change sets by the second, and a stack here deploys in well under one.)
                self.records.delete_change_set(other.change_set_id)
        stack_id = stack.stack_id if stack else self._new_stack_id(ctx, name)
        existing = stack if kind == "UPDATE" else None
        status, reason, changes = "CREATE_COMPLETE", None, []
        try:
            candidate: Candidate | None = await self._candidate(
                ctx, params, stack_name=name, stack_id=stack_id, existing=existing
            )
        except TransformFailed as exc:
            candidate, status, reason = None, "FAILED", exc.reason
        if candidate is not None:
            self._check_capabilities(candidate, params, False)
        if stack is None:
            stack = self._open_stack(
                ctx,
                stack_id,
                name,
                "REVIEW_IN_PROGRESS",
                params.get("Tags"),
                description=None,
                template_body="{}",
                processed={},
                parameters=[],
                capabilities=[],
            )
        if candidate is not None:
            if kind == "CREATE":
                changes = describe_changes(plan_create(candidate.prepared))
            else:
                plan = self._update_plan(stack, candidate)
                changes = describe_changes(plan)
                tags = params.get("Tags")
                if (
                    not plan.has_changes()
                    and candidate.parameters == stack.parameters
                    and (tags is None or tags == stack.tags)
                    and candidate.processed.get("Outputs") == stack.processed.get("Outputs")
                ):
                    status, reason = "FAILED", NO_CHANGES
        cs_id = f"arn:aws:cloudformation:{ctx.region}:{ctx.account_id}:changeSet/{cs_name}/{uuid.uuid4()}"
        self.records.put_change_set(
            ChangeSet(
                change_set_id=cs_id,
                account_id=ctx.account_id,
                region=ctx.region,
                stack_id=stack.stack_id,
                name=cs_name,
                type=kind,
                status=status,
                execution_status="AVAILABLE" if status == "CREATE_COMPLETE" else "UNAVAILABLE",
                reason=reason,
                description=params.get("Description"),
                created=self.clock.now(),
                template_body=candidate.body if candidate else "{}",
                processed=candidate.processed if candidate else {},
                parameters=candidate.parameters if candidate else [],
                tags=params.get("Tags") or [],
                capabilities=params.get("Capabilities") or [],
                changes=changes,
            )
        )
        return {"Id": cs_id, "StackId": stack.stack_id}

    def describe_change_set(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        cs = self._change_set(ctx, params["ChangeSetName"], params.get("StackName"))
        stack = self.records.get_stack(cs.stack_id)
        assert stack is not None
        out: dict[str, Any] = {
            "ChangeSetName": cs.name,
            "ChangeSetId": cs.change_set_id,
            "StackId": stack.stack_id,
            "StackName": stack.name,
            "Parameters": stack_shape(_with_params(stack, cs.parameters)).get("Parameters", []),
            "CreationTime": ts(cs.created),
            "ExecutionStatus": cs.execution_status,
            "Status": cs.status,
            "NotificationARNs": [],
            "Capabilities": cs.capabilities,
            "Tags": cs.tags,
            "Changes": [_with_ids(c, self._physical(stack)) for c in cs.changes],
            "IncludeNestedStacks": False,
        }
        if cs.reason:
            out["StatusReason"] = cs.reason
        if cs.description:
            out["Description"] = cs.description
        return out

    def _physical(self, stack: Stack) -> dict[str, str]:
        return {
            r.logical_id: r.physical_id
            for r in self.records.resources(stack.stack_id)
            if r.physical_id
        }

    def list_change_sets(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self._stack(ctx, params["StackName"])
        return {
            "Summaries": [
                change_set_summary(stack, c) for c in self.records.change_sets(stack.stack_id)
            ]
        }

    def delete_change_set(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        cs = self._change_set(ctx, params["ChangeSetName"], params.get("StackName"))
        if cs.execution_status == "EXECUTE_IN_PROGRESS":
            raise InvalidChangeSetStatusException(
                f"Cannot delete ChangeSet {cs.change_set_id} with status EXECUTE_IN_PROGRESS"
            )
        self.records.delete_change_set(cs.change_set_id)
        return {}

    async def execute_change_set(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        cs = self._change_set(ctx, params["ChangeSetName"], params.get("StackName"))
        stack = self.records.get_stack(cs.stack_id)
        assert stack is not None
        if cs.status != "CREATE_COMPLETE" or cs.execution_status != "AVAILABLE":
            raise InvalidChangeSetStatusException(
                f"ChangeSet [{cs.change_set_id}] cannot be executed in its current status of "
                f"[{cs.status}]"
            )
        template = template_record(cs.processed)
        prepared = prepared_of(stack, cs.processed, cs.parameters)
        candidate = Candidate(cs.template_body, cs.processed, template, cs.parameters, prepared)
        for other in self.records.change_sets(stack.stack_id):
            if other.change_set_id != cs.change_set_id:
                self.records.delete_change_set(other.change_set_id)
        from dataclasses import replace

        self.records.put_change_set(replace(cs, execution_status="EXECUTE_COMPLETE"))
        disable_rollback = bool(params.get("DisableRollback"))
        if cs.type == "CREATE":
            if stack.status != "REVIEW_IN_PROGRESS":
                raise InvalidChangeSetStatusException(
                    f"ChangeSet [{cs.change_set_id}] cannot be executed in its current status"
                )
            stack = self.records.update_stack(
                stack,
                status="CREATE_IN_PROGRESS",
                reason="User Initiated",
                description=template.description,
                template_body=cs.template_body,
                processed=cs.processed,
                parameters=cs.parameters,
                tags=cs.tags,
                capabilities=cs.capabilities,
                disable_rollback=disable_rollback,
                endpoint=ctx.endpoint,
            )
            self._first_event(stack, "CREATE_IN_PROGRESS", "User Initiated")
            self.executor.launch(stack, "CREATE", {"change_set_id": cs.change_set_id})
        else:
            check_updatable(stack, _UPDATABLE)
            self._begin_update(
                stack,
                candidate,
                {"Tags": cs.tags, "Capabilities": cs.capabilities},
                cs.change_set_id,
            )
        await self.executor.settle(stack.stack_id, SETTLE_SECONDS)
        return {}


def _with_params(stack: Stack, parameters: list[dict[str, Any]]) -> Stack:
    from dataclasses import replace

    return replace(stack, parameters=parameters)


def _with_ids(change: dict[str, Any], physical: dict[str, str]) -> dict[str, Any]:
    rc = dict(change["ResourceChange"])
    if rc["Action"] != "Add" and rc["LogicalResourceId"] in physical:
        rc["PhysicalResourceId"] = physical[rc["LogicalResourceId"]]
    return {**change, "ResourceChange": rc}
