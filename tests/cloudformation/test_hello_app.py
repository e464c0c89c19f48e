"""examples/hello-app end to end, as a new user would try it: deployed with `overcast deploy`,
with `aws cloudformation package` + `deploy`, and with `sam deploy`; curl on the output URL
writes an item that boto3 reads; a changed function deploys as an update; deleting the stack
removes every resource it made."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BIN, REPO

APP = REPO / "examples" / "hello-app"
SAM = REPO / ".venv-sam" / "bin" / "sam"

pytestmark = pytest.mark.slow


def _env(server: Any) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": server.url,
        "AWS_PAGER": "",
        "SAM_CLI_TELEMETRY": "0",
        "OVERCAST_ENDPOINT": server.url,
    }


def _run(args: list[str], server: Any, cwd: Path | None = None) -> str:
    proc = subprocess.run(
        args, capture_output=True, text=True, env=_env(server), cwd=cwd, timeout=300
    )
    assert proc.returncode == 0, f"{args[0]} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


def _copy_app(tmp_path: Path) -> Path:
    app = tmp_path / "hello-app"
    shutil.copytree(APP, app, ignore=shutil.ignore_patterns(".aws-sam", "packaged.yaml"))
    return app


def _outputs(cfn: Any, stack: str) -> dict[str, str]:
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    out = subprocess.run(
        [
            "curl",
            "-sS",
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
            "-d",
            json.dumps(body),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def _check_app(client: Callable[..., Any], stack: str, greeting: str) -> dict[str, str]:
    cfn, ddb = client("cloudformation"), client("dynamodb")
    outs = _outputs(cfn, stack)
    item_id = uuid.uuid4().hex
    reply = _post(outs["HelloApi"], {"id": item_id, "name": "world"})
    assert reply == {"id": item_id, "greeting": greeting}
    item = ddb.get_item(TableName=outs["HelloTableName"], Key={"id": {"S": item_id}})["Item"]
    assert item["name"] == {"S": "world"}
    assert item["greeting"] == {"S": greeting}
    return outs


def _resources(client: Callable[..., Any], stack: str) -> dict[str, str]:
    cfn = client("cloudformation")
    rows = cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    return {r["ResourceType"]: r["PhysicalResourceId"] for r in rows}


def _assert_gone(client: Callable[..., Any], made: dict[str, str]) -> None:
    lam, ddb, apigw, iam = client("lambda"), client("dynamodb"), client("apigateway"), client("iam")
    functions = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert made["AWS::Lambda::Function"] not in functions
    assert made["AWS::DynamoDB::Table"] not in ddb.list_tables()["TableNames"]
    assert made["AWS::ApiGateway::RestApi"] not in [a["id"] for a in apigw.get_rest_apis()["items"]]
    assert made["AWS::IAM::Role"] not in [r["RoleName"] for r in iam.list_roles()["Roles"]]


def _change_greeting(app: Path, greeting: str) -> None:
    src = app / "src" / "app.py"
    src.write_text(src.read_text().replace('GREETING = "hello"', f'GREETING = "{greeting}"'))


def test_overcast_deploy(server: Any, client: Callable[..., Any], tmp_path: Path) -> None:
    stack = f"hello-oc-{uuid.uuid4().hex[:6]}"
    app = _copy_app(tmp_path)
    overcast = str(BIN / "overcast")
    out = _run(
        [
            overcast,
            "deploy",
            str(app / "template.yaml"),
            "--stack-name",
            stack,
            "--endpoint",
            server.url,
        ],
        server,
    )
    assert "CREATE_COMPLETE" in out
    printed = re.search(r"HelloApi: (\S+)", out)
    assert printed is not None, out
    assert _post(printed.group(1), {"id": "printed"}) == {"id": "printed", "greeting": "hello"}
    _check_app(client, stack, "hello")
    made = _resources(client, stack)

    _change_greeting(app, "bonjour")
    out = _run(
        [overcast, "deploy", str(app), "--stack-name", stack, "--endpoint", server.url], server
    )
    assert "UPDATE_COMPLETE" in out
    _check_app(client, stack, "bonjour")
    assert _resources(client, stack) == made  # an update in place, nothing replaced

    again = _run(
        [overcast, "deploy", str(app), "--stack-name", stack, "--endpoint", server.url], server
    )
    assert "No changes to deploy" in again

    out = _run([overcast, "destroy", stack, "--endpoint", server.url], server)
    assert "deleted" in out
    _assert_gone(client, made)


def test_aws_cli_package_and_deploy(
    server: Any, client: Callable[..., Any], tmp_path: Path
) -> None:
    stack = f"hello-cli-{uuid.uuid4().hex[:6]}"
    bucket = f"pkg-{uuid.uuid4().hex[:8]}"
    app = _copy_app(tmp_path)
    client("s3").create_bucket(Bucket=bucket)
    aws = str(BIN / "aws")

    def deploy() -> None:
        _run(
            [
                aws,
                "cloudformation",
                "package",
                "--template-file",
                "template.yaml",
                "--s3-bucket",
                bucket,
                "--output-template-file",
                "packaged.yaml",
            ],
            server,
            app,
        )
        _run(
            [
                aws,
                "cloudformation",
                "deploy",
                "--template-file",
                "packaged.yaml",
                "--stack-name",
                stack,
                "--capabilities",
                "CAPABILITY_IAM",
            ],
            server,
            app,
        )

    deploy()
    _check_app(client, stack, "hello")
    made = _resources(client, stack)
    _change_greeting(app, "hola")
    deploy()
    _check_app(client, stack, "hola")
    _run([aws, "cloudformation", "delete-stack", "--stack-name", stack], server)
    _run([aws, "cloudformation", "wait", "stack-delete-complete", "--stack-name", stack], server)
    _assert_gone(client, made)


@pytest.mark.skipif(
    not SAM.exists(),
    reason="aws-sam-cli is not installed in .venv-sam "
    "(make sam-cli installs it; it cannot share the main venv)",
)
def test_sam_deploy(server: Any, client: Callable[..., Any], tmp_path: Path) -> None:
    stack = f"hello-sam-{uuid.uuid4().hex[:6]}"
    app = _copy_app(tmp_path)

    def deploy() -> None:
        _run(
            [
                str(SAM),
                "deploy",
                "--stack-name",
                stack,
                "--resolve-s3",
                "--capabilities",
                "CAPABILITY_IAM",
                "--no-confirm-changeset",
                "--no-fail-on-empty-changeset",
                "--region",
                "us-east-1",
            ],
            server,
            app,
        )

    deploy()
    _check_app(client, stack, "hello")
    made = _resources(client, stack)
    _change_greeting(app, "ciao")
    deploy()
    _check_app(client, stack, "ciao")
    _run(
        [str(SAM), "delete", "--stack-name", stack, "--no-prompts", "--region", "us-east-1"],
        server,
        app,
    )
    _assert_gone(client, made)
