"""`overcast` entry point: parses the command line and runs one command."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request

from rich.console import Console
from rich.table import Table

from overcast import __version__
from overcast.cli import deploy, invoke, logs


def _endpoint(args: argparse.Namespace) -> str:
    return args.endpoint or os.environ.get("OVERCAST_ENDPOINT") or "http://127.0.0.1:4566"


def cmd_up(args: argparse.Namespace) -> int:
    from overcast.app import Settings, serve

    settings = Settings.from_env(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        strict_auth=True if args.strict_auth else None,
        log_requests=False if args.quiet else None,
    )
    serve(settings)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    console = Console()
    url = _endpoint(args) + "/_overcast/health"
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            health = json.loads(resp.read())
    except (urllib.error.URLError, OSError) as exc:
        console.print(f"[red]Overcast is not reachable at {_endpoint(args)}[/red]: {exc}")
        return 1
    console.print(f"Overcast {health['version']} at {_endpoint(args)}")
    table = Table("service", "state")
    for name, state in sorted(health["services"].items()):
        colour = "green" if state == "running" else "dim"
        table.add_row(name, f"[{colour}]{state}[/{colour}]")
    console.print(table)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="overcast", description="The AWS serverless stack, local."
    )
    parser.add_argument("--version", action="version", version=f"overcast {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start Overcast in the foreground")
    up.add_argument(
        "--host", default=None, help="address to bind (default 127.0.0.1; OVERCAST_HOST)"
    )
    up.add_argument("--port", type=int, default=None, help="port (default 4566; OVERCAST_PORT)")
    up.add_argument(
        "--data-dir", default=None, help="where state lives (default .overcast; OVERCAST_DATA_DIR)"
    )
    up.add_argument(
        "--strict-auth", action="store_true", help="reject unknown keys and bad signatures"
    )
    up.add_argument("--quiet", action="store_true", help="no log line per request")
    up.set_defaults(fn=cmd_up)

    status = sub.add_parser("status", help="show whether Overcast runs, and each service's state")
    status.add_argument("--endpoint", default=None)
    status.set_defaults(fn=cmd_status)
    deploy.register(sub)
    invoke.register(sub)
    logs.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.fn(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
