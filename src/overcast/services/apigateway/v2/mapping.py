"""HTTP API parameter mapping: change the request an HTTP_PROXY integration receives
(append/overwrite/remove headers and query strings, overwrite the path) and the response a
client gets (headers and status code), with $request, $context, $stageVariables and $response
values."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

_VAR = re.compile(r"\$(request|context|stageVariables|response)\.([A-Za-z0-9_.\-\[\]*]+)|\$\{"
                  r"(request|context|stageVariables|response)\.([^}]+)\}")  # fmt: skip


def _json_path(body: bytes, path: str) -> str:
    try:
        cur: Any = json.loads(body or b"null")
    except ValueError:
        return ""
    for part in path.lstrip("$.").split("."):
        if not part:
            continue
        if isinstance(cur, dict):
            cur = cur.get(part)
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return ""
    if cur is None:
        return ""
    return cur if isinstance(cur, str) else json.dumps(cur)


def resolve(value: str, sources: dict[str, Any]) -> str:
    """A mapping value with its $request.*, $context.*, $stageVariables.* and $response.*
    references filled in (unknown ones become empty)."""

    def sub(m: re.Match[str]) -> str:
        kind = m.group(1) or m.group(3)
        name = m.group(2) or m.group(4)
        if kind == "stageVariables":
            return str(sources["stage_variables"].get(name, ""))
        if kind == "context":
            cur: Any = sources["context"]
            for part in name.split("."):
                cur = cur.get(part) if isinstance(cur, dict) else None
            return "" if cur is None else str(cur)
        where, _, key = name.partition(".")
        if kind == "request":
            if name == "path":
                return str(sources["path"])
            if where == "header":
                return str(sources["headers"].get(key.lower(), ""))
            if where == "querystring":
                return str(sources["query"].get(key, ""))
            if where == "path":
                return str(sources["path_params"].get(key, ""))
            if where == "body":
                return _json_path(sources["body"], key)
        if kind == "response":
            if where == "header":
                return str(sources.get("response_headers", {}).get(key.lower(), ""))
            if where == "body":
                return _json_path(sources.get("response_body", b""), key)
        return ""

    return _VAR.sub(sub, value)


def map_request(
    mapping: dict[str, str],
    headers: list[tuple[str, str]],
    path: str,
    query: str,
    sources: dict[str, Any],
) -> tuple[list[tuple[str, str]], str, str]:
    """Apply RequestParameters; returns (headers, path, query string)."""
    pairs = parse_qsl(query, keep_blank_values=True)
    for key, raw in mapping.items():
        action, _, target = key.partition(":")
        value = resolve(raw, sources)
        if target == "path":
            if action == "overwrite":
                path = value if value.startswith("/") else "/" + value
            continue
        where, _, name = target.partition(".")
        if where == "header":
            lname = name.lower()
            if action in ("overwrite", "remove"):
                headers = [(k, v) for k, v in headers if k.lower() != lname]
            if action in ("overwrite", "append"):
                headers.append((name, value))
        elif where == "querystring":
            if action in ("overwrite", "remove"):
                pairs = [(k, v) for k, v in pairs if k != name]
            if action in ("overwrite", "append"):
                pairs.append((name, value))
    return headers, path, urlencode(pairs)


def map_response(
    mapping: dict[str, dict[str, str]],
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
    sources: dict[str, Any],
) -> tuple[int, list[tuple[str, str]]]:
    """Apply ResponseParameters for the integration's status code; returns (status, headers)."""
    chosen = mapping.get(str(status))
    if not chosen:
        return status, headers
    sources = {**sources, "response_headers": {k.lower(): v for k, v in headers},
               "response_body": body}  # fmt: skip
    for key, raw in chosen.items():
        action, _, target = key.partition(":")
        value = resolve(raw, sources)
        if target == "statuscode" and action == "overwrite" and value.isdigit():
            status = int(value)
            continue
        where, _, name = target.partition(".")
        if where != "header":
            continue
        lname = name.lower()
        if action in ("overwrite", "remove"):
            headers = [(k, v) for k, v in headers if k.lower() != lname]
        if action in ("overwrite", "append"):
            headers.append((name, value))
    return status, headers
