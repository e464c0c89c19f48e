"""The one executor: carries out a plan in the background, writing resource rows and stack events
as it goes, then completes, rolls back or fails the stack as CloudFormation reports it.

Each stack operation records itself on the stack row (`operation`) before it starts and clears
it at the end; at start-up, an operation left behind by a restart is recovered (see `recover`):
an interrupted create or update is rolled back, an interrupted delete or rollback is resumed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from overcast.core.clock import Clock
from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.engines.cfn.errors import TemplateError
from overcast.engines.cfn.model import Prepared
from overcast.engines.cfn.plan import (
    Action,
    Delete,
    DeleteReplaced,
    Plan,
    plan_create,
    plan_delete,
    plan_update,
)
from overcast.services.cloudformation.actions import (
    RESTART_REASON,
    STACK_TYPE,
    ActionFailed,
    ResourceActions,
    failure_reason,
)
from overcast.services.cloudformation.records import Stack, StackResource, StackStore
from overcast.services.cloudformation.resources.base import (
    ResourceHandler,
    Result,
)
from overcast.services.cloudformation.templates import prepared_of

log = logging.getLogger("overcast.cloudformation")


class Executor(ResourceActions):
    """Runs stack operations as asyncio tasks; the store is the truth, memory only caches."""

    def __init__(
        self,
        records: StackStore,
        call: Callable[[RequestContext, str, str, dict[str, Any]], Any],
        clock: Clock,
        handlers: dict[str, ResourceHandler],
    ) -> None:
        self.records = records
        self._call = call
        self.clock = clock
        self.handlers = handlers
        self.tasks: dict[str, asyncio.Task[None]] = {}

    # -- starting operations -------------------------------------------------------------------

    def launch(self, stack: Stack, kind: str, extra: dict[str, Any] | None = None) -> None:
        """Record the operation on the stack and run it in the background."""
        operation = {"kind": kind, "stage": "deploy", **(extra or {})}
        stack = self.records.update_stack(stack, operation=operation)
        task = asyncio.get_running_loop().create_task(self._run(stack.stack_id, kind))
        self.tasks[stack.stack_id] = task
        stack_id = stack.stack_id

        def forget(_task: asyncio.Task[None]) -> None:
            if self.tasks.get(stack_id) is _task:
                del self.tasks[stack_id]

        task.add_done_callback(forget)

    async def settle(self, stack_id: str, timeout: float) -> None:
        """Wait up to `timeout` seconds for the stack's running operation to end (it goes on in
        the background after that)."""
        task = self.tasks.get(stack_id)
        if task is not None:
            await asyncio.wait({task}, timeout=timeout)

    async def _run(self, stack_id: str, kind: str) -> None:
        try:
            if kind == "CREATE":
                await self.run_create(stack_id)
            elif kind == "UPDATE":
                await self.run_update(stack_id)
            elif kind == "DELETE":
                await self.run_delete(stack_id)
            elif kind == "ROLLBACK":
                await self.run_rollback_create(stack_id, None)
            elif kind == "UPDATE_ROLLBACK":
                await self.run_rollback_update(stack_id, None)
        except Exception:
            log.exception("stack operation %s on %s failed unexpectedly", kind, stack_id)
            stack = self.records.get_stack(stack_id)
            if stack is not None and stack.operation is not None:
                failed = {
                    "CREATE": "CREATE_FAILED",
                    "UPDATE": "UPDATE_ROLLBACK_FAILED",
                    "DELETE": "DELETE_FAILED",
                    "ROLLBACK": "ROLLBACK_FAILED",
                    "UPDATE_ROLLBACK": "UPDATE_ROLLBACK_FAILED",
                }[kind]
                self._stack_status(stack, failed, "Internal failure", operation=None)

    async def recover(self) -> None:
        """Finish what a restart interrupted: roll back creates and updates, resume the rest."""
        for stack in self.records.in_progress():
            op = stack.operation or {}
            kind = op.get("kind", "")
            for r in self.records.resources(stack.stack_id):
                if r.status.endswith("_IN_PROGRESS"):
                    failed = r.status.replace("_IN_PROGRESS", "_FAILED")
                    self._put(r, status=failed, reason=RESTART_REASON)
                    self._event(stack, r.logical_id, r.physical_id, r.type, failed, RESTART_REASON)
            if kind == "CREATE":
                stack = self._stack_status(
                    stack, "ROLLBACK_IN_PROGRESS", RESTART_REASON, operation={"kind": "ROLLBACK"}
                )
                kind = "ROLLBACK"
            elif kind == "UPDATE" and op.get("stage") == "cleanup":
                pass  # the update succeeded; resume its cleanup
            elif kind == "UPDATE":
                stack = self._stack_status(
                    stack,
                    "UPDATE_ROLLBACK_IN_PROGRESS",
                    RESTART_REASON,
                    operation={"kind": "UPDATE_ROLLBACK"},
                )
                kind = "UPDATE_ROLLBACK"
            log.info("resuming %s of stack %s after a restart", kind, stack.name)
            task = asyncio.get_running_loop().create_task(self._run(stack.stack_id, kind))
            self.tasks[stack.stack_id] = task

    async def stop(self) -> None:
        """Cancel running operations (they are recovered at the next start)."""
        for task in list(self.tasks.values()):
            task.cancel()
        for task in list(self.tasks.values()):
            try:
                await task
            except BaseException:
                pass

    # -- helpers -------------------------------------------------------------------------------

    async def run_create(self, stack_id: str) -> None:
        stack = self._get(stack_id)
        prepared = self.prepared(stack)
        imported: set[str] = set()
        failures = await self._run_groups(stack, prepared, plan_create(prepared).deploy, imported)
        if not failures:
            try:
                stack = self._finish_outputs(stack, prepared, imported)
            except TemplateError as exc:
                failures = [ActionFailed(stack.name, exc.message)]
        stack = self._get(stack_id)
        if not failures:
            self._clear_undo(stack_id)
            self._stack_status(stack, "CREATE_COMPLETE", None, operation=None)
            return
        names = ", ".join(f.logical_id for f in failures)
        on_failure = (stack.operation or {}).get("on_failure", "ROLLBACK")
        if stack.disable_rollback:
            self._stack_status(
                stack,
                "CREATE_FAILED",
                f"The following resource(s) failed to create: [{names}]. ",
                operation=None,
            )
            return
        stack = self._stack_status(
            stack,
            "ROLLBACK_IN_PROGRESS",
            f"The following resource(s) failed to create: [{names}]. Rollback requested by user.",
            operation={"kind": "ROLLBACK", "on_failure": on_failure},
        )
        await self.run_rollback_create(stack_id, prepared)

    async def run_rollback_create(self, stack_id: str, prepared: Prepared | None) -> None:
        stack = self._get(stack_id)
        if prepared is None:
            try:
                prepared = self.prepared(stack)
            except ServiceError:
                prepared = None
        existing = {r.logical_id: r.type for r in self.records.resources(stack_id)}
        # A create's rollback keeps only what DeletionPolicy Retain keeps.
        plan = plan_delete(prepared, existing, rollback_of_create=True)
        failures = await self._run_groups(stack, prepared, plan.cleanup, set())
        stack = self._get(stack_id)
        if failures:
            self._stack_status(
                stack, "ROLLBACK_FAILED", _failed_to_delete(failures), operation=None
            )
        else:
            self.records.set_exports(stack.account_id, stack.region, stack_id, {})
            on_failure = (stack.operation or {}).get("on_failure")
            stack = self._stack_status(stack, "ROLLBACK_COMPLETE", None, operation=None)
            if on_failure == "DELETE":  # CreateStack OnFailure=DELETE: the stack goes too
                self._stack_status(stack, "DELETE_IN_PROGRESS", None, operation={"kind": "DELETE"})
                await self.run_delete(stack_id)

    async def run_update(self, stack_id: str) -> None:
        stack = self._get(stack_id)
        op = stack.operation or {}
        prepared = self.prepared(stack)
        imported: set[str] = set()
        if op.get("stage") != "cleanup":
            assert stack.previous is not None
            old = prepared_of(stack, stack.previous["processed"], stack.previous["parameters"])
            existing = {
                r.logical_id: r.type
                for r in self.records.resources(stack_id)
                if r.physical_id is not None
            }
            exports = {
                k: v[0] for k, v in self.records.exports(stack.account_id, stack.region).items()
            }
            plan = plan_update(old, prepared, existing, exports)
            failures = await self._run_groups(stack, prepared, plan.deploy, imported)
            if not failures:
                try:
                    stack = self._finish_outputs(stack, prepared, imported)
                except TemplateError as exc:
                    failures = [ActionFailed(stack.name, exc.message)]
            if failures:
                names = ", ".join(f.logical_id for f in failures)
                stack = self._stack_status(
                    self._get(stack_id),
                    "UPDATE_ROLLBACK_IN_PROGRESS",
                    f"The following resource(s) failed to update: [{names}]. ",
                    operation={"kind": "UPDATE_ROLLBACK"},
                )
                await self.run_rollback_update(stack_id, plan)
                return
            stack = self._stack_status(
                self._get(stack_id),
                "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
                None,
                operation={"kind": "UPDATE", "stage": "cleanup", "cleanup": _plan_json(plan)},
            )
        stack = self._get(stack_id)
        await self._cleanup(stack, prepared, (stack.operation or {}).get("cleanup", []))
        self._stack_status(
            self._get(stack_id), "UPDATE_COMPLETE", None, operation=None, previous=None
        )

    async def _cleanup(
        self, stack: Stack, prepared: Prepared | None, groups: list[list[dict[str, Any]]]
    ) -> None:
        """Cleanup deletes; a failure there is reported in events but does not fail the stack."""
        for group in _plan_from_json(groups):
            await self._run_groups(stack, prepared, (group,), set())
        self._clear_undo(stack.stack_id)

    def _clear_undo(self, stack_id: str) -> None:
        for r in self.records.resources(stack_id):
            if r.undo is not None:
                self._put(r, undo=None)

    async def run_rollback_update(self, stack_id: str, plan: Plan | None) -> None:
        stack = self._get(stack_id)
        rows = self._existing(stack_id)
        order: list[str] = []
        if plan is not None:
            order = [a.logical_id for a in plan.actions()]
        order += sorted(n for n in rows if n not in order)
        failures: list[ActionFailed] = []
        replaced: list[StackResource] = []
        for name in reversed(order):
            row = self._existing(stack_id).get(name)
            if row is None or row.undo is None:
                continue
            try:
                kind = row.undo.get("kind")
                if kind == "create":
                    await self._delete(stack, name, False)
                elif kind == "update":
                    await self._rollback_update(stack, row)
                elif kind == "replace":
                    replaced.append(row)
                    self._event(
                        stack, name, row.undo.get("physical_id"), row.type, "UPDATE_COMPLETE"
                    )
            except ActionFailed as exc:
                failures.append(exc)
        if stack.previous is not None:
            stack = self.records.update_stack(
                self._get(stack_id),
                processed=stack.previous["processed"],
                parameters=stack.previous["parameters"],
                template_body=stack.previous["template_body"],
                outputs=stack.previous.get("outputs", []),
            )
        stack = self._stack_status(
            self._get(stack_id), "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", None
        )
        for row in replaced:
            # Delete the new physical resource; the row goes back to the old one.
            new_id = row.physical_id
            self._event(stack, row.logical_id, new_id, row.type, "DELETE_IN_PROGRESS")
            handler = self.handlers.get(row.type)
            try:
                if handler is not None and new_id is not None:
                    await handler.delete(self._rc(stack, row.logical_id), new_id, row.properties)
                self._event(stack, row.logical_id, new_id, row.type, "DELETE_COMPLETE")
            except Exception as exc:
                self._event(
                    stack, row.logical_id, new_id, row.type, "DELETE_FAILED", failure_reason(exc)
                )
            assert row.undo is not None
            self._put(
                row,
                physical_id=row.undo["physical_id"],
                properties=row.undo["properties"],
                attributes=row.undo["attributes"],
                ref=row.undo.get("ref"),
                type=row.undo.get("type", row.type),
                status="UPDATE_COMPLETE",
                reason=None,
                undo=None,
            )
        for r in self.records.resources(stack_id):
            if r.undo is not None:
                self._put(r, undo=None)
        final = "UPDATE_ROLLBACK_FAILED" if failures else "UPDATE_ROLLBACK_COMPLETE"
        self._stack_status(self._get(stack_id), final, None, operation=None, previous=None)

    async def _rollback_update(self, stack: Stack, row: StackResource) -> None:
        assert row.undo is not None
        old_props = row.undo["properties"]
        self._put(row, status="UPDATE_IN_PROGRESS", reason=None)
        self._event(stack, row.logical_id, row.physical_id, row.type, "UPDATE_IN_PROGRESS")
        try:
            await self._update_in_place(stack, row, row.type, old_props)
        except Exception as exc:
            raise self._update_failed(stack, row, row.type, failure_reason(exc)) from None
        self._put(
            row,
            status="UPDATE_COMPLETE",
            properties=old_props,
            attributes=row.undo["attributes"],
            undo=None,
        )
        self._event(stack, row.logical_id, row.physical_id, row.type, "UPDATE_COMPLETE")

    async def run_delete(self, stack_id: str) -> None:
        stack = self._get(stack_id)
        retain = set((stack.operation or {}).get("retain", []))
        try:
            prepared: Prepared | None = self.prepared(stack)
        except ServiceError:
            prepared = None
        existing = {r.logical_id: r.type for r in self.records.resources(stack_id)}
        plan = plan_delete(prepared, existing)
        groups = tuple(
            tuple(
                Delete(a.logical_id, a.resource_type, True) if a.logical_id in retain else a
                for a in group
            )
            for group in plan.cleanup
        )
        failures = await self._run_groups(stack, prepared, groups, set())
        stack = self._get(stack_id)
        if failures:
            self._stack_status(stack, "DELETE_FAILED", _failed_to_delete(failures), operation=None)
            return
        self.records.set_exports(stack.account_id, stack.region, stack_id, {})
        self.records.set_imports(stack.account_id, stack.region, stack_id, set())
        self.records.delete_change_sets_of(stack_id)
        self._stack_status(stack, "DELETE_COMPLETE", None, operation=None, deleted=self.clock.now())

    def _get(self, stack_id: str) -> Stack:
        stack = self.records.get_stack(stack_id)
        if stack is None:
            raise RuntimeError(f"stack {stack_id} vanished")
        return stack


def _failed_to_delete(failures: list[ActionFailed]) -> str:
    return f"The following resource(s) failed to delete: [{', '.join(f.logical_id for f in failures)}]. "


def _plan_json(plan: Plan) -> list[list[dict[str, Any]]]:
    """The cleanup groups of a plan, stored so that a restart can finish them."""
    out = []
    for group in plan.cleanup:
        out.append(
            [
                {
                    "kind": type(a).__name__,
                    "logical_id": a.logical_id,
                    "type": a.resource_type,
                    "retain": getattr(a, "retain", False),
                }
                for a in group
            ]
        )
    return out


def _plan_from_json(groups: list[list[dict[str, Any]]]) -> list[tuple[Action, ...]]:
    out: list[tuple[Action, ...]] = []
    for group in groups:
        actions: list[Action] = []
        for a in group:
            cls = DeleteReplaced if a["kind"] == "DeleteReplaced" else Delete
            actions.append(cls(a["logical_id"], a["type"], bool(a["retain"])))
        out.append(tuple(actions))
    return out


__all__ = ["RESTART_REASON", "STACK_TYPE", "Executor", "Result", "failure_reason"]
