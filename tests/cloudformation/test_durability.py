"""Stacks, their resources and events survive a restart of the server (and a SIGKILL)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

TEMPLATE = """
Resources:
  P: {Type: AWS::SSM::Parameter, Properties: {Name: /durable/p, Type: String, Value: one}}
Outputs:
  V: {Value: !GetAtt P.Value, Export: {Name: durable-v}}
"""


def test_stack_survives_sigkill(server_factory: Callable[..., Any], tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = server_factory(data).start()
    cfn = srv.client("cloudformation")
    stack_id = cfn.create_stack(StackName="durable", TemplateBody=TEMPLATE)["StackId"]
    cfn.get_waiter("stack_create_complete").wait(StackName="durable", WaiterConfig={"Delay": 1})
    events_before = cfn.describe_stack_events(StackName="durable")["StackEvents"]
    srv.kill()

    srv2 = server_factory(data, port=srv.port).start()
    cfn = srv2.client("cloudformation")
    stack = cfn.describe_stacks(StackName="durable")["Stacks"][0]
    assert (stack["StackId"], stack["StackStatus"]) == (stack_id, "CREATE_COMPLETE")
    assert stack["Outputs"][0]["OutputValue"] == "one"
    assert cfn.describe_stack_events(StackName="durable")["StackEvents"] == events_before
    assert cfn.list_exports()["Exports"][0]["Name"] == "durable-v"
    cfn.update_stack(StackName="durable", TemplateBody=TEMPLATE.replace("one", "two"))
    cfn.get_waiter("stack_update_complete").wait(StackName="durable", WaiterConfig={"Delay": 1})
    assert srv2.client("ssm").get_parameter(Name="/durable/p")["Parameter"]["Value"] == "two"
    cfn.delete_stack(StackName="durable")
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack_id, WaiterConfig={"Delay": 1})
    srv2.stop()
