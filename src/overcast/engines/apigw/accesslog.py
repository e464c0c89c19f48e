"""Stage access logs: a format with $context variables → one log line per request."""

from __future__ import annotations

import json
import re
from typing import Any

_VAR = re.compile(r"\$context\.([A-Za-z0-9_.]+)|\$\{context\.([A-Za-z0-9_.]+)\}")


def _lookup(context: dict[str, Any], name: str) -> Any:
    cur: Any = context
    for part in name.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def render_access_log(fmt: str, context: dict[str, Any]) -> str:
    """The line for one request: each $context.x replaced by its value ('-' when unset).

    Inside a JSON format a value lands between quotes, so it is JSON-escaped."""
    json_like = fmt.lstrip().startswith("{")

    def sub(m: re.Match[str]) -> str:
        value = _lookup(context, m.group(1) or m.group(2))
        if value is None or value == "":
            return "-"
        text = value if isinstance(value, str) else json.dumps(value)
        return json.dumps(text)[1:-1] if json_like else text

    return _VAR.sub(sub, fmt)


def log_group_of(destination_arn: str) -> str | None:
    """arn:aws:logs:region:account:log-group:NAME[:*] → NAME."""
    parts = destination_arn.split(":")
    if len(parts) >= 7 and parts[2] == "logs" and parts[5] == "log-group":
        return parts[6]
    return None
