"""Helpers for Lambda tests: zips in memory, functions with unique names."""

from __future__ import annotations

import io
import time
import uuid
import zipfile
from typing import Any

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def make_zip(files: dict[str, str | bytes], modes: dict[str, int] | None = None) -> bytes:
    """A zip of `files` (name → content); `modes` gives unix modes (e.g. 0o755)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = ((modes or {}).get(name, 0o644) | 0o100000) << 16
            zf.writestr(info, content)
    return buf.getvalue()


def unique(prefix: str = "fn") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create(
    lam: Any,
    code: dict[str, str | bytes],
    *,
    runtime: str = "python3.12",
    handler: str = "app.handler",
    name: str | None = None,
    modes: dict[str, int] | None = None,
    **kwargs: Any,
) -> str:
    """Create a function from source files; return its name."""
    fname = name or unique()
    lam.create_function(
        FunctionName=fname,
        Runtime=runtime,
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": make_zip(code, modes)},
        **kwargs,
    )
    return fname


def wait_for(predicate: Any, timeout: float = 20.0, interval: float = 0.1) -> Any:
    """Poll until `predicate()` returns something truthy; return it (or fail)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


def log_messages(logs: Any, group: str, pattern: str = "") -> list[str]:
    """Every message of a log group matching a filter pattern ([] if the group is missing)."""
    try:
        out = logs.filter_log_events(logGroupName=group, filterPattern=pattern)
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [e["message"] for e in out["events"]]
