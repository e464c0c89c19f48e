"""PatchOperations (op/path/value/from) applied to AWS-shaped dicts, as every Update* takes them."""

from __future__ import annotations

from typing import Any

from overcast.services.apigateway.errors import BadRequestException

BOOL_FIELDS = {
    "apiKeyRequired",
    "enabled",
    "validateRequestBody",
    "validateRequestParameters",
    "cacheClusterEnabled",
    "tracingEnabled",
    "disableExecuteApiEndpoint",
    "metricsEnabled",
    "dataTraceEnabled",
    "cachingEnabled",
    "requireAuthorizationForCacheControl",
    "cacheDataEncrypted",
    "generateDistinctId",
}
INT_FIELDS = {
    "timeoutInMillis",
    "authorizerResultTtlInSeconds",
    "minimumCompressionSize",
    "limit",
    "offset",
    "burstLimit",
    "throttlingBurstLimit",
    "cacheTtlInSeconds",
}
FLOAT_FIELDS = {"rateLimit", "throttlingRateLimit"}
LIST_FIELDS = {"binaryMediaTypes", "stageKeys", "providerARNs", "authorizationScopes", "types"}


def split(path: str) -> list[str]:
    """'/a/b~1c' → ['a', 'b/c'] (JSON-pointer escapes)."""
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


def convert(name: str, value: Any) -> Any:
    """A patch value (always a string on the wire) in the field's type."""
    if value is None:
        return None
    try:
        if name in BOOL_FIELDS:
            return str(value).lower() == "true"
        if name in INT_FIELDS:
            return int(value)
        if name in FLOAT_FIELDS:
            return float(value)
    except ValueError:
        raise BadRequestException(f"Invalid value '{value}' for {name}")
    return value


def apply(
    doc: dict[str, Any], ops: list[dict[str, Any]], *, allowed: set[str] | None = None
) -> None:
    """Apply patch operations in place. `allowed` limits the top-level fields that may change."""
    for op in ops or []:
        kind = op.get("op")
        parts = split(op.get("path", ""))
        if not parts or parts == [""]:
            raise BadRequestException(f"Invalid patch path {op.get('path')}")
        if allowed is not None and parts[0] not in allowed:
            raise BadRequestException(
                f"Invalid patch path '{op.get('path')}' specified for op '{kind}'. "
                f"Must be one of: [{', '.join('/' + a for a in sorted(allowed))}]"
            )
        parent: Any = doc
        for p in parts[:-1]:
            if isinstance(parent, list):
                break
            nxt = parent.get(p)
            if nxt is None:
                if kind == "remove":
                    break
                nxt = [] if p in LIST_FIELDS else {}
                parent[p] = nxt
            parent = nxt
        last = parts[-1]
        if isinstance(parent, list):
            # '/binaryMediaTypes/image~1png' addresses a list member by value.
            member = parts[len(parts) - 1]
            if kind == "add" and member not in parent:
                parent.append(member)
            elif kind == "remove" and member in parent:
                parent.remove(member)
            continue
        if kind in ("replace", "add"):
            current = parent.get(last)
            if isinstance(current, list) and kind == "add":
                current.append(op.get("value"))
            elif last in parent and kind == "add" and isinstance(current, dict):
                parent[last] = op.get("value")
            else:
                parent[last] = convert(last, op.get("value"))
            if parent[last] is None:
                parent.pop(last, None)
        elif kind == "remove":
            if isinstance(parent, dict):
                parent.pop(last, None)
        elif kind in ("copy", "move"):
            src = split(op.get("from", ""))
            holder: Any = doc
            for p in src[:-1]:
                holder = holder.get(p, {})
            value = holder.get(src[-1]) if src else None
            if kind == "move" and src:
                holder.pop(src[-1], None)
            parent[last] = value
        else:
            raise BadRequestException(f"Invalid patch operation {kind}")
