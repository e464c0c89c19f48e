"""`overcast deploy TEMPLATE` and `overcast destroy STACK`.

deploy: read the template → package local CodeUri/ContentUri/DefinitionUri folders and files
(zips, content-addressed keys) into Overcast's S3, in a bucket it creates → upload the rewritten
template → create a change set (CREATE or UPDATE) → execute it → show the stack events live →
print the outputs. destroy: delete the stack and show its events until it is gone.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import time
import zipfile
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table

from overcast.engines.cfn.template import parse_template

# (resource type, property, zip a folder?) for the properties that name local files.
PACKAGEABLE: list[tuple[str, str, bool]] = [
    ("AWS::Serverless::Function", "CodeUri", True),
    ("AWS::Serverless::LayerVersion", "ContentUri", True),
    ("AWS::Serverless::Api", "DefinitionUri", False),
    ("AWS::Serverless::HttpApi", "DefinitionUri", False),
    ("AWS::Serverless::StateMachine", "DefinitionUri", False),
    ("AWS::Lambda::Function", "Code", True),
    ("AWS::Lambda::LayerVersion", "Content", True),
    ("AWS::ApiGateway::RestApi", "BodyS3Location", False),
    ("AWS::ApiGatewayV2::Api", "BodyS3Location", False),
]
# Properties that name another template: packaged recursively, then given as a URL.
NESTED: list[tuple[str, str]] = [
    ("AWS::CloudFormation::Stack", "TemplateURL"),
    ("AWS::Serverless::Application", "Location"),
]
TERMINAL = {
    "CREATE_COMPLETE",
    "CREATE_FAILED",
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_FAILED",
    "DELETE_COMPLETE",
    "DELETE_FAILED",
    "UPDATE_FAILED",
}
SUCCESS = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE"}
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


def _client(args: argparse.Namespace, service: str) -> Any:
    import boto3
    from botocore.config import Config

    endpoint = args.endpoint or os.environ.get("OVERCAST_ENDPOINT") or "http://127.0.0.1:4566"
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=args.region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        config=Config(retries={"max_attempts": 2}),
    )


def zip_path(path: Path) -> bytes:
    """A folder (or one file) as a zip with stable bytes: sorted entries, fixed timestamps."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            if "__pycache__" in f.parts or f.suffix == ".pyc":
                continue
            name = f.name if path.is_file() else f.relative_to(path).as_posix()
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (f.stat().st_mode & 0o777 | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, f.read_bytes())
    return buf.getvalue()


class Packager:
    """Uploads local artifacts into one bucket, under keys named by their content hash."""

    def __init__(self, s3: Any, bucket: str, base: Path) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.base = base
        self.uploaded: list[str] = []

    def ensure_bucket(self) -> None:
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except Exception:
            region = self.s3.meta.region_name
            params: dict[str, Any] = {"Bucket": self.bucket}
            if region != "us-east-1":
                params["CreateBucketConfiguration"] = {"LocationConstraint": region}
            self.s3.create_bucket(**params)

    def upload(self, data: bytes, suffix: str) -> str:
        key = hashlib.sha256(data).hexdigest() + suffix
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        except Exception:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
            self.uploaded.append(key)
        return key

    def artifact(self, value: Any, zip_folder: bool) -> tuple[str, str] | None:
        """(bucket, key) for a local path value, or None if it is not a local path."""
        if not isinstance(value, str) or value.startswith(("s3://", "http://", "https://")):
            return None
        path = (self.base / value).resolve()
        if not path.exists():
            raise SystemExit(f"error: {value} does not exist (relative to {self.base})")
        if zip_folder and (path.is_dir() or path.suffix not in (".zip", ".jar")):
            return self.bucket, self.upload(zip_path(path), ".zip")
        return self.bucket, self.upload(path.read_bytes(), path.suffix)

    def package(self, template: dict[str, Any]) -> dict[str, Any]:
        """The template with local paths replaced by S3 locations."""
        globals_fn = (template.get("Globals") or {}).get("Function") or {}
        if "CodeUri" in globals_fn:
            loc = self.artifact(globals_fn["CodeUri"], True)
            if loc:
                globals_fn["CodeUri"] = f"s3://{loc[0]}/{loc[1]}"
        for res in (template.get("Resources") or {}).values():
            props = res.get("Properties")
            if not isinstance(props, dict):
                continue
            for rtype, prop in NESTED:
                value = props.get(prop)
                if res.get("Type") != rtype or not isinstance(value, str):
                    continue
                if value.startswith(("s3://", "http://", "https://")):
                    continue
                path = (self.base / value).resolve()
                if not path.is_file():
                    raise SystemExit(f"error: {value} does not exist (relative to {self.base})")
                nested = Packager(self.s3, self.bucket, path.parent)
                body = json.dumps(nested.package(parse_template(path.read_text())), default=str)
                self.uploaded += nested.uploaded
                key = self.upload(body.encode(), ".template")
                props[prop] = f"{self.s3.meta.endpoint_url}/{self.bucket}/{key}"
            for rtype, prop, zip_folder in PACKAGEABLE:
                if res.get("Type") != rtype or prop not in props:
                    continue
                loc = self.artifact(props[prop], zip_folder)
                if loc is None:
                    continue
                bucket, key = loc
                if rtype.startswith("AWS::Serverless::"):
                    props[prop] = f"s3://{bucket}/{key}"
                elif prop in ("Code", "Content"):
                    props[prop] = {"S3Bucket": bucket, "S3Key": key}
                else:
                    props[prop] = {"Bucket": bucket, "Key": key}
        return template


def _status_colour(status: str) -> str:
    if status.endswith("_FAILED") or "ROLLBACK" in status:
        return "red"
    if status.endswith("_COMPLETE"):
        return "green"
    if status.endswith("_SKIPPED"):
        return "dim"
    return "yellow"


def watch(cfn: Any, stack_id: str, since: float, console: Console, title: str) -> str:
    """Show the stack's resources as their events arrive; return the final stack status."""
    seen: set[str] = set()
    resources: dict[str, tuple[str, str, str]] = {}
    status = ""  # the stack's status, from its own events, then from DescribeStacks

    def render(done: bool = False) -> Group:
        table = Table("resource", "type", "status", "reason", box=None, pad_edge=False)
        for logical, (rtype, st, reason) in resources.items():
            colour = _status_colour(st)
            table.add_row(logical, rtype, f"[{colour}]{st}[/{colour}]", reason)
        if done:
            return Group(table)
        spin = Spinner("dots", text=f"{title}: [bold]{status or '...'}[/bold]")
        return Group(table, spin)

    with Live(render(), console=console, refresh_per_second=12, transient=False) as live:
        while True:
            events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
            for ev in reversed(events):
                if ev["EventId"] in seen or ev["Timestamp"].timestamp() < since - 1:
                    continue
                seen.add(ev["EventId"])
                if ev["ResourceType"] == "AWS::CloudFormation::Stack":
                    status = ev["ResourceStatus"]
                    continue
                resources[ev["LogicalResourceId"]] = (
                    ev["ResourceType"],
                    ev["ResourceStatus"],
                    ev.get("ResourceStatusReason", ""),
                )
            live.update(render())
            if status in TERMINAL:
                stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
                status = str(stack["StackStatus"])
                if status in TERMINAL:
                    live.update(render(done=True))
                    break
            time.sleep(0.2)
    if not console.is_terminal:
        console.print()  # Live leaves its last line open when it cannot move the cursor
    return status


def _overrides(values: list[str]) -> list[dict[str, str]]:
    out = []
    for item in values:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"error: --parameter-overrides takes Key=Value, not {item!r}")
        out.append({"ParameterKey": key, "ParameterValue": value})
    return out


def cmd_deploy(args: argparse.Namespace) -> int:
    console = Console()
    path = Path(args.template)
    if path.is_dir():
        path = next(
            (
                path / n
                for n in ("template.yaml", "template.yml", "template.json")
                if (path / n).exists()
            ),
            path / "template.yaml",
        )
    if not path.exists():
        console.print(f"[red]no template at {path}[/red]")
        return 2
    stack_name = args.stack_name or path.resolve().parent.name.replace("_", "-")
    cfn, s3, sts = _client(args, "cloudformation"), _client(args, "s3"), _client(args, "sts")
    account = sts.get_caller_identity()["Account"]
    bucket = args.s3_bucket or f"overcast-deploy-{account}-{cfn.meta.region_name}"
    packager = Packager(s3, bucket, path.resolve().parent)
    packager.ensure_bucket()
    template = packager.package(parse_template(path.read_text()))
    body = json.dumps(template, indent=1, default=str)
    source: dict[str, str]
    if len(body.encode()) > 51_200:
        key = packager.upload(body.encode(), ".template")
        source = {"TemplateURL": f"{s3.meta.endpoint_url}/{bucket}/{key}"}
    else:
        source = {"TemplateBody": body}
    console.print(f"Packaged {path} into s3://{bucket} ({len(packager.uploaded)} new artifact(s))")

    kind = "CREATE"
    try:
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        if stack["StackStatus"] != "REVIEW_IN_PROGRESS":
            kind = "UPDATE"
        if stack["StackStatus"] == "ROLLBACK_COMPLETE":
            console.print(f"Stack {stack_name} is in ROLLBACK_COMPLETE: deleting it first")
            cfn.delete_stack(StackName=stack_name)
            watch(cfn, stack["StackId"], time.time(), console, "delete")
            kind = "CREATE"
    except cfn.exceptions.ClientError as exc:
        if "does not exist" not in str(exc):
            raise
    cs_name = f"overcast-deploy-{int(time.time() * 1000)}"
    cs = cfn.create_change_set(
        StackName=stack_name,
        ChangeSetName=cs_name,
        ChangeSetType=kind,
        Parameters=_overrides(args.parameter_overrides or []),
        Capabilities=CAPABILITIES,
        **source,
    )
    while True:
        desc = cfn.describe_change_set(ChangeSetName=cs["Id"])
        if desc["Status"] in ("CREATE_COMPLETE", "FAILED"):
            break
        time.sleep(0.1)
    if desc["Status"] == "FAILED":
        reason = desc.get("StatusReason", "")
        cfn.delete_change_set(ChangeSetName=cs["Id"])
        if "didn't contain changes" in reason:
            console.print(f"[green]No changes to deploy.[/green] Stack {stack_name} is up to date.")
            _print_outputs(console, cfn, stack_name)
            return 0
        console.print(f"[red]Change set failed:[/red] {reason}")
        return 1
    table = Table("action", "resource", "type", "replacement", box=None, pad_edge=False)
    for change in desc.get("Changes", []):
        rc = change["ResourceChange"]
        table.add_row(
            rc["Action"], rc["LogicalResourceId"], rc["ResourceType"], rc.get("Replacement", "")
        )
    console.print(table)
    started = time.time()
    cfn.execute_change_set(ChangeSetName=cs["Id"])
    final = watch(cfn, cs["StackId"], started, console, f"{kind.lower()} {stack_name}")
    elapsed = time.time() - started
    if final not in SUCCESS:
        console.print(f"[red]Stack {stack_name} ended in {final}[/red] after {elapsed:.1f}s")
        return 1
    console.print(f"[green]Stack {stack_name}: {final}[/green] in {elapsed:.1f}s")
    _print_outputs(console, cfn, stack_name)
    return 0


def _print_outputs(console: Console, cfn: Any, stack_name: str) -> None:
    """One `Key: value` line per output, never cut or wrapped, so URLs can be copied."""
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = stack.get("Outputs") or []
    if not outputs:
        return
    console.print("[bold]Outputs[/bold]")
    for out in outputs:
        description = f"  [dim]# {out['Description']}[/dim]" if out.get("Description") else ""
        console.print(
            f"  {out['OutputKey']}: {out['OutputValue']}{description}",
            soft_wrap=True,
            highlight=False,
        )


def cmd_destroy(args: argparse.Namespace) -> int:
    console = Console()
    cfn = _client(args, "cloudformation")
    try:
        stack = cfn.describe_stacks(StackName=args.stack)["Stacks"][0]
    except cfn.exceptions.ClientError as exc:
        console.print(f"[red]{exc}[/red]")
        return 1
    started = time.time()
    cfn.delete_stack(StackName=args.stack)
    final = watch(cfn, stack["StackId"], started, console, f"delete {args.stack}")
    if final != "DELETE_COMPLETE":
        console.print(f"[red]Stack {args.stack} ended in {final}[/red]")
        return 1
    console.print(f"[green]Stack {args.stack} deleted[/green] in {time.time() - started:.1f}s")
    return 0


def register(sub: Any) -> None:
    """Add `deploy` and `destroy` to the command line."""
    deploy = sub.add_parser("deploy", help="package and deploy a SAM/CloudFormation template")
    deploy.add_argument("template", help="template file (or a folder holding template.yaml)")
    deploy.add_argument("--stack-name", default=None, help="default: the template folder's name")
    deploy.add_argument("--parameter-overrides", nargs="*", default=[], metavar="KEY=VALUE")
    deploy.add_argument("--s3-bucket", default=None, help="artifact bucket (created if missing)")
    deploy.add_argument("--endpoint", default=None, help="default $OVERCAST_ENDPOINT or :4566")
    deploy.add_argument("--region", default=None)
    deploy.set_defaults(fn=cmd_deploy)
    destroy = sub.add_parser("destroy", help="delete a stack and everything it made")
    destroy.add_argument("stack")
    destroy.add_argument("--endpoint", default=None)
    destroy.add_argument("--region", default=None)
    destroy.set_defaults(fn=cmd_destroy)
