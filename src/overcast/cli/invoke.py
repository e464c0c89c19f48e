"""`overcast invoke FUNCTION [--payload JSON]`: invoke a function through the Lambda API (boto3
against the endpoint) and print its result, then the REPORT line of its log."""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from typing import Any


def client(service: str, endpoint: str) -> Any:
    """A boto3 client for Overcast at `endpoint`, with test credentials unless set."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "us-east-1",
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        aws_session_token=os.environ.get("AWS_SESSION_TOKEN"),
    )


def endpoint_of(args: argparse.Namespace) -> str:
    return args.endpoint or os.environ.get("OVERCAST_ENDPOINT") or "http://127.0.0.1:4566"


def cmd_invoke(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    payload = args.payload if args.payload is not None else "{}"
    try:
        json.loads(payload)
    except ValueError as exc:
        print(f"--payload is not JSON: {exc}", file=sys.stderr)
        return 2
    kwargs: dict[str, Any] = {
        "FunctionName": args.function,
        "Payload": payload.encode(),
        "LogType": "Tail",
    }
    if args.qualifier:
        kwargs["Qualifier"] = args.qualifier
    try:
        resp = client("lambda", endpoint_of(args)).invoke(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    body = resp["Payload"].read().decode("utf-8", "replace")
    try:
        print(json.dumps(json.loads(body), indent=2))
    except ValueError:
        print(body)
    log = base64.b64decode(resp.get("LogResult") or "").decode("utf-8", "replace")
    report = [line for line in log.splitlines() if line.startswith("REPORT ")]
    if report:
        print(report[-1].rstrip("\t").replace("\t", "  "), file=sys.stderr)
    return 1 if resp.get("FunctionError") else 0


def register(sub: Any) -> None:
    """Add the `invoke` subcommand."""
    p = sub.add_parser("invoke", help="invoke a Lambda function and print its result")
    p.add_argument("function", help="function name or ARN")
    p.add_argument("--payload", default=None, help="the event, as JSON (default {})")
    p.add_argument("--qualifier", default=None, help="version or alias")
    p.add_argument("--endpoint", default=None, help="Overcast's URL (default OVERCAST_ENDPOINT)")
    p.set_defaults(fn=cmd_invoke)
