"""CloudFormation through boto3 and the aws CLI against a real server, with SSM and IAM
resources (services CloudFormation owns no code of)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, WaiterError

TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Description: ssm and iam
Parameters:
  Env:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
  Secret:
    Type: String
    NoEcho: true
    Default: hush
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Mappings:
  Sizes:
    dev: {Size: small}
    prod: {Size: large}
Resources:
  Name:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub "/${AWS::StackName}/env"
      Type: String
      Value: !FindInMap [Sizes, !Ref Env, Size]
  Derived:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: !Join ["|", [!Ref Name, !GetAtt Name.Value, !Ref "AWS::Region"]]
  ProdOnly:
    Type: AWS::SSM::Parameter
    Condition: IsProd
    Properties:
      Type: String
      Value: prod
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
      Policies:
        - PolicyName: read
          PolicyDocument:
            Version: '2012-10-17'
            Statement: [{Effect: Allow, Action: 'ssm:GetParameter', Resource: '*'}]
Outputs:
  RoleArn:
    Value: !GetAtt Role.Arn
    Export:
      Name: !Sub "${AWS::StackName}-role-arn"
  Derived:
    Value: !GetAtt Derived.Value
  ProdOnly:
    Condition: IsProd
    Value: !Ref ProdOnly
"""


def _name() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def _outputs(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_create_update_delete_with_waiters(client: Callable[..., Any]) -> None:
    cfn, ssm, iam = client("cloudformation"), client("ssm"), client("iam")
    name = _name()
    stack_id = cfn.create_stack(
        StackName=name, TemplateBody=TEMPLATE, Capabilities=["CAPABILITY_IAM"]
    )["StackId"]
    assert stack_id.startswith(f"arn:aws:cloudformation:us-east-1:000000000000:stack/{name}/")
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["Description"] == "ssm and iam"
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert params == {"Env": "dev", "Secret": "****"}
    assert ssm.get_parameter(Name=f"/{name}/env")["Parameter"]["Value"] == "small"
    outs = _outputs(cfn, name)
    assert "ProdOnly" not in outs
    assert outs["Derived"] == f"/{name}/env|small|us-east-1"
    role_name = outs["RoleArn"].rsplit("/", 1)[1]
    role = iam.get_role(RoleName=role_name)["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Action"] == "sts:AssumeRole"
    attached = iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
    assert attached[0]["PolicyName"] == "AWSLambdaBasicExecutionRole"
    assert iam.list_role_policies(RoleName=role_name)["PolicyNames"] == ["read"]
    exports = {e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}
    assert exports[f"{name}-role-arn"] == outs["RoleArn"]

    # resources as AWS lists them
    summaries = cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
    assert {s["LogicalResourceId"] for s in summaries} == {"Name", "Derived", "Role"}
    assert all(s["ResourceStatus"] == "CREATE_COMPLETE" for s in summaries)
    detail = cfn.describe_stack_resource(StackName=name, LogicalResourceId="Name")
    assert detail["StackResourceDetail"]["PhysicalResourceId"] == f"/{name}/env"
    by_phys = cfn.describe_stack_resources(PhysicalResourceId=f"/{name}/env")["StackResources"]
    assert by_phys[0]["StackName"] == name

    # update: a parameter changes a mapping value, a condition adds a resource
    cfn.update_stack(
        StackName=name,
        UsePreviousTemplate=True,
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[
            {"ParameterKey": "Env", "ParameterValue": "prod"},
            {"ParameterKey": "Secret", "UsePreviousValue": True},
        ],
    )
    cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    assert ssm.get_parameter(Name=f"/{name}/env")["Parameter"]["Value"] == "large"
    outs = _outputs(cfn, name)
    assert outs["Derived"] == f"/{name}/env|large|us-east-1"
    assert ssm.get_parameter(Name=outs["ProdOnly"])["Parameter"]["Value"] == "prod"
    with pytest.raises(ClientError) as err:
        cfn.update_stack(
            StackName=name,
            UsePreviousTemplate=True,
            Capabilities=["CAPABILITY_IAM"],
            Parameters=[
                {"ParameterKey": "Env", "UsePreviousValue": True},
                {"ParameterKey": "Secret", "UsePreviousValue": True},
            ],
        )
    assert err.value.response["Error"]["Message"] == "No updates are to be performed."

    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    assert events[0]["ResourceStatus"] == "UPDATE_COMPLETE"
    assert events[-1]["ResourceStatus"] == "CREATE_IN_PROGRESS"
    assert events[-1]["ResourceStatusReason"] == "User Initiated"

    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    with pytest.raises(ClientError):
        ssm.get_parameter(Name=f"/{name}/env")
    with pytest.raises(ClientError):
        iam.get_role(RoleName=role_name)
    deleted = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
    assert deleted["StackStatus"] == "DELETE_COMPLETE"
    summaries = [s for s in cfn.list_stacks()["StackSummaries"] if s["StackId"] == stack_id]
    assert summaries[0]["StackStatus"] == "DELETE_COMPLETE"


def test_missing_stack_message(client: Callable[..., Any]) -> None:
    cfn = client("cloudformation")
    with pytest.raises(ClientError) as err:
        cfn.describe_stacks(StackName="no-such-stack")
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert err.value.response["Error"]["Message"] == "Stack with id no-such-stack does not exist"


VALIDATION_CASES = [
    (
        "missing parameter",
        "Parameters: {P: {Type: String}}\nResources: {A: {Type: AWS::SSM::Parameter, Properties: {Type: String, Value: !Ref P}}}",
        "Parameters: [P] must have values",
    ),
    (
        "unresolved ref",
        "Resources: {A: {Type: AWS::SSM::Parameter, Properties: {Type: String, Value: !Ref Nope}}}",
        "Unresolved resource dependencies [Nope]",
    ),
    (
        "cycle",
        "Resources: {A: {Type: AWS::SSM::Parameter, Properties: {Type: String, Value: !Ref B}}, B: {Type: AWS::SSM::Parameter, Properties: {Type: String, Value: !Ref A}}}",
        "Circular dependency between resources",
    ),
    ("bad yaml", "Resources: [", "Template format error"),
]


@pytest.mark.parametrize(
    ("name", "body", "message"), VALIDATION_CASES, ids=[c[0] for c in VALIDATION_CASES]
)
def test_create_stack_validation(
    client: Callable[..., Any], name: str, body: str, message: str
) -> None:
    cfn = client("cloudformation")
    with pytest.raises(ClientError) as err:
        cfn.create_stack(StackName=_name(), TemplateBody=body)
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert message in err.value.response["Error"]["Message"]


def test_capabilities_required(client: Callable[..., Any]) -> None:
    cfn = client("cloudformation")
    with pytest.raises(ClientError) as err:
        cfn.create_stack(StackName=_name(), TemplateBody=TEMPLATE)
    assert err.value.response["Error"]["Code"] == "InsufficientCapabilitiesException"
    assert err.value.response["Error"]["Message"] == "Requires capabilities : [CAPABILITY_IAM]"


def test_failure_rolls_back_with_reason(client: Callable[..., Any]) -> None:
    cfn, ssm = client("cloudformation"), client("ssm")
    name = _name()
    body = f"""
Resources:
  Good:
    Type: AWS::SSM::Parameter
    Properties: {{Name: /{name}/good, Type: String, Value: ok}}
  Bad:
    Type: AWS::SSM::Parameter
    DependsOn: Good
    Properties: {{Name: /{name}/bad, Type: String, Value: x, AllowedPattern: "^[0-9]+$"}}
  Later:
    Type: AWS::Made::Up
    DependsOn: Bad
"""
    cfn.create_stack(StackName=name, TemplateBody=body)
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed[0]["LogicalResourceId"] == "Bad"
    assert "ParameterPatternMismatchException" in failed[0]["ResourceStatusReason"]
    rollback = next(e for e in events if e["ResourceStatus"] == "ROLLBACK_IN_PROGRESS")
    assert rollback["ResourceStatusReason"].startswith(
        "The following resource(s) failed to create: [Bad]."
    )
    with pytest.raises(ClientError):
        ssm.get_parameter(Name=f"/{name}/good")


def test_unsupported_type_fails_honestly(client: Callable[..., Any]) -> None:
    cfn = client("cloudformation")
    name = _name()
    cfn.create_stack(
        StackName=name, TemplateBody="Resources: {Q: {Type: AWS::Made::Up}}", DisableRollback=True
    )
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_FAILED"
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    failed = [
        e
        for e in events
        if e["ResourceStatus"] == "CREATE_FAILED" and e["LogicalResourceId"] == "Q"
    ]
    assert failed[0]["ResourceStatusReason"] == "Unsupported resource type: AWS::Made::Up"
    cfn.delete_stack(StackName=name)


def test_change_sets(client: Callable[..., Any]) -> None:
    cfn, ssm = client("cloudformation"), client("ssm")
    name = _name()
    body = f"Resources: {{P: {{Type: AWS::SSM::Parameter, Properties: {{Name: /{name}/p, Type: String, Value: v1}}}}}}"
    cs = cfn.create_change_set(
        StackName=name, ChangeSetName="first", ChangeSetType="CREATE", TemplateBody=body
    )
    cfn.get_waiter("change_set_create_complete").wait(
        ChangeSetName=cs["Id"], WaiterConfig={"Delay": 1}
    )
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "REVIEW_IN_PROGRESS"
    desc = cfn.describe_change_set(ChangeSetName="first", StackName=name)
    assert desc["ExecutionStatus"] == "AVAILABLE"
    change = desc["Changes"][0]["ResourceChange"]
    assert (change["Action"], change["LogicalResourceId"], change["ResourceType"]) == (
        "Add",
        "P",
        "AWS::SSM::Parameter",
    )
    assert [s["ChangeSetName"] for s in cfn.list_change_sets(StackName=name)["Summaries"]] == [
        "first"
    ]
    cfn.execute_change_set(ChangeSetName=cs["Id"])
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    assert ssm.get_parameter(Name=f"/{name}/p")["Parameter"]["Value"] == "v1"

    # an update change set with property details
    cs2 = cfn.create_change_set(
        StackName=name, ChangeSetName="second", TemplateBody=body.replace("v1", "v2")
    )
    desc = cfn.describe_change_set(ChangeSetName=cs2["Id"])
    change = desc["Changes"][0]["ResourceChange"]
    assert change["Action"] == "Modify" and change["Replacement"] == "False"
    assert change["PhysicalResourceId"] == f"/{name}/p"
    assert change["Details"][0]["Target"]["Name"] == "Value"
    # a change set with no changes fails with AWS's reason
    cs3 = cfn.create_change_set(StackName=name, ChangeSetName="third", TemplateBody=body)
    with pytest.raises(WaiterError):
        cfn.get_waiter("change_set_create_complete").wait(
            ChangeSetName=cs3["Id"], WaiterConfig={"Delay": 1}
        )
    desc3 = cfn.describe_change_set(ChangeSetName=cs3["Id"])
    assert desc3["Status"] == "FAILED"
    assert "The submitted information didn't contain changes." in desc3["StatusReason"]
    cfn.delete_change_set(ChangeSetName=cs3["Id"])
    with pytest.raises(ClientError) as err:
        cfn.describe_change_set(ChangeSetName=cs3["Id"])
    assert err.value.response["Error"]["Code"] == "ChangeSetNotFound"
    cfn.execute_change_set(ChangeSetName="second", StackName=name)
    cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    assert ssm.get_parameter(Name=f"/{name}/p")["Parameter"]["Value"] == "v2"
    cfn.delete_stack(StackName=name)


def test_templates_from_s3_url_forms(client: Callable[..., Any], server: Any) -> None:
    cfn, s3 = client("cloudformation"), client("s3")
    bucket = f"tpl-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    body = json.dumps(
        {
            "Resources": {
                "P": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": "x"}}
            }
        }
    )
    s3.put_object(Bucket=bucket, Key="t/template.json", Body=body.encode())
    for url in (
        f"{server.url}/{bucket}/t/template.json",
        f"https://s3.amazonaws.com/{bucket}/t/template.json",
        f"https://s3.us-east-1.amazonaws.com/{bucket}/t/template.json",
        f"https://{bucket}.s3.amazonaws.com/t/template.json",
    ):
        summary = cfn.get_template_summary(TemplateURL=url)
        assert summary["ResourceTypes"] == ["AWS::SSM::Parameter"], url
    name = _name()
    cfn.create_stack(
        StackName=name, TemplateURL=f"https://{bucket}.s3.amazonaws.com/t/template.json"
    )
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    original = cfn.get_template(StackName=name)["TemplateBody"]
    assert original["Resources"]["P"]["Type"] == "AWS::SSM::Parameter"
    with pytest.raises(ClientError) as err:
        cfn.get_template_summary(TemplateURL=f"{server.url}/{bucket}/missing.json")
    assert err.value.response["Error"]["Code"] == "ValidationError"
    cfn.delete_stack(StackName=name)


def test_validate_template_and_summary(client: Callable[..., Any]) -> None:
    cfn = client("cloudformation")
    out = cfn.validate_template(TemplateBody=TEMPLATE)
    assert [p["ParameterKey"] for p in out["Parameters"]] == ["Env", "Secret"]
    assert out["Parameters"][1]["NoEcho"] is True
    assert out["Capabilities"] == ["CAPABILITY_IAM"]
    summary = cfn.get_template_summary(TemplateBody=TEMPLATE)
    assert summary["Parameters"][0]["ParameterConstraints"] == {"AllowedValues": ["dev", "prod"]}
    assert summary["ResourceTypes"] == ["AWS::IAM::Role", "AWS::SSM::Parameter"]
    with pytest.raises(ClientError):
        cfn.validate_template(TemplateBody="Resources: {}")


def test_exports_imports_and_protection(client: Callable[..., Any]) -> None:
    cfn = client("cloudformation")
    producer, consumer = _name(), _name()
    cfn.create_stack(
        StackName=producer,
        TemplateBody=f"""
Resources:
  P: {{Type: AWS::SSM::Parameter, Properties: {{Type: String, Value: shared}}}}
Outputs:
  Out: {{Value: !GetAtt P.Value, Export: {{Name: {producer}-out}}}}
""",
    )
    cfn.create_stack(
        StackName=consumer,
        TemplateBody=f"""
Resources:
  C: {{Type: AWS::SSM::Parameter, Properties: {{Type: String, Value: !ImportValue {producer}-out}}}}
Outputs:
  Got: {{Value: !GetAtt C.Value}}
""",
    )
    assert _outputs(cfn, consumer) == {"Got": "shared"}
    assert cfn.list_imports(ExportName=f"{producer}-out")["Imports"] == [consumer]
    with pytest.raises(ClientError) as err:
        cfn.delete_stack(StackName=producer)
    assert "cannot be deleted as it is in use by" in err.value.response["Error"]["Message"]
    cfn.delete_stack(StackName=consumer)
    cfn.delete_stack(StackName=producer)
    assert cfn.describe_stacks(StackName=cfn.list_stacks()["StackSummaries"][0]["StackId"])


def test_replacement_and_retain_policies(client: Callable[..., Any]) -> None:
    cfn, ssm = client("cloudformation"), client("ssm")
    name = _name()

    def body(pname: str, policy: str = "Delete") -> str:
        return f"""
Resources:
  P:
    Type: AWS::SSM::Parameter
    UpdateReplacePolicy: {policy}
    DeletionPolicy: {policy}
    Properties: {{Name: /{name}/{pname}, Type: String, Value: v}}
"""

    cfn.create_stack(StackName=name, TemplateBody=body("a"))
    cfn.update_stack(StackName=name, TemplateBody=body("b"))
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    reasons = [e.get("ResourceStatusReason", "") for e in events]
    assert any("requires the creation of a new physical resource" in r for r in reasons)
    assert ssm.get_parameter(Name=f"/{name}/b")["Parameter"]["Value"] == "v"
    with pytest.raises(ClientError):
        ssm.get_parameter(Name=f"/{name}/a")
    cfn.update_stack(StackName=name, TemplateBody=body("c", "Retain"))
    cfn.delete_stack(StackName=name)
    assert ssm.get_parameter(Name=f"/{name}/c")["Parameter"]["Value"] == "v"  # retained


def test_aws_cli_deploy_and_describe(aws: Callable[..., Any], tmp_path: Any) -> None:
    name = _name()
    path = tmp_path / "t.yaml"
    path.write_text(
        f"Resources: {{P: {{Type: AWS::SSM::Parameter, Properties: {{Name: /{name}, Type: String, Value: cli}}}}}}"
    )
    out = aws("cloudformation", "deploy", "--template-file", str(path), "--stack-name", name)
    assert "Successfully created/updated stack" in out.stdout
    again = aws(
        "cloudformation", "deploy", "--template-file", str(path), "--stack-name", name, check=False
    )
    assert "No changes to deploy" in again.stdout + again.stderr
    got = aws("ssm", "get-parameter", "--name", f"/{name}")
    assert json.loads(got.stdout)["Parameter"]["Value"] == "cli"
    aws("cloudformation", "delete-stack", "--stack-name", name)
    aws("cloudformation", "wait", "stack-delete-complete", "--stack-name", name)


def test_on_failure_delete_and_cdk_metadata(client: Callable[..., Any]) -> None:
    cfn = client("cloudformation")
    name = _name()
    body = """
Resources:
  CDKMetadata:
    Type: AWS::CDK::Metadata
    Properties: {Analytics: "v2:deflate64:abc"}
  Broken:
    Type: AWS::SSM::Parameter
    DependsOn: CDKMetadata
    Properties: {Type: String, Value: x, AllowedPattern: "^y$"}
"""
    stack_id = cfn.create_stack(StackName=name, TemplateBody=body, OnFailure="DELETE")["StackId"]
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack_id, WaiterConfig={"Delay": 1})
    statuses = [
        e["ResourceStatus"]
        for e in cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
        if e["LogicalResourceId"] == name
    ]
    assert statuses[:3] == ["DELETE_COMPLETE", "DELETE_IN_PROGRESS", "ROLLBACK_COMPLETE"]
    events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
    cdk = [e["ResourceStatus"] for e in events if e["LogicalResourceId"] == "CDKMetadata"]
    assert "CREATE_COMPLETE" in cdk
    with pytest.raises(ClientError):
        cfn.describe_stacks(StackName=name)


def test_update_failure_rolls_back(client: Callable[..., Any]) -> None:
    cfn, ssm = client("cloudformation"), client("ssm")
    name = _name()
    good = f"""
Resources:
  Keep: {{Type: AWS::SSM::Parameter, Properties: {{Name: /{name}/keep, Type: String, Value: v1}}}}
Outputs:
  V: {{Value: !GetAtt Keep.Value}}
"""
    cfn.create_stack(StackName=name, TemplateBody=good)
    bad = good.replace("v1", "v2")
    bad = bad.replace(
        "Outputs:",
        f"""  New:
    Type: AWS::SSM::Parameter
    DependsOn: Keep
    Properties: {{Name: /{name}/new, Type: String, Value: x, AllowedPattern: "^y$"}}
Outputs:""",
    )
    cfn.update_stack(StackName=name, TemplateBody=bad)
    with pytest.raises(WaiterError):
        cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert ssm.get_parameter(Name=f"/{name}/keep")["Parameter"]["Value"] == "v1"
    assert _outputs(cfn, name) == {"V": "v1"}
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    rollback = next(e for e in events if e["ResourceStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS")
    assert rollback["ResourceStatusReason"].startswith(
        "The following resource(s) failed to update: [New]"
    )
    assert "v1" in cfn.get_template(StackName=name)["TemplateBody"]
    cfn.delete_stack(StackName=name)


def test_ssm_typed_and_list_parameters(client: Callable[..., Any]) -> None:
    cfn, ssm = client("cloudformation"), client("ssm")
    name = _name()
    ssm.put_parameter(Name=f"/{name}/ami", Value="ami-123", Type="String")
    body = f"""
Parameters:
  Ami: {{Type: "AWS::SSM::Parameter::Value<String>", Default: /{name}/ami}}
  Zones: {{Type: CommaDelimitedList, Default: "a,b,c"}}
  Ports: {{Type: "List<Number>", Default: "80,443"}}
Resources:
  P:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: !Join ["/", [!Ref Ami, !Select [1, !Ref Zones], !Select [1, !Ref Ports]]]
Outputs:
  V: {{Value: !GetAtt P.Value}}
  Zones: {{Value: !Join [",", !Ref Zones]}}
"""
    cfn.create_stack(StackName=name, TemplateBody=body)
    assert _outputs(cfn, name) == {"V": "ami-123/b/443", "Zones": "a,b,c"}
    params = cfn.describe_stacks(StackName=name)["Stacks"][0]["Parameters"]
    ami = next(p for p in params if p["ParameterKey"] == "Ami")
    assert ami["ParameterValue"] == f"/{name}/ami"
    assert ami["ResolvedValue"] == "ami-123"
    cfn.delete_stack(StackName=name)


CHILD = """
Parameters:
  Word: {Type: String}
Resources:
  P: {Type: AWS::SSM::Parameter, Properties: {Type: String, Value: !Ref Word}}
Outputs:
  Value: {Value: !GetAtt P.Value}
"""


def test_nested_stacks(client: Callable[..., Any], server: Any) -> None:
    cfn, s3 = client("cloudformation"), client("s3")
    bucket = f"nested-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="child.yaml", Body=CHILD.encode())
    name = _name()
    body = f"""
Parameters:
  Word: {{Type: String, Default: one}}
Resources:
  Child:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: https://{bucket}.s3.amazonaws.com/child.yaml
      Parameters: {{Word: !Ref Word}}
Outputs:
  FromChild: {{Value: !GetAtt Child.Outputs.Value}}
"""
    cfn.create_stack(StackName=name, TemplateBody=body)
    assert _outputs(cfn, name) == {"FromChild": "one"}
    child_id = cfn.describe_stack_resource(StackName=name, LogicalResourceId="Child")[
        "StackResourceDetail"
    ]["PhysicalResourceId"]
    assert cfn.describe_stacks(StackName=child_id)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    cfn.update_stack(
        StackName=name,
        TemplateBody=body,
        Parameters=[{"ParameterKey": "Word", "ParameterValue": "two"}],
    )
    assert _outputs(cfn, name) == {"FromChild": "two"}
    assert cfn.describe_stacks(StackName=child_id)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    assert cfn.describe_stacks(StackName=child_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"


def test_dynamic_references(client: Callable[..., Any]) -> None:
    cfn, ssm = client("cloudformation"), client("ssm")
    name = _name()
    ssm.put_parameter(Name=f"/{name}/db", Value="v1", Type="String")
    ssm.put_parameter(Name=f"/{name}/db", Value="v2", Type="String", Overwrite=True)
    ssm.put_parameter(Name=f"/{name}/pw", Value="s3cret", Type="SecureString")
    body = f"""
Resources:
  P:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: "{{{{resolve:ssm:/{name}/db}}}}+{{{{resolve:ssm:/{name}/db:1}}}}+{{{{resolve:ssm-secure:/{name}/pw}}}}"
Outputs:
  V: {{Value: !GetAtt P.Value}}
"""
    cfn.create_stack(StackName=name, TemplateBody=body)
    assert _outputs(cfn, name) == {"V": "v2+v1+s3cret"}
    cfn.delete_stack(StackName=name)
    missing = _name()
    cfn.create_stack(StackName=missing, TemplateBody=body.replace(f"/{name}/db}}}}+", "/nope}}+"))
    stack = cfn.describe_stacks(StackName=missing)["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName=missing)["StackEvents"]
    failed = next(e for e in events if e["ResourceStatus"] == "CREATE_FAILED")
    assert (
        "Unable to resolve dynamic reference {{resolve:ssm:/nope}}"
        in failed["ResourceStatusReason"]
    )


def test_executed_change_set_name_can_be_used_again(client: Callable[..., Any]) -> None:
    # The aws CLI names change sets after the current second; here a deploy finishes within one.
    cfn, ssm = client("cloudformation"), client("ssm")
    name = _name()
    body = f"Resources: {{P: {{Type: AWS::SSM::Parameter, Properties: {{Name: /{name}/p, Type: String, Value: v1}}}}}}"
    for kind, value in (("CREATE", "v1"), ("UPDATE", "v2")):
        cs = cfn.create_change_set(
            StackName=name,
            ChangeSetName="same-second",
            ChangeSetType=kind,
            TemplateBody=body.replace("v1", value),
        )
        cfn.get_waiter("change_set_create_complete").wait(
            ChangeSetName=cs["Id"], WaiterConfig={"Delay": 1}
        )
        cfn.execute_change_set(ChangeSetName=cs["Id"])
        waiter = "stack_create_complete" if kind == "CREATE" else "stack_update_complete"
        cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig={"Delay": 1})
        assert ssm.get_parameter(Name=f"/{name}/p")["Parameter"]["Value"] == value
    # One not yet executed still holds its name.
    cfn.create_change_set(
        StackName=name, ChangeSetName="pending", TemplateBody=body.replace("v1", "v3")
    )
    with pytest.raises(ClientError) as err:
        cfn.create_change_set(
            StackName=name, ChangeSetName="pending", TemplateBody=body.replace("v1", "v4")
        )
    assert err.value.response["Error"]["Code"] == "AlreadyExistsException"
    cfn.delete_stack(StackName=name)
