"""`overcast logs FUNCTION [--follow]`: print a function's log (/aws/lambda/FUNCTION) from
CloudWatch Logs, and with --follow keep printing new events as they arrive."""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

from overcast.cli.invoke import client, endpoint_of

_SINCE = re.compile(r"^(\d+)([smhd])$")


def _since_ms(text: str) -> int:
    m = _SINCE.match(text)
    if not m:
        raise argparse.ArgumentTypeError("use a duration like 30s, 10m, 2h or 1d")
    seconds = int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    return int((time.time() - seconds) * 1000)


def _print(event: dict[str, Any]) -> None:
    stamp = datetime.fromtimestamp(event["timestamp"] / 1000, UTC).strftime("%H:%M:%S.%f")[:-3]
    print(f"{stamp}  {event['message'].rstrip()}", flush=True)


def cmd_logs(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    logs = client("logs", endpoint_of(args))
    group = args.function if args.function.startswith("/") else f"/aws/lambda/{args.function}"
    start = _since_ms(args.since)
    seen: set[str] = set()
    try:
        while True:
            token = None
            newest = start
            while True:
                kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start}
                if args.filter:
                    kwargs["filterPattern"] = args.filter
                if token:
                    kwargs["nextToken"] = token
                try:
                    page = logs.filter_log_events(**kwargs)
                except logs.exceptions.ResourceNotFoundException:
                    if not args.follow:
                        print(f"No log group {group} (has the function run yet?)", file=sys.stderr)
                        return 1
                    page = {"events": []}
                for event in page["events"]:
                    if event["eventId"] not in seen:
                        seen.add(event["eventId"])
                        _print(event)
                    newest = max(newest, event["timestamp"])
                token = page.get("nextToken")
                if not token:
                    break
            if not args.follow:
                return 0
            start = newest
            time.sleep(1.0)
    except (ClientError, BotoCoreError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


def register(sub: Any) -> None:
    """Add the `logs` subcommand."""
    p = sub.add_parser("logs", help="print a Lambda function's log (CloudWatch Logs)")
    p.add_argument("function", help="function name (or a log group name starting with /)")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    p.add_argument("--since", default="1d", help="how far back to start, e.g. 10m (default 1d)")
    p.add_argument("--filter", default=None, help="a CloudWatch Logs filter pattern")
    p.add_argument("--endpoint", default=None, help="Overcast's URL (default OVERCAST_ENDPOINT)")
    p.set_defaults(fn=cmd_logs)
