"""Carrying out one action of a plan on one resource, and what every action needs: stack
events, resource rows, the scope that resolves a resource's properties from what exists, and the
stack's outputs and exports. `Executor` (executor.py) builds stack operations from these."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from typing import Any

from overcast.core import ids
from overcast.core.clock import Clock
from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.engines.cfn.dynamic import dynamic_references, substitute
from overcast.engines.cfn.errors import TemplateError
from overcast.engines.cfn.intrinsics import symbolic_json
from overcast.engines.cfn.model import Prepared, make_scope, outputs, resource_properties
from overcast.engines.cfn.plan import (
    Action,
    Create,
    Delete,
    DeleteReplaced,
    NoOp,
    Replace,
    Update,
)
from overcast.engines.cfn.replacement import requires_replacement
from overcast.services.cloudformation.records import Stack, StackEvent, StackResource, StackStore
from overcast.services.cloudformation.resources.base import (
    ResourceContext,
    ResourceError,
    ResourceHandler,
    Result,
)
from overcast.services.cloudformation.templates import prepared_of, read_dynamic

log = logging.getLogger("overcast.cloudformation")

STACK_TYPE = "AWS::CloudFormation::Stack"
RESTART_REASON = "Overcast restarted while the operation was running"


class ActionFailed(Exception):
    """A resource action failed; `reason` goes into its event."""

    def __init__(self, logical_id: str, reason: str) -> None:
        super().__init__(reason)
        self.logical_id = logical_id
        self.reason = reason


def failure_reason(exc: BaseException) -> str:
    """The status reason for a failed resource, in CloudFormation's words where it has them."""
    if isinstance(exc, ServiceError):
        return (
            f'Resource handler returned message: "{exc.message or exc.code}" '
            f"(Status Code: {exc.status}, Error Code: {exc.code})"
        )
    if isinstance(exc, TemplateError):
        return exc.message
    if isinstance(exc, ResourceError):
        return str(exc)
    return f"Internal failure: {type(exc).__name__}: {exc}"


class ResourceActions:
    """The per-resource half of the executor (see the module docstring)."""

    records: StackStore
    clock: Clock
    handlers: dict[str, ResourceHandler]
    _call: Callable[[RequestContext, str, str, dict[str, Any]], Any]

    def ctx_for(self, stack: Stack) -> RequestContext:
        return RequestContext(
            request_id=ids.request_id(),
            account_id=stack.account_id,
            region=stack.region,
            service="cloudformation",
            endpoint=stack.endpoint,
            internal=True,
        )

    def prepared(self, stack: Stack) -> Prepared:
        return prepared_of(stack)

    def _event(
        self,
        stack: Stack,
        logical_id: str,
        physical_id: str | None,
        rtype: str,
        status: str,
        reason: str | None = None,
        props: dict[str, Any] | None = None,
    ) -> None:
        self.records.add_event(
            StackEvent(
                seq=0,
                stack_id=stack.stack_id,
                event_id=ids.request_id()
                if logical_id == stack.name and rtype == STACK_TYPE
                else f"{logical_id}-{status}-{ids.request_id()}",
                logical_id=logical_id,
                physical_id=physical_id,
                type=rtype,
                status=status,
                reason=reason,
                ts=self.clock.now(),
                properties=json.dumps(props) if props is not None else None,
            )
        )

    def _stack_status(
        self, stack: Stack, status: str, reason: str | None = None, **changes: Any
    ) -> Stack:
        stack = self.records.update_stack(stack, status=status, reason=reason, **changes)
        self._event(stack, stack.name, stack.stack_id, STACK_TYPE, status, reason)
        return stack

    def _put(self, r: StackResource, **changes: Any) -> StackResource:
        from dataclasses import replace

        new = replace(r, updated=self.clock.now(), **changes)
        self.records.put_resource(new)
        return new

    def _rc(self, stack: Stack, logical_id: str) -> ResourceContext:
        ctx = self.ctx_for(stack)

        async def call(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
            result: dict[str, Any] = await self._call(ctx, service, operation, params)
            return result

        return ResourceContext(
            call=call,
            stack_name=stack.name,
            stack_id=stack.stack_id,
            logical_id=logical_id,
            account_id=stack.account_id,
            region=stack.region,
            endpoint=stack.endpoint,
            tags=tuple((t["Key"], t["Value"]) for t in stack.tags),
        )

    def _scope(self, stack: Stack, prepared: Prepared, imported: set[str]) -> Any:
        live = {r.logical_id: r for r in self.records.resources(stack.stack_id)}
        exports = self.records.exports(stack.account_id, stack.region)

        def ref(name: str) -> Any:
            r = live.get(name)
            if r is None or r.physical_id is None:
                raise TemplateError(f"Template error: resource {name} has no value yet")
            return r.ref if r.ref is not None else r.physical_id

        def get_att(name: str, attribute: str) -> Any:
            r = live.get(name)
            if r is None or r.physical_id is None:
                raise TemplateError(f"Template error: resource {name} has no value yet")
            if attribute not in r.attributes:
                raise TemplateError(
                    f"Template error: resource {name} does not support attribute type "
                    f"{attribute} in Fn::GetAtt"
                )
            return r.attributes[attribute]

        def import_value(name: str) -> Any:
            if name not in exports:
                raise TemplateError(f"No export named {name} found.")
            imported.add(name)
            return exports[name][0]

        return make_scope(prepared, ref_resource=ref, get_att=get_att, import_value=import_value)

    async def _resolve(
        self, stack: Stack, prepared: Prepared, logical_id: str, imported: set[str]
    ) -> dict[str, Any]:
        props = resource_properties(prepared, logical_id, self._scope(stack, prepared, imported))
        refs = dynamic_references(props)
        if not refs:
            return props
        call = self._rc(stack, logical_id).call
        values = {ref.text: await read_dynamic(call, ref) for ref in refs}
        result: dict[str, Any] = substitute(props, values)
        return result

    def _existing(self, stack_id: str) -> dict[str, StackResource]:
        return {r.logical_id: r for r in self.records.resources(stack_id)}

    # -- running a plan ------------------------------------------------------------------------

    async def _run_groups(
        self,
        stack: Stack,
        prepared: Prepared | None,
        groups: tuple[tuple[Action, ...], ...],
        imported: set[str],
    ) -> list[ActionFailed]:
        """Run groups in order, each group's actions together; stop after a group that failed."""
        for group in groups:
            results = await asyncio.gather(
                *(self._act(stack, prepared, a, imported) for a in group), return_exceptions=True
            )
            failures: list[ActionFailed] = []
            for action, res in zip(group, results, strict=True):
                if isinstance(res, ActionFailed):
                    failures.append(res)
                elif isinstance(res, BaseException):
                    if isinstance(res, asyncio.CancelledError):
                        raise res
                    log.exception("resource %s failed", action.logical_id, exc_info=res)
                    failures.append(ActionFailed(action.logical_id, failure_reason(res)))
            if failures:
                return failures
        return []

    async def _act(
        self, stack: Stack, prepared: Prepared | None, action: Action, imported: set[str]
    ) -> None:
        if isinstance(action, NoOp):
            return
        if isinstance(action, Create):
            assert prepared is not None
            await self._create(stack, prepared, action.logical_id, action.resource_type, imported)
        elif isinstance(action, Update | Replace):
            assert prepared is not None
            await self._update(stack, prepared, action, imported)
        elif isinstance(action, Delete):
            await self._delete(stack, action.logical_id, action.retain)
        elif isinstance(action, DeleteReplaced):
            await self._delete_replaced(stack, action.logical_id, action.retain)

    async def _update_in_place(
        self, stack: Stack, row: StackResource, rtype: str, new_props: dict[str, Any]
    ) -> Result:
        """Run the handler's update from the row's properties to `new_props`."""
        handler = self._handler(rtype)
        assert row.physical_id is not None
        return await handler.update(
            self._rc(stack, row.logical_id),
            row.physical_id,
            row.properties,
            new_props,
            row.attributes,
        )

    def _update_failed(
        self, stack: Stack, row: StackResource, rtype: str, reason: str, **changes: Any
    ) -> ActionFailed:
        """Record a failed update (row and event); the error to raise."""
        self._put(row, status="UPDATE_FAILED", reason=reason, **changes)
        self._event(stack, row.logical_id, row.physical_id, rtype, "UPDATE_FAILED", reason)
        return ActionFailed(row.logical_id, reason)

    def _handler(self, rtype: str) -> ResourceHandler:
        handler = self.handlers.get(rtype)
        if handler is None:
            raise _Unsupported(f"Unsupported resource type: {rtype}")
        return handler

    async def _create(
        self, stack: Stack, prepared: Prepared, logical_id: str, rtype: str, imported: set[str]
    ) -> None:
        # undo "create": an update's rollback deletes it (cleared when the operation ends)
        row = StackResource(
            stack.stack_id,
            logical_id,
            rtype,
            None,
            "CREATE_IN_PROGRESS",
            None,
            {},
            {},
            None,
            self.clock.now(),
            {"kind": "create"},
        )
        self.records.put_resource(row)
        self._event(stack, logical_id, None, rtype, "CREATE_IN_PROGRESS")
        try:
            handler = self._handler(rtype)
            props = await self._resolve(stack, prepared, logical_id, imported)
            row = self._put(row, properties=props)
            result = await handler.create(self._rc(stack, logical_id), props)
        except Exception as exc:
            reason = _reason(exc)
            self._put(row, status="CREATE_FAILED", reason=reason)
            self._event(stack, logical_id, None, rtype, "CREATE_FAILED", reason)
            raise ActionFailed(logical_id, reason) from None
        self._event(
            stack,
            logical_id,
            result.physical_id,
            rtype,
            "CREATE_IN_PROGRESS",
            "Resource creation Initiated",
            props,
        )
        self._put(
            row,
            status="CREATE_COMPLETE",
            reason=None,
            physical_id=result.physical_id,
            attributes=result.attributes,
            ref=result.ref,
        )
        self._event(stack, logical_id, result.physical_id, rtype, "CREATE_COMPLETE")

    async def _update(
        self, stack: Stack, prepared: Prepared, action: Update | Replace, imported: set[str]
    ) -> None:
        rows = self._existing(stack.stack_id)
        row = rows[action.logical_id]
        rtype = action.resource_type
        try:
            new_props = await self._resolve(stack, prepared, action.logical_id, imported)
        except (TemplateError, ResourceError) as exc:
            raise self._update_failed(stack, row, rtype, failure_reason(exc)) from None
        replace = isinstance(action, Replace)
        if not replace:
            changed = {
                k
                for k in set(new_props) | set(row.properties)
                if new_props.get(k) != row.properties.get(k)
            }
            if not changed:
                if all(c.evaluation == "Dynamic" for c in action.changes) and action.changes:
                    return  # the values it reads resolved to what they were
                # Metadata only: reported as an update, nothing to change in the service.
                self._event(stack, row.logical_id, row.physical_id, rtype, "UPDATE_IN_PROGRESS")
                self._event(stack, row.logical_id, row.physical_id, rtype, "UPDATE_COMPLETE")
                return
            replace = any(requires_replacement(rtype, k) for k in changed)
        undo = {
            "kind": "replace" if replace else "update",
            "physical_id": row.physical_id,
            "properties": row.properties,
            "attributes": row.attributes,
            "ref": row.ref,
            "type": row.type,
        }
        if replace:
            reason = "Requested update requires the creation of a new physical resource; hence creating one."
            self._put(row, status="UPDATE_IN_PROGRESS", reason=reason, undo=undo)
            self._event(stack, row.logical_id, row.physical_id, rtype, "UPDATE_IN_PROGRESS", reason)
            try:
                handler = self._handler(rtype)
                result = await handler.create(self._rc(stack, row.logical_id), new_props)
            except Exception as exc:
                raise self._update_failed(stack, row, rtype, _reason(exc), undo=undo) from None
            self._event(
                stack,
                row.logical_id,
                result.physical_id,
                rtype,
                "UPDATE_IN_PROGRESS",
                "Resource creation Initiated",
                new_props,
            )
        else:
            self._put(row, status="UPDATE_IN_PROGRESS", reason=None, undo=undo)
            self._event(stack, row.logical_id, row.physical_id, rtype, "UPDATE_IN_PROGRESS")
            try:
                result = await self._update_in_place(stack, row, rtype, new_props)
            except Exception as exc:
                raise self._update_failed(stack, row, rtype, _reason(exc), undo=undo) from None
        self._put(
            row,
            status="UPDATE_COMPLETE",
            reason=None,
            physical_id=result.physical_id,
            properties=new_props,
            attributes=result.attributes,
            ref=result.ref,
            type=rtype,
            undo=undo,
        )
        self._event(stack, row.logical_id, result.physical_id, rtype, "UPDATE_COMPLETE")

    async def _delete(self, stack: Stack, logical_id: str, retain: bool) -> None:
        row = self._existing(stack.stack_id).get(logical_id)
        if row is None:
            return
        if retain:
            self._event(stack, logical_id, row.physical_id, row.type, "DELETE_SKIPPED")
            self.records.delete_resource(stack.stack_id, logical_id)
            return
        self._put(row, status="DELETE_IN_PROGRESS", reason=None)
        self._event(stack, logical_id, row.physical_id, row.type, "DELETE_IN_PROGRESS")
        handler = self.handlers.get(row.type)
        if row.physical_id is not None and handler is not None:
            try:
                await handler.delete(self._rc(stack, logical_id), row.physical_id, row.properties)
            except Exception as exc:
                reason = failure_reason(exc)
                self._put(row, status="DELETE_FAILED", reason=reason)
                self._event(stack, logical_id, row.physical_id, row.type, "DELETE_FAILED", reason)
                raise ActionFailed(logical_id, reason) from None
        self.records.delete_resource(stack.stack_id, logical_id)
        self._event(stack, logical_id, row.physical_id, row.type, "DELETE_COMPLETE")

    async def _delete_replaced(self, stack: Stack, logical_id: str, retain: bool) -> None:
        row = self._existing(stack.stack_id).get(logical_id)
        if row is None or not row.undo or row.undo.get("kind") != "replace":
            return
        old_id = row.undo.get("physical_id")
        old_type = row.undo.get("type", row.type)
        if old_id is None or retain:
            if retain:
                self._event(stack, logical_id, old_id, old_type, "DELETE_SKIPPED")
            self._put(row, undo=None)
            return
        self._event(stack, logical_id, old_id, old_type, "DELETE_IN_PROGRESS")
        handler = self.handlers.get(old_type)
        try:
            if handler is not None:
                await handler.delete(self._rc(stack, logical_id), old_id, row.undo["properties"])
        except Exception as exc:
            reason = failure_reason(exc)
            self._event(stack, logical_id, old_id, old_type, "DELETE_FAILED", reason)
            self._put(row, undo=None)
            raise ActionFailed(logical_id, reason) from None
        self._event(stack, logical_id, old_id, old_type, "DELETE_COMPLETE")
        self._put(row, undo=None)

    # -- outputs -------------------------------------------------------------------------------

    def _finish_outputs(self, stack: Stack, prepared: Prepared, imported: set[str]) -> Stack:
        """Evaluate outputs and register exports; TemplateError if an export name is taken."""
        scope = self._scope(stack, prepared, imported)
        outs = outputs(prepared, scope)
        taken = self.records.exports(stack.account_id, stack.region)
        exports: dict[str, str] = {}
        listed: list[dict[str, Any]] = []
        for o in outs:
            value = o.value if isinstance(o.value, str) else json.dumps(symbolic_json(o.value))
            value = local_urls(value, stack.endpoint)
            entry: dict[str, Any] = {"OutputKey": o.key, "OutputValue": value}
            if o.description is not None:
                entry["Description"] = o.description
            if o.export_name is not None:
                owner = taken.get(o.export_name)
                if owner is not None and owner[1] != stack.stack_id:
                    owner_stack = self.records.get_stack(owner[1])
                    raise TemplateError(
                        f"Export with name {o.export_name} is already exported by stack "
                        f"{owner_stack.name if owner_stack else owner[1]}"
                    )
                exports[o.export_name] = value
                entry["ExportName"] = o.export_name
            listed.append(entry)
        self.records.set_exports(stack.account_id, stack.region, stack.stack_id, exports)
        self.records.set_imports(stack.account_id, stack.region, stack.stack_id, imported)
        return self.records.update_stack(stack, outputs=listed)

    # -- operations ----------------------------------------------------------------------------


_EXECUTE_API = re.compile(
    r"https?://([a-z0-9]{1,20})\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?(/[^\s\"']*)?"
)


def local_urls(value: str, endpoint: str) -> str:
    """Invoke URLs written the AWS way (`https://{api}.execute-api.{region}.amazonaws.com/...`)
    rewritten to Overcast's path form on the stack's endpoint, so an output works as printed."""

    def repl(m: re.Match[str]) -> str:
        return f"{endpoint}/_aws/execute-api/{m.group(1)}{m.group(2) or '/'}"

    return _EXECUTE_API.sub(repl, value)


def _reason(exc: Exception) -> str:
    """An event's status reason for a handler's failure."""
    return str(exc) if isinstance(exc, _Unsupported) else failure_reason(exc)


class _Unsupported(Exception):
    pass
