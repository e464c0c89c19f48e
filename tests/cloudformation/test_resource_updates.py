"""In-place updates of resources through their own services: what changed is changed, and
nothing is replaced."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.slow

BASE = """
Parameters:
  Stage: {Type: String, Default: one}
Conditions:
  Two: !Equals [!Ref Stage, two]
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
      ManagedPolicyArns: !If
        - Two
        - [arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess]
        - [arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]
      Policies:
        - PolicyName: !If [Two, second, first]
          PolicyDocument: {Version: '2012-10-17', Statement: [{Effect: Allow, Action: 's3:*', Resource: '*'}]}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: !If
        - Two
        - [{AttributeName: pk, AttributeType: S}, {AttributeName: gk, AttributeType: S}]
        - [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      GlobalSecondaryIndexes: !If
        - Two
        - [{IndexName: byG, KeySchema: [{AttributeName: gk, KeyType: HASH}], Projection: {ProjectionType: KEYS_ONLY}}]
        - !Ref AWS::NoValue
      StreamSpecification: !If [Two, {StreamViewType: NEW_AND_OLD_IMAGES}, !Ref AWS::NoValue]
      TimeToLiveSpecification: !If [Two, {AttributeName: ttl, Enabled: true}, !Ref AWS::NoValue]
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      CorsConfiguration: !If
        - Two
        - CorsRules: [{AllowedMethods: [GET], AllowedOrigins: ['*'], MaxAge: 60}]
        - !Ref AWS::NoValue
      Tags: [{Key: stage, Value: !Ref Stage}]
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: !If [Two, 14, 7]
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.11
      Handler: index.handler
      Role: !GetAtt Role.Arn
      MemorySize: !If [Two, 256, 128]
      Code:
        ZipFile: |
          def handler(event, context):
              return "ok"
  Version1:
    Type: AWS::Lambda::Version
    Properties: {FunctionName: !Ref Fn}
  Alias:
    Type: AWS::Lambda::Alias
    Properties:
      FunctionName: !Ref Fn
      FunctionVersion: !GetAtt Version1.Version
      Name: live
      Description: !Sub "stage ${Stage}"
  Http:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: !Sub "http-${Stage}", ProtocolType: HTTP}
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Http, RouteKey: !Sub "GET /${Stage}"}
  Param:
    Type: AWS::SSM::Parameter
    Properties: {Type: String, Value: !Ref Stage}
Outputs:
  Fn: {Value: !Ref Fn}
  Table: {Value: !Ref Table}
  Bucket: {Value: !Ref Bucket}
  Logs: {Value: !Ref Logs}
  Role: {Value: !Ref Role}
  Http: {Value: !Ref Http}
"""


def test_updates_in_place(client: Callable[..., Any]) -> None:
    cfn = client("cloudformation")
    name = f"upd-{uuid.uuid4().hex[:6]}"
    cfn.create_stack(StackName=name, TemplateBody=BASE, Capabilities=["CAPABILITY_IAM"])
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    before = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
    }
    out = {
        o["OutputKey"]: o["OutputValue"]
        for o in cfn.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
    }

    cfn.update_stack(
        StackName=name,
        UsePreviousTemplate=True,
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": "Stage", "ParameterValue": "two"}],
    )
    cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    if stack["StackStatus"] != "UPDATE_COMPLETE":
        failed = [
            e
            for e in cfn.describe_stack_events(StackName=name)["StackEvents"]
            if e["ResourceStatus"].endswith("FAILED")
        ]
        pytest.fail(f"{stack['StackStatus']}: {failed}")
    after = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
    }
    assert after == before  # nothing replaced

    iam = client("iam")
    attached = iam.list_attached_role_policies(RoleName=out["Role"])["AttachedPolicies"]
    assert [a["PolicyName"] for a in attached] == ["AWSLambda_ReadOnlyAccess"]
    assert iam.list_role_policies(RoleName=out["Role"])["PolicyNames"] == ["second"]

    ddb = client("dynamodb")
    table = ddb.describe_table(TableName=out["Table"])["Table"]
    assert [g["IndexName"] for g in table["GlobalSecondaryIndexes"]] == ["byG"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    ttl = ddb.describe_time_to_live(TableName=out["Table"])["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "ttl"

    s3 = client("s3")
    assert s3.get_bucket_cors(Bucket=out["Bucket"])["CORSRules"][0]["MaxAgeSeconds"] == 60
    tags = s3.get_bucket_tagging(Bucket=out["Bucket"])["TagSet"]
    assert {"Key": "stage", "Value": "two"} in tags

    logs = client("logs")
    group = logs.describe_log_groups(logGroupNamePrefix=out["Logs"])["logGroups"][0]
    assert group["retentionInDays"] == 14

    lam = client("lambda")
    assert lam.get_function_configuration(FunctionName=out["Fn"])["MemorySize"] == 256
    assert lam.get_alias(FunctionName=out["Fn"], Name="live")["Description"] == "stage two"

    v2 = client("apigatewayv2")
    assert v2.get_api(ApiId=out["Http"])["Name"] == "http-two"
    assert [r["RouteKey"] for r in v2.get_routes(ApiId=out["Http"])["Items"]] == ["GET /two"]

    # and back: removed settings are removed
    cfn.update_stack(
        StackName=name,
        UsePreviousTemplate=True,
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": "Stage", "ParameterValue": "one"}],
    )
    cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    table = ddb.describe_table(TableName=out["Table"])["Table"]
    assert not table.get("GlobalSecondaryIndexes")
    assert lam.get_function_configuration(FunctionName=out["Fn"])["MemorySize"] == 128
    assert iam.list_role_policies(RoleName=out["Role"])["PolicyNames"] == ["first"]
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
