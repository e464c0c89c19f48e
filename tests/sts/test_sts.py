"""STS through boto3 and the aws CLI: identity, temporary credentials that really work."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError


def test_get_caller_identity_default_account(client) -> None:
    ident = client("sts").get_caller_identity()
    assert ident["Account"] == "000000000000"
    assert ident["Arn"] == "arn:aws:iam::000000000000:root"
    assert ident["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert ident["ResponseMetadata"]["RequestId"]


def test_twelve_digit_access_key_selects_account(client) -> None:
    ident = client("sts", aws_access_key_id="111122223333").get_caller_identity()
    assert ident["Account"] == "111122223333"


def test_cli_get_caller_identity(aws) -> None:
    out = aws("sts", "get-caller-identity")
    assert json.loads(out.stdout)["Account"] == "000000000000"


def test_assume_role_returns_usable_credentials(client, server) -> None:
    sts = client("sts")
    resp = sts.assume_role(
        RoleArn="arn:aws:iam::123456789012:role/deployer", RoleSessionName="ci-run"
    )
    creds = resp["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert (
        resp["AssumedRoleUser"]["Arn"] == "arn:aws:sts::123456789012:assumed-role/deployer/ci-run"
    )
    session = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )
    ident = session.client("sts", endpoint_url=server.url).get_caller_identity()
    assert ident["Account"] == "123456789012"
    assert ident["Arn"] == "arn:aws:sts::123456789012:assumed-role/deployer/ci-run"
    assert ident["UserId"].endswith(":ci-run")


def test_known_key_with_wrong_secret_is_rejected(client, server) -> None:
    creds = client("sts").assume_role(
        RoleArn="arn:aws:iam::123456789012:role/r", RoleSessionName="s1"
    )["Credentials"]
    bad = boto3.client(
        "sts",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key="not-the-secret",
        aws_session_token=creds["SessionToken"],
        config=Config(retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as err:
        bad.get_caller_identity()
    assert err.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_get_session_token(client) -> None:
    creds = client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["SecretAccessKey"]) == 40


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"DurationSeconds": 10}, "greater than or equal to 900"),
        ({"DurationSeconds": 50000}, "less than or equal to 43200"),
        ({"RoleSessionName": "a b"}, "roleSessionName"),
    ],
)
def test_assume_role_validation(client, kwargs, fragment) -> None:
    params = {"RoleArn": "arn:aws:iam::000000000000:role/r", "RoleSessionName": "ok"} | kwargs
    sts = client("sts", config=Config(parameter_validation=False, retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as err:
        sts.assume_role(**params)
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert fragment in err.value.response["Error"]["Message"]


def test_assume_role_with_web_identity_is_unsigned(server) -> None:
    import base64

    def b64(d: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")

    token = (
        b64({"alg": "none"})
        + "."
        + b64({"sub": "user-1", "aud": "app", "iss": "https://idp"})
        + ".sig"
    )
    from botocore import UNSIGNED

    sts = boto3.client(
        "sts",
        endpoint_url=server.url,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED),
    )
    resp = sts.assume_role_with_web_identity(
        RoleArn="arn:aws:iam::000000000000:role/web", RoleSessionName="web", WebIdentityToken=token
    )
    assert resp["SubjectFromWebIdentityToken"] == "user-1"
    assert resp["Credentials"]["AccessKeyId"].startswith("ASIA")
