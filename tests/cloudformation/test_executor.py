"""The executor with in-memory resource handlers: ordering, rollback, replacement, recovery."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from overcast.core.clock import FakeClock
from overcast.engines.cfn.parameters import resolve_parameters
from overcast.services.cloudformation.executor import RESTART_REASON, Executor
from overcast.services.cloudformation.records import MIGRATIONS, Stack, StackStore
from overcast.services.cloudformation.resources.base import (
    ResourceContext,
    ResourceHandler,
    Result,
)
from overcast.services.cloudformation.templates import parameters_list, template_record
from overcast.store import Store


class World:
    """What the fake service holds, and a log of calls in order."""

    def __init__(self) -> None:
        self.things: dict[str, dict[str, Any]] = {}
        self.log: list[str] = []
        self.fail_create: set[str] = set()
        self.fail_update: set[str] = set()
        self.block: asyncio.Event | None = None
        self.counter = 0


class Thing(ResourceHandler):
    """A resource whose `Name` change replaces it; Ref = physical id; GetAtt Value = props."""

    TYPE = "Test::Thing"

    def __init__(self, world: World) -> None:
        self.world = world

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        w = self.world
        w.log.append(f"create {rc.logical_id}")
        if w.block is not None and rc.logical_id == "Slow":
            await w.block.wait()
        if rc.logical_id in w.fail_create:
            raise RuntimeError(f"{rc.logical_id} refused")
        w.counter += 1
        pid = f"{props.get('Name', rc.logical_id)}-{w.counter}"
        w.things[pid] = props
        return Result(pid, {"Value": str(props.get("Value", ""))})

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        self.world.log.append(f"update {rc.logical_id}")
        if rc.logical_id in self.world.fail_update:
            raise RuntimeError(f"{rc.logical_id} update refused")
        self.world.things[physical_id] = new
        return Result(physical_id, {"Value": str(new.get("Value", ""))})

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        w = self.world
        w.log.append(f"delete {rc.logical_id}")
        if w.block is not None and rc.logical_id == "Slow":
            await w.block.wait()
        w.things.pop(physical_id, None)


# Name changes replace a Test::Thing.
from overcast.engines.cfn import replacement  # noqa: E402

replacement.REPLACES["Test::Thing"] = frozenset({"Name"})


def template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "Resources": resources,
        "Outputs": {name: {"Value": {"Ref": name}} for name in resources},
    }


def thing(**props: Any) -> dict[str, Any]:
    extra = {k: props.pop(k) for k in ("DependsOn", "DeletionPolicy") if k in props}
    return {"Type": "Test::Thing", "Properties": props, **extra}


class Harness:
    def __init__(self, tmp: Path, world: World | None = None) -> None:
        self.store = Store(tmp, durable=False)
        self.records = StackStore(self.store.open("cloudformation", MIGRATIONS))
        self.world = world or World()
        self.clock = FakeClock()

        async def call(ctx: Any, service: str, op: str, params: dict[str, Any]) -> dict[str, Any]:
            raise AssertionError("fake handlers make no calls")

        self.executor = Executor(self.records, call, self.clock, {"Test::Thing": Thing(self.world)})

    def new_stack(self, processed: dict[str, Any], name: str = "s") -> Stack:
        t = template_record(processed)
        params = parameters_list(t, resolve_parameters(t.parameters, {}), {})
        stack = Stack(
            stack_id=f"arn:aws:cloudformation:us-east-1:000000000000:stack/{name}/1",
            account_id="000000000000",
            region="us-east-1",
            name=name,
            status="CREATE_IN_PROGRESS",
            reason=None,
            description=None,
            template_body=json.dumps(processed),
            processed=processed,
            parameters=params,
            outputs=[],
            tags=[],
            capabilities=[],
            created=self.clock.now(),
        )
        self.records.put_stack(stack)
        return stack

    def stack(self, stack_id: str) -> Stack:
        s = self.records.get_stack(stack_id)
        assert s is not None
        return s

    def statuses(self, stack_id: str) -> list[tuple[str, str]]:
        return [(e.logical_id, e.status) for e in reversed(self.records.events(stack_id))]

    async def run(self, stack: Stack, kind: str) -> Stack:
        self.executor.launch(stack, kind)
        await self.executor.settle(stack.stack_id, 10)
        return self.stack(stack.stack_id)

    async def update(self, stack: Stack, processed: dict[str, Any]) -> Stack:
        previous = {
            "processed": stack.processed,
            "parameters": stack.parameters,
            "template_body": stack.template_body,
            "outputs": stack.outputs,
        }
        stack = self.records.update_stack(
            stack,
            status="UPDATE_IN_PROGRESS",
            previous=previous,
            processed=processed,
            template_body=json.dumps(processed),
        )
        return await self.run(stack, "UPDATE")


def test_create_in_dependency_order_with_outputs(tmp_path: Path) -> None:
    async def go() -> None:
        h = Harness(tmp_path)
        t = template(
            A=thing(Value="a"),
            B=thing(Value={"Fn::GetAtt": ["A", "Value"]}),
            C=thing(Value={"Fn::Sub": "${B}+${A.Value}"}),
        )
        stack = await h.run(h.new_stack(t), "CREATE")
        assert stack.status == "CREATE_COMPLETE"
        assert stack.operation is None
        assert h.world.log == ["create A", "create B", "create C"]
        outs = {o["OutputKey"]: o["OutputValue"] for o in stack.outputs}
        c_props = h.world.things[outs["C"]]
        assert c_props["Value"] == f"{outs['B']}+a"
        assert [s for s in h.statuses(stack.stack_id) if s[0] == "s"] == [("s", "CREATE_COMPLETE")]

    asyncio.run(go())


def test_create_failure_rolls_back(tmp_path: Path) -> None:
    async def go() -> None:
        h = Harness(tmp_path)
        h.world.fail_create.add("B")
        t = template(A=thing(), B=thing(DependsOn="A"), C=thing(DependsOn="B"))
        stack = await h.run(h.new_stack(t), "CREATE")
        assert stack.status == "ROLLBACK_COMPLETE"
        assert h.world.things == {}
        assert "create C" not in h.world.log
        events = h.statuses(stack.stack_id)
        assert ("B", "CREATE_FAILED") in events
        assert ("A", "DELETE_COMPLETE") in events
        reasons = [
            e.reason for e in h.records.events(stack.stack_id) if e.status == "CREATE_FAILED"
        ]
        assert reasons and "B refused" in str(reasons[0])
        rollback = [
            e for e in h.records.events(stack.stack_id) if e.status == "ROLLBACK_IN_PROGRESS"
        ]
        assert "The following resource(s) failed to create: [B]" in str(rollback[0].reason)

    asyncio.run(go())


def test_unsupported_type_fails_the_stack(tmp_path: Path) -> None:
    async def go() -> None:
        h = Harness(tmp_path)
        t = template(A=thing(), X={"Type": "AWS::Nope::Thing"})
        stack = await h.run(h.new_stack(t), "CREATE")
        assert stack.status == "ROLLBACK_COMPLETE"
        failed = [e for e in h.records.events(stack.stack_id) if e.status == "CREATE_FAILED"]
        assert failed[0].reason == "Unsupported resource type: AWS::Nope::Thing"

    asyncio.run(go())


def test_update_in_place_replace_and_delete(tmp_path: Path) -> None:
    async def go() -> None:
        h = Harness(tmp_path)
        t1 = template(A=thing(Name="a", Value="1"), B=thing(Value="x"), Gone=thing())
        stack = await h.run(h.new_stack(t1), "CREATE")
        ids1 = {r.logical_id: r.physical_id for r in h.records.resources(stack.stack_id)}
        h.world.log.clear()
        t2 = template(A=thing(Name="a2", Value="1"), B=thing(Value="y"), New=thing())
        stack = await h.update(stack, t2)
        assert stack.status == "UPDATE_COMPLETE"
        ids2 = {r.logical_id: r.physical_id for r in h.records.resources(stack.stack_id)}
        assert ids2["A"] != ids1["A"] and ids2["B"] == ids1["B"]
        assert set(ids2) == {"A", "B", "New"}
        assert ids1["A"] not in h.world.things  # old physical deleted in cleanup
        assert h.world.log.index("delete A") > h.world.log.index("create A")
        assert "update B" in h.world.log and "delete Gone" in h.world.log
        assert ("s", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS") in h.statuses(stack.stack_id)
        assert all(r.undo is None for r in h.records.resources(stack.stack_id))

    asyncio.run(go())


def test_update_failure_rolls_back_everything(tmp_path: Path) -> None:
    async def go() -> None:
        h = Harness(tmp_path)
        t1 = template(A=thing(Name="a", Value="1"), B=thing(Value="x"))
        stack = await h.run(h.new_stack(t1), "CREATE")
        before = dict(h.world.things)
        ids1 = {r.logical_id: r.physical_id for r in h.records.resources(stack.stack_id)}
        h.world.fail_create.add("C")
        t2 = template(
            A=thing(Name="a2", Value="1"), B=thing(Value="y"), C=thing(DependsOn=["A", "B"])
        )
        stack = await h.update(stack, t2)
        assert stack.status == "UPDATE_ROLLBACK_COMPLETE"
        assert h.world.things == before
        ids = {r.logical_id: r.physical_id for r in h.records.resources(stack.stack_id)}
        assert ids == ids1
        assert stack.processed == t1
        assert ("C", "CREATE_FAILED") in h.statuses(stack.stack_id)

    asyncio.run(go())


def test_delete_respects_retain(tmp_path: Path) -> None:
    async def go() -> None:
        h = Harness(tmp_path)
        t = template(A=thing(DeletionPolicy="Retain"), B=thing())
        stack = await h.run(h.new_stack(t), "CREATE")
        stack = h.records.update_stack(stack, status="DELETE_IN_PROGRESS")
        stack = await h.run(stack, "DELETE")
        assert stack.status == "DELETE_COMPLETE"
        assert len(h.world.things) == 1
        assert ("A", "DELETE_SKIPPED") in h.statuses(stack.stack_id)
        assert h.records.resources(stack.stack_id) == []

    asyncio.run(go())


@pytest.mark.parametrize("kind", ["CREATE", "DELETE"])
def test_restart_recovery(tmp_path: Path, kind: str) -> None:
    """An operation cut short: a create is rolled back, a delete resumed, on the next start."""

    async def go() -> None:
        world = World()
        h = Harness(tmp_path, world)
        t = template(A=thing(), Slow=thing(DependsOn="A"))
        stack = h.new_stack(t)
        if kind == "DELETE":
            stack = await h.run(stack, "CREATE")
            stack = h.records.update_stack(stack, status="DELETE_IN_PROGRESS")
        world.block = asyncio.Event()
        h.executor.launch(stack, kind)
        await asyncio.sleep(0.05)
        await h.executor.stop()  # as if the process died mid-operation
        assert h.stack(stack.stack_id).operation is not None
        world.block = None
        h2 = Harness(tmp_path, world)
        await h2.executor.recover()
        await h2.executor.settle(stack.stack_id, 10)
        final = h2.stack(stack.stack_id)
        if kind == "CREATE":
            assert final.status == "ROLLBACK_COMPLETE"
            assert any(e.reason == RESTART_REASON for e in h2.records.events(stack.stack_id))
        else:
            assert final.status == "DELETE_COMPLETE"
        assert world.things == {}
        assert final.operation is None

    asyncio.run(go())
