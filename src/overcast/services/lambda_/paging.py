"""Marker/NextMarker paging of ordered listings, as Lambda pages them."""

from __future__ import annotations

from typing import Any

from overcast.services.lambda_.errors import InvalidParameterValue


def marker(config: dict[str, Any]) -> str:
    return f"{config['FunctionName']}:{config['Version']}"


def page(items: list[dict[str, Any]], p: dict[str, Any], member: str, key: Any) -> dict[str, Any]:
    """Marker/NextMarker paging over an ordered list (MaxItems up to 50, as AWS)."""
    start = 0
    marker = p.get("Marker")
    if marker:
        keys = [key(i) for i in items]
        if marker in keys:
            start = keys.index(marker)
        else:
            raise InvalidParameterValue("Invalid marker")
    limit = min(int(p.get("MaxItems") or 50), 50)
    page = items[start : start + limit]
    out: dict[str, Any] = {member: [public(i) for i in page]}
    if start + limit < len(items):
        out["NextMarker"] = key(items[start + limit])
    return out


def public(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k != "ConfigSha"}
