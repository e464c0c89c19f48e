"""Which property changes replace a resource (a new physical resource, the old one deleted after),
per type, as the CloudFormation resource reference documents them ("Update requires:
Replacement"). `ALL` means every property change replaces the resource."""

from __future__ import annotations

ALL = frozenset({"*"})

REPLACES: dict[str, frozenset[str]] = {
    "AWS::Lambda::Function": frozenset({"FunctionName", "PackageType"}),
    "AWS::Lambda::Version": ALL,
    "AWS::Lambda::Alias": frozenset({"FunctionName", "Name"}),
    "AWS::Lambda::Permission": ALL,
    "AWS::Lambda::LayerVersion": ALL,
    "AWS::Lambda::Url": frozenset({"TargetFunctionArn", "Qualifier"}),
    "AWS::Lambda::EventInvokeConfig": frozenset({"FunctionName", "Qualifier"}),
    "AWS::ApiGateway::RestApi": frozenset(),
    "AWS::ApiGateway::Resource": frozenset({"ParentId", "PathPart", "RestApiId"}),
    "AWS::ApiGateway::Method": frozenset({"HttpMethod", "ResourceId", "RestApiId"}),
    "AWS::ApiGateway::Deployment": frozenset({"RestApiId", "DeploymentCanarySettings"}),
    "AWS::ApiGateway::Stage": frozenset({"RestApiId", "StageName"}),
    "AWS::ApiGateway::Authorizer": frozenset({"RestApiId"}),
    "AWS::ApiGateway::ApiKey": frozenset({"Name", "Value", "GenerateDistinctId"}),
    "AWS::ApiGateway::UsagePlan": frozenset(),
    "AWS::ApiGateway::UsagePlanKey": ALL,
    "AWS::ApiGateway::Model": frozenset({"ContentType", "Name", "RestApiId"}),
    "AWS::ApiGateway::RequestValidator": frozenset({"Name", "RestApiId"}),
    "AWS::ApiGateway::GatewayResponse": frozenset({"ResponseType", "RestApiId"}),
    "AWS::ApiGatewayV2::Api": frozenset(),
    "AWS::ApiGatewayV2::Route": frozenset({"ApiId"}),
    "AWS::ApiGatewayV2::Integration": frozenset({"ApiId"}),
    "AWS::ApiGatewayV2::Stage": frozenset({"ApiId", "StageName"}),
    "AWS::ApiGatewayV2::Authorizer": frozenset({"ApiId"}),
    "AWS::DynamoDB::Table": frozenset({"TableName", "KeySchema", "LocalSecondaryIndexes"}),
    "AWS::S3::Bucket": frozenset({"BucketName", "ObjectLockEnabled"}),
    "AWS::S3::BucketPolicy": frozenset({"Bucket"}),
    "AWS::Logs::LogGroup": frozenset({"LogGroupName"}),
    "AWS::IAM::Role": frozenset({"RoleName", "Path"}),
    "AWS::IAM::Policy": frozenset(),
    "AWS::IAM::ManagedPolicy": frozenset({"ManagedPolicyName", "Path", "Description"}),
    "AWS::SSM::Parameter": frozenset({"Name"}),
}


def requires_replacement(resource_type: str, prop: str) -> bool:
    """Whether changing `prop` of a resource of this type replaces it."""
    rules = REPLACES.get(resource_type, frozenset())
    return rules is ALL or "*" in rules or prop in rules
