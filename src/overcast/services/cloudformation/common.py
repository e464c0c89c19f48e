"""What the CloudFormation operations share: the store, the executor, reading a stack by name
and turning a request's template into a checked candidate."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from overcast.core.clock import Clock
from overcast.core.context import RequestContext
from overcast.dispatch import Dispatcher
from overcast.engines.cfn.errors import TemplateError
from overcast.engines.cfn.model import Prepared, resource_properties, static_scope
from overcast.engines.cfn.plan import Plan, plan_update
from overcast.engines.cfn.template import Template
from overcast.services.cloudformation.errors import (
    CfnValidationError,
    ChangeSetNotFoundException,
    InsufficientCapabilitiesException,
    stack_not_found,
)
from overcast.services.cloudformation.executor import STACK_TYPE, Executor
from overcast.services.cloudformation.records import ChangeSet, Stack, StackStore
from overcast.services.cloudformation.shapes import required_capabilities
from overcast.services.cloudformation.templates import (
    check_parameters,
    parameters_list,
    parse,
    prepared_from,
    prepared_of,
    process,
    read_ssm_parameters,
    template_record,
    template_text,
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A template a request proposes, processed and checked against its parameters."""

    body: str
    processed: dict[str, Any]
    template: Template
    parameters: list[dict[str, Any]]
    prepared: Prepared


# Deploy tools poll a stack right after starting an operation, then only every 30 s: a
# mutating call waits this long for its operation to end before answering, so that a small
# stack is already complete at the first poll. The operation itself runs in the background and
# goes on after this budget.
SETTLE_SECONDS = 10.0


def check_updatable(stack: Stack, statuses: Collection[str]) -> None:
    """Refuse to update a stack whose status is not one of `statuses`."""
    if stack.status not in statuses:
        raise CfnValidationError(
            f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
        )


class ProviderBase:
    records: StackStore
    clock: Clock
    dispatcher: Dispatcher
    executor: Executor

    # -- shared --------------------------------------------------------------------------------

    def _call(self, ctx: RequestContext) -> Any:
        async def call(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
            result: dict[str, Any] = await self.dispatcher.call(ctx, service, operation, params)
            return result

        return call

    def _stack(self, ctx: RequestContext, name: str | None) -> Stack:
        if not name:
            raise CfnValidationError("StackName must not be empty")
        stack = self.records.find_stack(ctx.account_id, ctx.region, name)
        if stack is None:
            raise stack_not_found(name)
        return stack

    def _new_stack_id(self, ctx: RequestContext, name: str) -> str:
        return f"arn:aws:cloudformation:{ctx.region}:{ctx.account_id}:stack/{name}/{uuid.uuid4()}"

    async def _candidate(
        self,
        ctx: RequestContext,
        params: dict[str, Any],
        *,
        stack_name: str,
        stack_id: str,
        existing: Stack | None,
    ) -> Candidate:
        """Read, transform and check the proposed template (TransformFailed from transforms)."""
        if params.get("UsePreviousTemplate"):
            if existing is None:
                raise CfnValidationError("UsePreviousTemplate is only valid for an existing stack")
            body = existing.template_body
        else:
            body = await template_text(self._call(ctx), params)
        data = parse(body)
        previous = existing.param_text() if existing else {}
        given = params.get("Parameters") or []
        values = {
            p["ParameterKey"]: (
                previous.get(p["ParameterKey"], "")
                if p.get("UsePreviousValue")
                else str(p.get("ParameterValue", ""))
            )
            for p in given
        }
        processed = process(data, values, ctx.region, ctx.account_id)
        template = template_record(processed)
        resolved = check_parameters(template, given, previous)
        ssm_values = await read_ssm_parameters(self._call(ctx), resolved)
        plist = parameters_list(template, resolved, ssm_values)
        prepared = prepared_from(
            processed,
            plist,
            region=ctx.region,
            account_id=ctx.account_id,
            stack_name=stack_name,
            stack_id=stack_id,
        )
        scope = static_scope(prepared)
        try:
            for name in prepared.resources:
                resource_properties(prepared, name, scope)
        except TemplateError as exc:
            raise CfnValidationError(exc.message) from None
        return Candidate(body, processed, template, plist, prepared)

    def _check_capabilities(
        self, candidate: Candidate, params: dict[str, Any], transformed: bool
    ) -> None:
        granted = set(params.get("Capabilities") or [])
        needed, _ = required_capabilities(candidate.template.resources)
        for cap in needed:
            if cap not in granted and not (
                cap == "CAPABILITY_IAM" and "CAPABILITY_NAMED_IAM" in granted
            ):
                raise InsufficientCapabilitiesException(f"Requires capabilities : [{cap}]")
        if transformed and "CAPABILITY_AUTO_EXPAND" not in granted:
            raise InsufficientCapabilitiesException(
                "Requires capabilities : [CAPABILITY_AUTO_EXPAND]"
            )

    def _update_plan(self, stack: Stack, candidate: Candidate) -> Plan:
        old = prepared_of(stack)
        existing = {
            r.logical_id: r.type
            for r in self.records.resources(stack.stack_id)
            if r.physical_id is not None
        }
        exports = {k: v[0] for k, v in self.records.exports(stack.account_id, stack.region).items()}
        try:
            return plan_update(old, candidate.prepared, existing, exports)
        except TemplateError as exc:
            raise CfnValidationError(exc.message) from None

    def _open_stack(
        self, ctx: RequestContext, stack_id: str, name: str, status: str, tags: Any, **rest: Any
    ) -> Stack:
        """Record a new stack (user initiated) and its first event."""
        stack = Stack(
            stack_id=stack_id,
            account_id=ctx.account_id,
            region=ctx.region,
            name=name,
            status=status,
            reason="User Initiated",
            outputs=[],
            tags=tags or [],
            created=self.clock.now(),
            endpoint=ctx.endpoint,
            **rest,
        )
        self.records.put_stack(stack)
        self._first_event(stack, status, "User Initiated")
        return stack

    def _first_event(self, stack: Stack, status: str, reason: str | None) -> None:
        self.executor._event(stack, stack.name, stack.stack_id, STACK_TYPE, status, reason)

    def _begin_update(
        self, stack: Stack, candidate: Candidate, params: dict[str, Any], change_set_id: str | None
    ) -> None:
        previous = {
            "processed": stack.processed,
            "parameters": stack.parameters,
            "template_body": stack.template_body,
            "outputs": stack.outputs,
        }
        tags = params.get("Tags")
        stack = self.records.update_stack(
            stack,
            status="UPDATE_IN_PROGRESS",
            reason="User Initiated",
            previous=previous,
            processed=candidate.processed,
            parameters=candidate.parameters,
            template_body=candidate.body,
            description=candidate.template.description,
            updated=self.clock.now(),
            tags=tags if tags is not None else stack.tags,
            capabilities=params.get("Capabilities") or stack.capabilities,
        )
        self._first_event(stack, "UPDATE_IN_PROGRESS", "User Initiated")
        self.executor.launch(
            stack, "UPDATE", {"change_set_id": change_set_id} if change_set_id else None
        )

    def _change_set(self, ctx: RequestContext, name: str, stack_name: str | None) -> ChangeSet:
        """A change set by ARN, or by name within a stack; ChangeSetNotFound otherwise."""
        cs = None
        if name.startswith("arn:"):
            cs = self.records.get_change_set(name)
            if cs is not None and (cs.account_id, cs.region) != (ctx.account_id, ctx.region):
                cs = None
        elif stack_name:
            stack = self.records.find_stack(ctx.account_id, ctx.region, stack_name)
            if stack is None:
                raise stack_not_found(stack_name)
            cs = self.records.find_change_set(stack.stack_id, name)
        else:
            raise CfnValidationError(
                "StackName must be specified if ChangeSetName is not specified as an ARN."
            )
        if cs is None:
            raise ChangeSetNotFoundException(f"ChangeSet [{name}] does not exist")
        return cs
