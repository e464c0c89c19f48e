"""What every resource handler is: a small class per resource type with create/update/delete that
acts only through `ResourceContext.call` (dispatcher.call: another service's operation, by name)."""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from overcast.core.errors import ServiceError

Call = Callable[[str, str, dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class ResourceContext:
    """Where a resource lives and how to reach the services that hold it."""

    call: Call
    stack_name: str
    stack_id: str
    logical_id: str
    account_id: str
    region: str
    endpoint: str
    tags: tuple[tuple[str, str], ...] = ()

    def physical_name(self, max_length: int = 64, lower: bool = False, sep: str = "-") -> str:
        """A generated name as CloudFormation makes them: stack-logical-RANDOM, cut to fit."""
        suffix = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(12))
        head = f"{self.stack_name}{sep}{self.logical_id}"
        room = max_length - len(suffix) - 1
        name = f"{head[:room]}{sep}{suffix}"
        return name.lower() if lower else name

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{self.account_id}:{resource}"

    def stack_tags(self) -> list[dict[str, str]]:
        """The tags CloudFormation adds to what it creates, plus the stack's own tags."""
        tags = [
            {"Key": "aws:cloudformation:stack-name", "Value": self.stack_name},
            {"Key": "aws:cloudformation:stack-id", "Value": self.stack_id},
            {"Key": "aws:cloudformation:logical-id", "Value": self.logical_id},
        ]
        return tags + [{"Key": k, "Value": v} for k, v in self.tags]


@dataclass(frozen=True, slots=True)
class Result:
    """What a create or update produced: the physical id, what `Ref` returns (None: the physical
    id), and the attributes `Fn::GetAtt` can read."""

    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    ref: str | None = None


class ResourceError(Exception):
    """A resource operation failed; the message becomes the event's status reason."""


class ResourceHandler:
    """One resource type. Subclasses set TYPE and implement create/delete (and update when the
    type can change in place; the default replaces nothing and re-runs `create` semantics only
    where the subclass says so)."""

    TYPE: str = ""

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        raise NotImplementedError

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        """Change the resource in place (called only when no replacing property changed)."""
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        raise NotImplementedError


# -- helpers shared by handlers ----------------------------------------------------------------


async def ignore_missing(awaitable: Awaitable[Any], *codes: str) -> Any:
    """Await a delete-like call; a 'not found' error means it is already gone."""
    try:
        return await awaitable
    except ServiceError as exc:
        if exc.code in codes or exc.status == 404 or "NotFound" in exc.code:
            return None
        raise


def as_int(value: Any) -> int | None:
    """A template number (ints, or strings from Ref) as an int."""
    if value is None or value == "":
        return None
    return int(float(value))


def as_bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"


def as_json_text(value: Any) -> str:
    """A policy document or schema given as an object or as text, as text."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def changed(old: dict[str, Any], new: dict[str, Any], *names: str) -> bool:
    """Whether any of the named properties differs between the old and new properties."""
    return any(old.get(n) != new.get(n) for n in names)


def pick(props: dict[str, Any], *names: str) -> dict[str, Any]:
    """The named properties that are present."""
    return {n: props[n] for n in names if n in props and props[n] is not None}


def tags_list(props: dict[str, Any], rc: ResourceContext | None = None) -> list[dict[str, str]]:
    """Tags given as a list of Key/Value (plus the stack tags), in the list form."""
    tags = [{"Key": str(t["Key"]), "Value": str(t["Value"])} for t in props.get("Tags") or []]
    if rc is not None:
        keys = {t["Key"] for t in tags}
        tags += [t for t in rc.stack_tags() if t["Key"] not in keys]
    return tags


def tags_map(props: dict[str, Any], rc: ResourceContext | None = None) -> dict[str, str]:
    """Tags as a map (services such as Lambda and API Gateway take them so)."""
    raw = props.get("Tags") or {}
    if isinstance(raw, list):
        out = {str(t["Key"]): str(t["Value"]) for t in raw}
    else:
        out = {str(k): str(v) for k, v in raw.items()}
    if rc is not None:
        for t in rc.stack_tags():
            out.setdefault(t["Key"], t["Value"])
    return out


_ARN_NAME = re.compile(r"^arn:[^:]+:[^:]+:[^:]*:[^:]*:(?:[a-z-]+[:/])?(.+)$")


def name_from_arn(value: str) -> str:
    """The last segment of an ARN (a function name from a function ARN), or the value itself."""
    if value.startswith("arn:"):
        m = _ARN_NAME.match(value)
        if m:
            return m.group(1).split(":")[0]
    return value
