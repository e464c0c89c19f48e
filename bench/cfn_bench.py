"""CloudFormation: the time to deploy and to delete examples/hello-app (a SAM template: a Python
function, a REST API with POST /hello, a DynamoDB table, a role and a permission), median of 5.

Deploy = what `overcast deploy` does after start-up: package the code into S3, create a change
set (SAM transform, plan), execute it and wait for CREATE_COMPLETE, then one POST through the
API to show it works. Delete = DeleteStack until DELETE_COMPLETE. Each run uses a new stack."""

from __future__ import annotations

import json
import statistics
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from bench.common import overcast_server
from overcast.cli.deploy import CAPABILITIES, Packager
from overcast.engines.cfn.template import parse_template

RUNS = 5
APP = Path(__file__).resolve().parent.parent / "examples" / "hello-app"


def _client(port: int, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )


def _wait(cfn: Any, stack_id: str, done: str) -> None:
    while True:
        status = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]
        if status == done:
            return
        if status.endswith(("FAILED", "ROLLBACK_COMPLETE")):
            raise RuntimeError(f"stack ended in {status}")
        time.sleep(0.02)


def _deploy(port: int, name: str) -> tuple[float, str]:
    cfn, s3 = _client(port, "cloudformation"), _client(port, "s3")
    started = time.perf_counter()
    packager = Packager(s3, "bench-cfn", APP)
    packager.ensure_bucket()
    body = json.dumps(packager.package(parse_template((APP / "template.yaml").read_text())))
    cs = cfn.create_change_set(
        StackName=name,
        ChangeSetName="bench",
        ChangeSetType="CREATE",
        TemplateBody=body,
        Capabilities=CAPABILITIES,
    )
    while cfn.describe_change_set(ChangeSetName=cs["Id"])["Status"] != "CREATE_COMPLETE":
        time.sleep(0.02)
    cfn.execute_change_set(ChangeSetName=cs["Id"])
    _wait(cfn, cs["StackId"], "CREATE_COMPLETE")
    elapsed = time.perf_counter() - started
    outputs = cfn.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
    url = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "HelloApi")
    req = urllib.request.Request(url, data=b'{"name": "bench"}', method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 200
    return elapsed, str(cs["StackId"])


def _delete(port: int, stack_id: str) -> float:
    cfn = _client(port, "cloudformation")
    started = time.perf_counter()
    cfn.delete_stack(StackName=stack_id)
    _wait(cfn, stack_id, "DELETE_COMPLETE")
    return time.perf_counter() - started


def run() -> dict[str, Any]:
    """Deploy and delete hello-app RUNS times on a fresh server; seconds per run and medians."""
    deploys: list[float] = []
    deletes: list[float] = []
    with overcast_server() as (port, _proc):
        for i in range(RUNS):
            elapsed, stack_id = _deploy(port, f"hello-bench-{i}")
            deploys.append(elapsed)
            deletes.append(_delete(port, stack_id))
    return {
        "runs": RUNS,
        "deploy_s": [round(d, 3) for d in deploys],
        "delete_s": [round(d, 3) for d in deletes],
        "deploy_median_s": round(statistics.median(deploys), 3),
        "delete_median_s": round(statistics.median(deletes), 3),
    }


def report(results: dict[str, Any]) -> list[str]:
    return [
        f"hello-app deploy: median {results['deploy_median_s']:.3f} s  (runs {results['deploy_s']})",
        f"hello-app delete: median {results['delete_median_s']:.3f} s  (runs {results['delete_s']})",
    ]
