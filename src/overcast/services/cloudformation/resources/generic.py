"""Data-driven handlers for the resource types that map their properties onto one create, one
update and one delete operation. Each such type is one `Spec` row (operations, the parameters
that locate it, property → parameter mapping, where its physical id and attributes come from);
one `SpecHandler` class serves them all. Types with more to do stay as code (or subclass it)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from overcast.services.cloudformation.resources.base import (
    ResourceContext,
    ResourceHandler,
    Result,
    as_bool,
    as_int,
    ignore_missing,
    tags_map,
)

Conv = Callable[[Any], Any]


def same(value: Any) -> Any:
    """The property as given."""
    return value


def text(value: Any) -> str:
    """The property as a string (template numbers and Refs arrive as either)."""
    return str(value)


def flag(value: Any) -> bool:
    """The property as a boolean ("true"/"false" strings included)."""
    return bool(as_bool(value))


def str_map(value: dict[str, Any]) -> dict[str, str]:
    """A map whose values the API wants as strings (stage variables, templates)."""
    return {k: str(v) for k, v in value.items()}


def camel(name: str) -> str:
    """A property name as the lower-camel parameter name (API Gateway's REST API, Logs)."""
    return name[:1].lower() + name[1:]


@dataclass(frozen=True, slots=True)
class Param:
    """One property → one parameter. An absent property sends `default` (None: nothing);
    `truthy` treats empty values as absent; `required` fails on a missing property."""

    prop: str
    name: str = ""
    conv: Conv = same
    default: Any = None
    truthy: bool = False
    required: bool = False

    def put(self, props: dict[str, Any], out: dict[str, Any]) -> None:
        """Add this parameter to `out` from `props`."""
        value = props[self.prop] if self.required else props.get(self.prop)
        if value is None or (self.truthy and not value):
            if self.default is None:
                return
            value = copy.deepcopy(self.default)
        out[self.name or self.prop] = self.conv(value)


def key(prop: str, name: str = "") -> Param:
    """A property that must be present, as a string (parent ids, names)."""
    return Param(prop, name, text, required=True)


def camel_params(*props: str, conv: Conv = same) -> tuple[Param, ...]:
    """Properties sent under their lower-camel names when present."""
    return tuple(Param(p, camel(p), conv) for p in props)


def build(props: dict[str, Any], params: tuple[Param, ...]) -> dict[str, Any]:
    """The parameters `params` takes from `props`."""
    out: dict[str, Any] = {}
    for p in params:
        p.put(props, out)
    return out


def patch_ops(
    old: dict[str, Any], new: dict[str, Any], fields: dict[str, str]
) -> list[dict[str, str]]:
    """API Gateway replace operations for the changed top-level fields (property → patch path)."""
    ops = []
    for prop, path in fields.items():
        if old.get(prop) != new.get(prop):
            value = new.get(prop)
            if value is None:
                shown = ""
            elif isinstance(value, bool):
                shown = str(value).lower()
            else:
                shown = str(value)
            ops.append({"op": "replace", "path": path, "value": shown})
    return ops


async def follow_int(
    rc: ResourceContext,
    service: str,
    key: dict[str, Any],
    change: tuple[dict[str, Any], dict[str, Any], str],
    put: tuple[str, str],
    clear: str,
) -> None:
    """Carry a changed integer property (`change`: old props, new props, name) to the service:
    `put` (operation, parameter) when it has a value, the `clear` operation when it is gone."""
    old, new, prop = change
    if old.get(prop) == new.get(prop):
        return
    if new.get(prop) is None:
        await rc.call(service, clear, key)
    else:
        await rc.call(service, put[0], {**key, put[1]: as_int(new[prop])})


@dataclass(frozen=True, slots=True)
class Made:
    """What a create (or update) saw: the operation's output, the properties and the name."""

    out: dict[str, Any]
    props: dict[str, Any]
    name: str
    rc: ResourceContext


Getter = Callable[[Made], Any]


def member(name: str) -> Getter:
    """An attribute read from the operation's output."""
    return lambda m: m.out[name]


def the_id(m: Made) -> Any:
    """The `id` member of the output (API Gateway's REST resources name their ids so)."""
    return m.out["id"]


def the_name(m: Made) -> Any:
    """The name the handler chose (given or generated)."""
    return m.name


@dataclass(frozen=True, slots=True)
class Name:
    """A name parameter: the property's value, or one made up as CloudFormation does."""

    param: str
    prop: str
    make: Callable[[ResourceContext], str]


@dataclass(frozen=True, slots=True)
class Spec:
    """One simple resource type. `keys` locate it (sent to create, update and delete); `params`
    complete create's (and a whole update's) parameters; update either sends `patch` operations
    (property → path) or, with `patch` None, resends all parameters (plus `update_defaults` for
    properties that were removed). `id_param` carries the physical id to update and delete."""

    type: str
    service: str
    create: str
    delete: str
    missing: tuple[str, ...]
    keys: tuple[Param, ...] = ()
    params: tuple[Param, ...] = ()
    name: Name | None = None
    physical: Getter = the_id
    attributes: dict[str, Getter] = field(default_factory=dict)
    id_param: str = ""
    update: str = ""
    patch: dict[str, str] | None = None
    update_defaults: dict[str, Any] = field(default_factory=dict)
    update_attributes: bool = False
    tags: str = ""


class SpecHandler(ResourceHandler):
    """The handler for every `Spec` row; subclasses add what one type does beyond it."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.TYPE = spec.type

    def keys(self, props: dict[str, Any]) -> dict[str, Any]:
        """The parameters that locate the resource."""
        return build(props, self.spec.keys)

    def params(self, props: dict[str, Any]) -> dict[str, Any]:
        """All the parameters the properties give (without the name)."""
        return {**self.keys(props), **build(props, self.spec.params)}

    def patch_ops(self, old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, str]]:
        """The patch operations for an update (overridden for nested fields)."""
        return patch_ops(old, new, self.spec.patch or {})

    def _result(self, made: Made) -> Result:
        attrs = {k: get(made) for k, get in self.spec.attributes.items()}
        return Result(str(self.spec.physical(made)), attrs)

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        spec = self.spec
        params = self.params(props)
        name = ""
        if spec.name is not None:
            given = props.get(spec.name.prop) if spec.name.prop else None
            name = str(given or spec.name.make(rc))
            params[spec.name.param] = name
        if spec.tags:
            tags = tags_map(props)
            if tags:
                params[spec.tags] = tags
        out = await rc.call(spec.service, spec.create, params)
        return self._result(Made(out, props, name, rc))

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        spec = self.spec
        if not spec.update:
            return Result(physical_id, attributes)
        if spec.patch is not None:
            ops = self.patch_ops(old, new)
            if not ops:
                return Result(physical_id, attributes)
            params = {**self.keys(new), spec.id_param: physical_id, "patchOperations": ops}
        else:
            params = self.params(new)
            for k, v in spec.update_defaults.items():
                params.setdefault(k, copy.deepcopy(v))
            if spec.id_param:
                params[spec.id_param] = physical_id
        out = await rc.call(spec.service, spec.update, params)
        if spec.update_attributes:
            return Result(physical_id, self._result(Made(out, new, physical_id, rc)).attributes)
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        spec = self.spec
        params = self.keys(props)
        if spec.id_param:
            params[spec.id_param] = physical_id
        await ignore_missing(rc.call(spec.service, spec.delete, params), *spec.missing)
