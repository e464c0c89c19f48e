"""The CloudFormation operations on stacks (change sets in `changesets.py`, reads in
`describe.py`). Each mutating operation validates, writes the stack row and its first event, and
hands the work to the executor, which runs it in the background."""

from __future__ import annotations

import re
from typing import Any

from overcast.core.clock import Clock
from overcast.core.context import RequestContext
from overcast.dispatch import Dispatcher
from overcast.services.cloudformation.changesets import ChangeSetOperations
from overcast.services.cloudformation.common import (
    SETTLE_SECONDS,
    ProviderBase,
    check_updatable,
)
from overcast.services.cloudformation.describe import DescribeOperations
from overcast.services.cloudformation.errors import (
    AlreadyExistsException,
    CfnValidationError,
)
from overcast.services.cloudformation.executor import Executor
from overcast.services.cloudformation.records import MIGRATIONS, StackStore
from overcast.services.cloudformation.resources import all_handlers
from overcast.services.cloudformation.templates import (
    TransformFailed,
    parse,
)
from overcast.store import Store

_STACK_NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]{0,127}$")
UPDATABLE = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
}


class CloudFormationProvider(DescribeOperations, ChangeSetOperations, ProviderBase):
    SERVICE = "cloudformation"

    def __init__(self, store: Store, clock: Clock, dispatcher: Dispatcher) -> None:
        self.records = StackStore(store.open("cloudformation", MIGRATIONS))
        self.clock = clock
        self.dispatcher = dispatcher
        self.executor = Executor(self.records, dispatcher.call, clock, all_handlers())

    async def start(self) -> None:
        """Recover operations a restart interrupted (see Executor.recover)."""
        await self.executor.recover()

    async def stop(self) -> None:
        await self.executor.stop()

    # -- stack operations ----------------------------------------------------------------------

    async def create_stack(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["StackName"]
        if not _STACK_NAME.match(name):
            raise CfnValidationError(
                f"1 validation error detected: Value '{name}' at 'stackName' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: "
                "[a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*"
            )
        existing = self.records.find_stack(ctx.account_id, ctx.region, name)
        if existing is not None:
            raise AlreadyExistsException(f"Stack [{name}] already exists")
        stack_id = self._new_stack_id(ctx, name)
        try:
            candidate = await self._candidate(
                ctx, params, stack_name=name, stack_id=stack_id, existing=None
            )
        except TransformFailed as exc:
            raise CfnValidationError(exc.reason) from None
        self._check_capabilities(candidate, params, bool(parse(candidate.body).get("Transform")))
        on_failure = params.get("OnFailure", "ROLLBACK")
        stack = self._open_stack(
            ctx,
            stack_id,
            name,
            "CREATE_IN_PROGRESS",
            params.get("Tags"),
            description=candidate.template.description,
            template_body=candidate.body,
            processed=candidate.processed,
            parameters=candidate.parameters,
            capabilities=params.get("Capabilities") or [],
            disable_rollback=bool(params.get("DisableRollback")) or on_failure == "DO_NOTHING",
            termination_protection=bool(params.get("EnableTerminationProtection")),
        )
        self.executor.launch(stack, "CREATE", {"on_failure": on_failure})
        await self.executor.settle(stack_id, SETTLE_SECONDS)
        return {"StackId": stack_id}

    async def update_stack(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self._stack(ctx, params["StackName"])
        check_updatable(stack, UPDATABLE)
        try:
            candidate = await self._candidate(
                ctx, params, stack_name=stack.name, stack_id=stack.stack_id, existing=stack
            )
        except TransformFailed as exc:
            raise CfnValidationError(exc.reason) from None
        self._check_capabilities(candidate, params, bool(parse(candidate.body).get("Transform")))
        plan = self._update_plan(stack, candidate)
        same_params = candidate.parameters == stack.parameters
        tags = params.get("Tags")
        if (
            not plan.has_changes()
            and same_params
            and (tags is None or tags == stack.tags)
            and candidate.processed.get("Outputs") == stack.processed.get("Outputs")
        ):
            raise CfnValidationError("No updates are to be performed.")
        self._begin_update(stack, candidate, params, None)
        await self.executor.settle(stack.stack_id, SETTLE_SECONDS)
        return {"StackId": stack.stack_id}

    async def delete_stack(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        stack = self.records.find_stack(ctx.account_id, ctx.region, params["StackName"])
        if stack is None or stack.status == "DELETE_COMPLETE":
            return {}
        if stack.status == "DELETE_IN_PROGRESS":
            return {}
        if stack.termination_protection:
            raise CfnValidationError(
                f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled"
            )
        if stack.status.endswith("_IN_PROGRESS") and stack.status != "REVIEW_IN_PROGRESS":
            raise CfnValidationError(
                f"Stack [{stack.name}] cannot be deleted while in status {stack.status}"
            )
        for export, (_, owner) in self.records.exports(ctx.account_id, ctx.region).items():
            if owner != stack.stack_id:
                continue
            users = [
                u
                for u in self.records.importers(ctx.account_id, ctx.region, export)
                if u != stack.name
            ]
            if users:
                raise CfnValidationError(
                    f"Export {export} cannot be deleted as it is in use by {', '.join(users)}"
                )
        if stack.status == "REVIEW_IN_PROGRESS":
            stack = self.records.update_stack(
                stack, status="DELETE_COMPLETE", deleted=self.clock.now()
            )
            self.records.delete_change_sets_of(stack.stack_id)
            self._first_event(stack, "DELETE_COMPLETE", None)
            return {}
        stack = self.records.update_stack(
            stack, status="DELETE_IN_PROGRESS", reason="User Initiated"
        )
        self._first_event(stack, "DELETE_IN_PROGRESS", "User Initiated")
        self.executor.launch(stack, "DELETE", {"retain": params.get("RetainResources") or []})
        await self.executor.settle(stack.stack_id, SETTLE_SECONDS)
        return {}

    def update_termination_protection(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        stack = self._stack(ctx, params["StackName"])
        self.records.update_stack(
            stack, termination_protection=bool(params["EnableTerminationProtection"])
        )
        return {"StackId": stack.stack_id}
