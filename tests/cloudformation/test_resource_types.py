"""Every supported resource type, created, read back through its own service, updated and
deleted by CloudFormation; Ref and GetAtt values as AWS returns them."""

from __future__ import annotations

import io
import json
import urllib.request
import uuid
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.slow

FUNCTION_CODE = """
import json
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"path": event.get("rawPath") or event.get("path")})}
"""

TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  LayerBucket: {Type: String}
  Greeting: {Type: String, Default: hi}
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
  Managed:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Roles: [!Ref Role]
      PolicyDocument: {Version: '2012-10-17', Statement: [{Effect: Allow, Action: 'logs:*', Resource: '*'}]}
  Inline:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: inline
      Roles: [!Ref Role]
      PolicyDocument: {Version: '2012-10-17', Statement: [{Effect: Allow, Action: 's3:*', Resource: '*'}]}
  Layer:
    Type: AWS::Lambda::LayerVersion
    Properties:
      Content: {S3Bucket: !Ref LayerBucket, S3Key: layer.zip}
      CompatibleRuntimes: [python3.11]
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.11
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Layers: [!Ref Layer]
      Environment: {Variables: {GREETING: !Ref Greeting}}
      Code:
        ZipFile: |
FUNCTION_CODE_HERE
  Version:
    Type: AWS::Lambda::Version
    Properties: {FunctionName: !Ref Fn}
  Alias:
    Type: AWS::Lambda::Alias
    Properties: {FunctionName: !Ref Fn, FunctionVersion: !GetAtt Version.Version, Name: live}
  FnUrl:
    Type: AWS::Lambda::Url
    Properties: {TargetFunctionArn: !GetAtt Fn.Arn, AuthType: NONE}
  UrlPermission:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Fn
      Action: lambda:InvokeFunctionUrl
      Principal: '*'
      FunctionUrlAuthType: NONE
  InvokeConfig:
    Type: AWS::Lambda::EventInvokeConfig
    Properties: {FunctionName: !Ref Fn, Qualifier: $LATEST, MaximumRetryAttempts: 1}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: gk, AttributeType: S}
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      GlobalSecondaryIndexes:
        - IndexName: byG
          KeySchema: [{AttributeName: gk, KeyType: HASH}]
          Projection: {ProjectionType: ALL}
      BillingMode: PAY_PER_REQUEST
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration: {Status: Enabled}
      Tags: [{Key: team, Value: cfn}]
  BucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Version: '2012-10-17'
        Statement: [{Effect: Allow, Principal: '*', Action: 's3:GetObject', Resource: !Sub '${Bucket.Arn}/*'}]
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {RetentionInDays: 7}
  Rest:
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: rest}
  Items:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: !Ref Rest, ParentId: !GetAtt Rest.RootResourceId, PathPart: items}
  Validator:
    Type: AWS::ApiGateway::RequestValidator
    Properties: {RestApiId: !Ref Rest, ValidateRequestBody: true, ValidateRequestParameters: false}
  ItemModel:
    Type: AWS::ApiGateway::Model
    Properties:
      RestApiId: !Ref Rest
      ContentType: application/json
      Name: Item
      Schema: {type: object, required: [name], properties: {name: {type: string}}}
  Get:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Rest
      ResourceId: !Ref Items
      HttpMethod: GET
      AuthorizationType: NONE
      ApiKeyRequired: true
      Integration:
        Type: AWS_PROXY
        IntegrationHttpMethod: POST
        Uri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"
  RestPermission:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Fn
      Action: lambda:InvokeFunction
      Principal: apigateway.amazonaws.com
      SourceArn: !Sub "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Rest}/*"
  Missing:
    Type: AWS::ApiGateway::GatewayResponse
    Properties:
      RestApiId: !Ref Rest
      ResponseType: MISSING_AUTHENTICATION_TOKEN
      StatusCode: '404'
      ResponseTemplates: {application/json: '{"message": "no such route"}'}
  Deployment:
    Type: AWS::ApiGateway::Deployment
    DependsOn: [Get, Missing]
    Properties: {RestApiId: !Ref Rest}
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties: {RestApiId: !Ref Rest, DeploymentId: !Ref Deployment, StageName: v1, Variables: {a: b}}
  Key:
    Type: AWS::ApiGateway::ApiKey
    DependsOn: Stage
    Properties: {Enabled: true, Value: abcdefghijklmnopqrstuvwxyz0123456789}
  Plan:
    Type: AWS::ApiGateway::UsagePlan
    DependsOn: Stage
    Properties:
      ApiStages: [{ApiId: !Ref Rest, Stage: v1}]
      Throttle: {BurstLimit: 10, RateLimit: 5}
  PlanKey:
    Type: AWS::ApiGateway::UsagePlanKey
    Properties: {KeyId: !Ref Key, KeyType: API_KEY, UsagePlanId: !Ref Plan}
  Http:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: http, ProtocolType: HTTP}
  HttpIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Http
      IntegrationType: AWS_PROXY
      IntegrationUri: !GetAtt Fn.Arn
      PayloadFormatVersion: '2.0'
  HttpRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Http, RouteKey: 'GET /hello', Target: !Sub 'integrations/${HttpIntegration}'}
  HttpStage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Http, StageName: $default, AutoDeploy: true}
  HttpAuth:
    Type: AWS::ApiGatewayV2::Authorizer
    Properties:
      ApiId: !Ref Http
      AuthorizerType: JWT
      Name: jwt
      IdentitySource: [$request.header.Authorization]
      JwtConfiguration: {Audience: [a], Issuer: 'https://issuer.example.com'}
  HttpPermission:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Fn
      Action: lambda:InvokeFunction
      Principal: apigateway.amazonaws.com
Outputs:
  FnArn: {Value: !GetAtt Fn.Arn}
  VersionArn: {Value: !Ref Version}
  AliasArn: {Value: !Ref Alias}
  Url: {Value: !GetAtt FnUrl.FunctionUrl}
  LayerArn: {Value: !Ref Layer}
  TableName: {Value: !Ref Table}
  StreamArn: {Value: !GetAtt Table.StreamArn}
  BucketName: {Value: !Ref Bucket}
  BucketDomain: {Value: !GetAtt Bucket.RegionalDomainName}
  LogGroup: {Value: !Ref Logs}
  LogGroupArn: {Value: !GetAtt Logs.Arn}
  RestId: {Value: !Ref Rest}
  Root: {Value: !GetAtt Rest.RootResourceId}
  RestUrl: {Value: !Sub "https://${Rest}.execute-api.${AWS::Region}.amazonaws.com/v1/items"}
  HttpEndpoint: {Value: !GetAtt Http.ApiEndpoint}
  KeyId: {Value: !Ref Key}
  ManagedArn: {Value: !Ref Managed}
"""


def _layer_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("python/greeting_lib.py", "WORD = 'layered'\n")
    return buf.getvalue()


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_every_resource_type(client: Callable[..., Any]) -> None:
    cfn, s3 = client("cloudformation"), client("s3")
    layer_bucket = f"layers-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=layer_bucket)
    s3.put_object(Bucket=layer_bucket, Key="layer.zip", Body=_layer_zip())
    code = "\n".join("          " + line for line in FUNCTION_CODE.strip().splitlines())
    body = TEMPLATE.replace("FUNCTION_CODE_HERE", code)
    name = f"types-{uuid.uuid4().hex[:6]}"
    params = [{"ParameterKey": "LayerBucket", "ParameterValue": layer_bucket}]
    cfn.create_stack(
        StackName=name, TemplateBody=body, Parameters=params, Capabilities=["CAPABILITY_IAM"]
    )
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        failed = [
            e
            for e in cfn.describe_stack_events(StackName=name)["StackEvents"]
            if e["ResourceStatus"].endswith("FAILED")
        ]
        pytest.fail(f"{stack['StackStatus']}: {failed}")
    out = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}

    lam = client("lambda")
    fn_name = out["FnArn"].rsplit(":", 1)[1]
    fn = lam.get_function(FunctionName=fn_name)["Configuration"]
    assert fn["Environment"]["Variables"] == {"GREETING": "hi"}
    assert fn["Layers"][0]["Arn"] == out["LayerArn"]
    assert out["VersionArn"] == f"{out['FnArn']}:1"
    assert out["AliasArn"] == f"{out['FnArn']}:live"
    assert lam.get_alias(FunctionName=fn_name, Name="live")["FunctionVersion"] == "1"
    config = lam.get_function_event_invoke_config(FunctionName=fn_name)
    assert config["MaximumRetryAttempts"] == 1
    status, text = _get(out["Url"] + "fn-url")
    assert status == 200 and json.loads(text)["path"] == "/fn-url"

    ddb = client("dynamodb")
    table = ddb.describe_table(TableName=out["TableName"])["Table"]
    assert table["LatestStreamArn"] == out["StreamArn"]
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "byG"

    assert s3.get_bucket_versioning(Bucket=out["BucketName"])["Status"] == "Enabled"
    policy = json.loads(s3.get_bucket_policy(Bucket=out["BucketName"])["Policy"])
    assert policy["Statement"][0]["Resource"] == f"arn:aws:s3:::{out['BucketName']}/*"
    assert out["BucketDomain"] == f"{out['BucketName']}.s3.us-east-1.amazonaws.com"

    logs = client("logs")
    groups = logs.describe_log_groups(logGroupNamePrefix=out["LogGroup"])["logGroups"]
    assert groups[0]["retentionInDays"] == 7
    assert (
        out["LogGroupArn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{out['LogGroup']}:*"
    )

    apigw = client("apigateway")
    resources = apigw.get_resources(restApiId=out["RestId"])["items"]
    assert {r["path"] for r in resources} == {"/", "/items"}
    assert next(r for r in resources if r["path"] == "/")["id"] == out["Root"]
    assert apigw.get_stage(restApiId=out["RestId"], stageName="v1")["variables"] == {"a": "b"}
    assert (
        apigw.get_model(restApiId=out["RestId"], modelName="Item")["contentType"]
        == "application/json"
    )
    assert out["RestUrl"].endswith(f"/_aws/execute-api/{out['RestId']}/v1/items")
    status, _ = _get(out["RestUrl"])
    assert status == 403  # the method requires an API key
    status, text = _get(out["RestUrl"], {"x-api-key": "abcdefghijklmnopqrstuvwxyz0123456789"})
    assert status == 200 and json.loads(text)["path"] == "/items"

    v2 = client("apigatewayv2")
    http_id = out["HttpEndpoint"]
    apis = {a["ApiId"]: a for a in v2.get_apis()["Items"]}
    api_id = next(k for k, a in apis.items() if a["ApiEndpoint"] == http_id)
    assert [r["RouteKey"] for r in v2.get_routes(ApiId=api_id)["Items"]] == ["GET /hello"]
    assert v2.get_authorizers(ApiId=api_id)["Items"][0]["Name"] == "jwt"

    iam = client("iam")
    role = next(
        r
        for r in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
        if r["LogicalResourceId"] == "Role"
    )["PhysicalResourceId"]
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert attached[0]["PolicyArn"] == out["ManagedArn"]
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["inline"]

    # an update that changes a function's environment in place
    cfn.update_stack(
        StackName=name,
        TemplateBody=body,
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[*params, {"ParameterKey": "Greeting", "ParameterValue": "hey"}],
    )
    cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    fn = lam.get_function(FunctionName=fn_name)["Configuration"]
    assert fn["Environment"]["Variables"] == {"GREETING": "hey"}

    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    with pytest.raises(ClientError):
        lam.get_function(FunctionName=fn_name)
    with pytest.raises(ClientError):
        ddb.describe_table(TableName=out["TableName"])
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=out["BucketName"])
    with pytest.raises(ClientError):
        apigw.get_rest_api(restApiId=out["RestId"])
    with pytest.raises(ClientError):
        v2.get_api(ApiId=api_id)
    with pytest.raises(ClientError):
        iam.get_role(RoleName=role)
    assert not logs.describe_log_groups(logGroupNamePrefix=out["LogGroup"])["logGroups"]


HTTP_SAM = """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function: {Runtime: python3.11, Timeout: 5}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      InlineCode: |
INLINE
      Events:
        Get:
          Type: HttpApi
          Properties: {Path: /hi, Method: get}
Outputs:
  Url:
    Value: !Sub "https://${ServerlessHttpApi}.execute-api.${AWS::Region}.amazonaws.com/hi"
"""


def test_sam_http_api(client: Callable[..., Any]) -> None:
    cfn = client("cloudformation")
    code = "\n".join("        " + line for line in FUNCTION_CODE.strip().splitlines())
    name = f"samhttp-{uuid.uuid4().hex[:6]}"
    cfn.create_stack(
        StackName=name,
        TemplateBody=HTTP_SAM.replace("INLINE", code),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", cfn.describe_stack_events(StackName=name)
    url = stack["Outputs"][0]["OutputValue"]
    status, text = _get(url)
    assert status == 200, text
    assert json.loads(text)["path"] == "/hi"
    processed = cfn.get_template(StackName=name, TemplateStage="Processed")["TemplateBody"]
    assert "AWS::ApiGatewayV2::Api" in json.dumps(processed)
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig={"Delay": 1})
