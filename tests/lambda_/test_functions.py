"""The Lambda control plane through boto3: functions, versions, aliases, layers, permissions,
concurrency, URLs, tags, waiters."""

from __future__ import annotations

import http.client
import json
import urllib.request
from typing import Any

import pytest
from botocore.config import Config

from tests.lambda_.helpers import ROLE, create, make_zip, unique

V1 = "def handler(event, context):\n    return 'v1'\n"
V2 = "def handler(event, context):\n    return 'v2'\n"


def result(lam: Any, name: str, **kwargs: Any) -> Any:
    return json.loads(lam.invoke(FunctionName=name, **kwargs)["Payload"].read())


def test_create_get_list_delete_with_waiters(client: Any) -> None:
    lam = client("lambda")
    name = create(lam, {"app.py": V1}, Tags={"team": "a"}, Description="d")
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    got = lam.get_function(FunctionName=name)
    cfg = got["Configuration"]
    assert cfg["State"] == "Active" and cfg["LastUpdateStatus"] == "Successful"
    assert cfg["Runtime"] == "python3.12" and cfg["Handler"] == "app.handler"
    assert cfg["Timeout"] == 3 and cfg["MemorySize"] == 128
    assert cfg["EphemeralStorage"] == {"Size": 512}
    assert got["Tags"] == {"team": "a"}
    with urllib.request.urlopen(got["Code"]["Location"]) as resp:
        assert resp.read() == make_zip({"app.py": V1})
    assert lam.get_function_configuration(FunctionName=name)["Description"] == "d"
    with pytest.raises(lam.exceptions.ResourceConflictException):
        create(lam, {"app.py": V1}, name=name)
    lam.delete_function(FunctionName=name)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=name)


def test_validation_errors(client: Any) -> None:
    lam = client("lambda", config=Config(parameter_validation=False, retries={"max_attempts": 1}))
    for bad in ({"Timeout": 901}, {"MemorySize": 64}, {"Runtime": "python2.7"}):
        kwargs: dict[str, Any] = {"Runtime": "python3.12", **bad}
        with pytest.raises(Exception) as err:
            lam.create_function(
                FunctionName=unique(),
                Role=ROLE,
                Handler="app.handler",
                Code={"ZipFile": make_zip({"app.py": V1})},
                **kwargs,
            )
        assert err.value.response["Error"]["Code"] in (  # type: ignore[attr-defined]
            "ValidationException",
            "InvalidParameterValueException",
        )
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.create_function(
            FunctionName=unique(),
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": b"not a zip"},
        )
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        create(lam, {"app.py": V1}, Environment={"Variables": {"AWS_REGION": "x"}})


def test_list_functions_paginates(client: Any) -> None:
    lam = client("lambda")
    names = {create(lam, {"app.py": V1}, name=unique("page")) for _ in range(3)}
    seen: list[str] = []
    for page in lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2}):
        seen += [f["FunctionName"] for f in page["Functions"]]
    assert names <= set(seen)
    assert len(seen) == len(set(seen))


def test_update_code_and_configuration(client: Any) -> None:
    lam = client("lambda")
    name = create(lam, {"app.py": V1})
    assert result(lam, name) == "v1"
    lam.update_function_code(FunctionName=name, ZipFile=make_zip({"app.py": V2}))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    assert result(lam, name) == "v2"
    lam.update_function_configuration(
        FunctionName=name, Timeout=9, Environment={"Variables": {"A": "1"}}
    )
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    cfg = lam.get_function_configuration(FunctionName=name)
    assert cfg["Timeout"] == 9 and cfg["Environment"]["Variables"] == {"A": "1"}


def test_versions_and_aliases_with_weights(client: Any) -> None:
    lam = client("lambda")
    name = create(lam, {"app.py": V1})
    v1 = lam.publish_version(FunctionName=name)["Version"]
    lam.update_function_code(FunctionName=name, ZipFile=make_zip({"app.py": V2}))
    v2 = lam.publish_version(FunctionName=name)["Version"]
    assert (v1, v2) == ("1", "2")
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "1", "2"]
    assert result(lam, name, Qualifier="1") == "v1"
    assert result(lam, f"{name}:2") == "v2"
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert result(lam, name, Qualifier="live") == "v1"
    resp = lam.invoke(FunctionName=name, Qualifier="live")
    assert resp["ExecutedVersion"] == "1"
    lam.update_alias(
        FunctionName=name,
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    seen = {result(lam, name, Qualifier="live") for _ in range(30)}
    assert seen == {"v1", "v2"}
    aliases = lam.list_aliases(FunctionName=name)["Aliases"]
    assert [a["Name"] for a in aliases] == ["live"]
    lam.delete_alias(FunctionName=name, Name="live")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_alias(FunctionName=name, Name="live")


def test_layers_on_python_path(client: Any) -> None:
    lam = client("lambda")
    layer_name = unique("layer")
    v1 = lam.publish_layer_version(
        LayerName=layer_name,
        Content={"ZipFile": make_zip({"python/shared.py": "VALUE = 'one'\n"})},
        CompatibleRuntimes=["python3.12"],
    )
    v2 = lam.publish_layer_version(
        LayerName=layer_name,
        Content={
            "ZipFile": make_zip(
                {"python/shared.py": "VALUE = 'two'\n", "python/extra.py": "X = 1\n"}
            )
        },
    )
    assert v2["Version"] == 2
    code = "import shared, os\ndef handler(e, c):\n    return [shared.VALUE, os.environ['OVERCAST_OPT_DIR'] != '']\n"
    other = unique("layer")
    v3 = lam.publish_layer_version(
        LayerName=other, Content={"ZipFile": make_zip({"python/shared.py": "VALUE = 'three'\n"})}
    )
    name = create(lam, {"app.py": code}, Layers=[v1["LayerVersionArn"], v3["LayerVersionArn"]])
    assert result(lam, name) == ["three", True]  # later layers win, as in /opt
    lam.update_function_configuration(FunctionName=name, Layers=[v2["LayerVersionArn"]])
    assert result(lam, name) == ["two", True]
    got = lam.get_layer_version(LayerName=layer_name, VersionNumber=1)
    assert got["Content"]["CodeSize"] > 0
    with urllib.request.urlopen(got["Content"]["Location"]) as resp:
        assert resp.read()[:2] == b"PK"
    listed = lam.list_layer_versions(LayerName=layer_name)["LayerVersions"]
    assert [v["Version"] for v in listed] == [2, 1]
    assert layer_name in [x["LayerName"] for x in lam.list_layers()["Layers"]]
    lam.delete_layer_version(LayerName=layer_name, VersionNumber=1)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_layer_version(LayerName=layer_name, VersionNumber=1)


def test_permissions_policy(client: Any) -> None:
    lam = client("lambda")
    name = create(lam, {"app.py": V1})
    lam.add_permission(
        FunctionName=name,
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::bucket",
    )
    policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    [stmt] = policy["Statement"]
    assert stmt["Sid"] == "s3" and stmt["Principal"] == {"Service": "s3.amazonaws.com"}
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.add_permission(
            FunctionName=name,
            StatementId="s3",
            Action="lambda:InvokeFunction",
            Principal="s3.amazonaws.com",
        )
    lam.remove_permission(FunctionName=name, StatementId="s3")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_policy(FunctionName=name)


def test_concurrency_settings_and_account(client: Any) -> None:
    lam = client("lambda")
    name = create(lam, {"app.py": V1})
    assert (
        lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") is None
    )
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 5
    assert lam.get_function(FunctionName=name)["Concurrency"]["ReservedConcurrentExecutions"] == 5
    settings = lam.get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] <= 995
    assert settings["AccountUsage"]["FunctionCount"] >= 1
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=950)
    lam.delete_function_concurrency(FunctionName=name)


def test_provisioned_concurrency_keeps_warm(client: Any) -> None:
    lam = client("lambda")
    code = "import os\ndef handler(e, c):\n    return [os.getpid(), os.environ['AWS_LAMBDA_INITIALIZATION_TYPE']]\n"
    name = create(lam, {"app.py": code})
    version = lam.publish_version(FunctionName=name)["Version"]
    out = lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1
    )
    assert out["RequestedProvisionedConcurrentExecutions"] == 1
    got = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
    assert got["Status"] == "READY"
    pid, init_type = result(lam, name, Qualifier=version)
    assert init_type == "provisioned-concurrency"
    assert result(lam, name, Qualifier=version)[0] == pid
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
    with pytest.raises(lam.exceptions.ProvisionedConcurrencyConfigNotFoundException):
        lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=version)


def test_function_url(client: Any) -> None:
    lam = client("lambda")
    code = (
        "import json\n"
        "def handler(event, context):\n"
        "    return {'statusCode': 201, 'headers': {'x-test': 'yes'},\n"
        "            'body': json.dumps({'path': event['rawPath'], 'method': event['requestContext']['http']['method'],\n"
        "                                'q': event.get('queryStringParameters'), 'body': event.get('body'),\n"
        "                                'version': event['version']})}\n"
    )
    name = create(lam, {"app.py": code})
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    assert lam.get_function_url_config(FunctionName=name)["FunctionUrl"] == url
    req = urllib.request.Request(
        url + "items/7?color=red",
        data=b'{"a": 1}',
        method="POST",
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(req) as resp:
        assert resp.status == 201
        assert resp.headers["x-test"] == "yes"
        body = json.loads(resp.read())
    assert body == {
        "path": "/items/7",
        "method": "POST",
        "q": {"color": "red"},
        "body": '{"a": 1}',
        "version": "2.0",
    }
    # The same function by host name, as {url-id}.lambda-url.{region}.localhost.
    url_id = url.rstrip("/").rsplit("/", 1)[-1]
    port = int(url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/by-host", headers={"Host": f"{url_id}.lambda-url.us-east-1.localhost"})
    by_host = conn.getresponse()
    assert by_host.status == 201
    assert json.loads(by_host.read())["path"] == "/by-host"
    conn.close()
    lam.delete_function_url_config(FunctionName=name)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_url_config(FunctionName=name)


def test_tags(client: Any) -> None:
    lam = client("lambda")
    name = create(lam, {"app.py": V1})
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    lam.tag_resource(Resource=arn, Tags={"a": "1", "b": "2"})
    lam.untag_resource(Resource=arn, TagKeys=["a"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"b": "2"}


def test_event_invoke_config_crud(client: Any) -> None:
    lam = client("lambda")
    name = create(lam, {"app.py": V1})
    lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=1, MaximumEventAgeInSeconds=120
    )
    got = lam.get_function_event_invoke_config(FunctionName=name)
    assert got["MaximumRetryAttempts"] == 1 and got["MaximumEventAgeInSeconds"] == 120
    lam.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    listed = lam.list_function_event_invoke_configs(FunctionName=name)
    assert listed["FunctionEventInvokeConfigs"][0]["MaximumRetryAttempts"] == 0
    with pytest.raises(Exception):  # noqa: B017 - botocore's own validation or ours
        lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=5)
    lam.delete_function_event_invoke_config(FunctionName=name)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_event_invoke_config(FunctionName=name)


def test_code_from_s3(client: Any) -> None:
    s3, lam = client("s3"), client("lambda")
    bucket = unique("code")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="fn.zip", Body=make_zip({"app.py": V2}))
    name = unique()
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"S3Bucket": bucket, "S3Key": "fn.zip"},
    )
    assert result(lam, name) == "v2"
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as err:
        lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="missing.zip")
    assert "NoSuchKey" in str(err.value)


def test_function_url_with_iam_auth_needs_a_valid_signature(client: Any) -> None:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    lam = client("lambda")
    name = create(lam, {"app.py": "def handler(event, context):\n    return 'signed ok'\n"})
    url = lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")["FunctionUrl"]

    def call(creds: Credentials | None) -> tuple[int, bytes]:
        req = AWSRequest(method="GET", url=url + "x")
        if creds is not None:
            SigV4Auth(creds, "lambda", "us-east-1").add_auth(req)
        prepared = urllib.request.Request(url + "x", headers=dict(req.headers.items()))
        try:
            with urllib.request.urlopen(prepared) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    status, body = call(None)
    assert (status, json.loads(body)) == (403, {"Message": "Forbidden"})
    assert call(Credentials("test", "test")) == (200, b"signed ok")
    issued = client("sts").get_session_token()["Credentials"]
    good = Credentials(issued["AccessKeyId"], issued["SecretAccessKey"], issued["SessionToken"])
    bad = Credentials(issued["AccessKeyId"], "wrong-secret", issued["SessionToken"])
    assert call(good) == (200, b"signed ok")
    assert call(bad)[0] == 403
