"""SSM Parameter Store and IAM roles/policies through boto3 against a real server."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _p() -> str:
    return f"/t{uuid.uuid4().hex[:8]}"


def test_parameter_lifecycle(client: Callable[..., Any]) -> None:
    ssm = client("ssm")
    base = _p()
    assert ssm.put_parameter(Name=f"{base}/a", Value="1", Type="String")["Version"] == 1
    with pytest.raises(ClientError) as err:
        ssm.put_parameter(Name=f"{base}/a", Value="2", Type="String")
    assert err.value.response["Error"]["Code"] == "ParameterAlreadyExists"
    assert ssm.put_parameter(Name=f"{base}/a", Value="2", Overwrite=True)["Version"] == 2
    got = ssm.get_parameter(Name=f"{base}/a")["Parameter"]
    assert (got["Value"], got["Version"], got["Type"]) == ("2", 2, "String")
    assert got["ARN"] == f"arn:aws:ssm:us-east-1:000000000000:parameter{base}/a"
    assert ssm.get_parameter(Name=f"{base}/a:1")["Parameter"]["Value"] == "1"
    ssm.put_parameter(Name=f"{base}/b/c", Value="x,y", Type="StringList")
    ssm.put_parameter(Name=f"{base}/s", Value="secret", Type="SecureString")
    hidden = ssm.get_parameter(Name=f"{base}/s")["Parameter"]["Value"]
    assert hidden != "secret"
    assert (
        ssm.get_parameter(Name=f"{base}/s", WithDecryption=True)["Parameter"]["Value"] == "secret"
    )

    flat = ssm.get_parameters_by_path(Path=base)["Parameters"]
    assert sorted(p["Name"] for p in flat) == [f"{base}/a", f"{base}/s"]
    deep = ssm.get_parameters_by_path(Path=base, Recursive=True)["Parameters"]
    assert len(deep) == 3
    paged = ssm.get_paginator("get_parameters_by_path").paginate(
        Path=base, Recursive=True, PaginationConfig={"PageSize": 1}
    )
    assert sum(len(page["Parameters"]) for page in paged) == 3

    many = ssm.get_parameters(Names=[f"{base}/a", f"{base}/nope"])
    assert [p["Name"] for p in many["Parameters"]] == [f"{base}/a"]
    assert many["InvalidParameters"] == [f"{base}/nope"]
    described = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": [base]}]
    )
    assert len(described["Parameters"]) == 3
    history = ssm.get_parameter_history(Name=f"{base}/a")["Parameters"]
    assert [h["Value"] for h in history] == ["1", "2"]

    ssm.delete_parameter(Name=f"{base}/a")
    with pytest.raises(ClientError) as err:
        ssm.get_parameter(Name=f"{base}/a")
    assert err.value.response["Error"]["Code"] == "ParameterNotFound"
    with pytest.raises(ClientError) as err:
        ssm.delete_parameter(Name=f"{base}/a")
    assert err.value.response["Error"]["Code"] == "ParameterNotFound"


def test_parameter_validation(client: Callable[..., Any]) -> None:
    ssm = client("ssm")
    with pytest.raises(ClientError) as err:
        ssm.put_parameter(Name=f"{_p()}/x", Value="abc", Type="String", AllowedPattern="^[0-9]+$")
    assert err.value.response["Error"]["Code"] == "ParameterPatternMismatchException"
    with pytest.raises(ClientError) as err:
        ssm.put_parameter(Name=f"{_p()}/x", Value="a" * 4097, Type="String")
    assert err.value.response["Error"]["Code"] == "ValidationException"
    name = f"{_p()}/tagged"
    ssm.put_parameter(Name=name, Value="v", Type="String", Tags=[{"Key": "team", "Value": "a"}])
    ssm.add_tags_to_resource(
        ResourceType="Parameter", ResourceId=name, Tags=[{"Key": "env", "Value": "dev"}]
    )
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "a", "env": "dev"}


TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
DOC = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
)


def test_roles_and_policies(client: Callable[..., Any]) -> None:
    iam = client("iam")
    name = f"role-{uuid.uuid4().hex[:8]}"
    role = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=TRUST,
        Description="d",
        Tags=[{"Key": "k", "Value": "v"}],
    )["Role"]
    assert role["Arn"] == f"arn:aws:iam::000000000000:role/{name}"
    assert role["RoleId"].startswith("AROA")
    with pytest.raises(ClientError) as err:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
    assert err.value.response["Error"]["Code"] == "EntityAlreadyExists"
    got = iam.get_role(RoleName=name)["Role"]
    assert got["AssumeRolePolicyDocument"] == json.loads(TRUST)
    assert name in [r["RoleName"] for r in iam.list_roles()["Roles"]]

    iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=DOC)
    assert iam.get_role_policy(RoleName=name, PolicyName="inline")["PolicyDocument"] == json.loads(
        DOC
    )
    policy = iam.create_policy(PolicyName=f"p-{name}", PolicyDocument=DOC)["Policy"]
    iam.attach_role_policy(RoleName=name, PolicyArn=policy["Arn"])
    iam.attach_role_policy(
        RoleName=name, PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    )
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert len(attached) == 2
    assert iam.get_policy(PolicyArn=policy["Arn"])["Policy"]["AttachmentCount"] == 1
    with pytest.raises(ClientError) as err:
        iam.delete_role(RoleName=name)
    assert err.value.response["Error"]["Code"] == "DeleteConflict"
    iam.tag_role(RoleName=name, Tags=[{"Key": "k2", "Value": "v2"}])
    assert len(iam.list_role_tags(RoleName=name)["Tags"]) == 2

    v2 = iam.create_policy_version(PolicyArn=policy["Arn"], PolicyDocument=DOC, SetAsDefault=True)
    assert v2["PolicyVersion"]["VersionId"] == "v2"
    assert iam.get_policy(PolicyArn=policy["Arn"])["Policy"]["DefaultVersionId"] == "v2"

    for a in attached:
        iam.detach_role_policy(RoleName=name, PolicyArn=a["PolicyArn"])
    iam.delete_role_policy(RoleName=name, PolicyName="inline")
    iam.delete_role(RoleName=name)
    iam.delete_policy(PolicyArn=policy["Arn"])
    with pytest.raises(ClientError) as err:
        iam.get_role(RoleName=name)
    assert err.value.response["Error"]["Code"] == "NoSuchEntity"
    with pytest.raises(ClientError) as err:
        iam.create_role(RoleName="x", AssumeRolePolicyDocument="not json")
    assert err.value.response["Error"]["Code"] == "MalformedPolicyDocument"
