"""Intrinsic functions, pseudo parameters and condition functions, evaluated over plain data.

`resolve(value, scope)` walks a template value and replaces every function with its result.
Values that depend on resources are asked of the scope (`ref_resource`, `get_att`); at plan time
the scope answers with `Symbolic` markers, and any function whose arguments hold one returns a
`Symbolic` itself, so that two templates can be compared before anything exists.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from overcast.engines.cfn.errors import TemplateError


class _NoValue:
    """`Ref: AWS::NoValue`: the property (or list item) disappears."""

    _instance: _NoValue | None = None

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


@dataclass(frozen=True, slots=True)
class Symbolic:
    """A value not known until the resources it names exist: `("Ref", "Table")`,
    `("Fn::GetAtt", "Fn", "Arn")`, or a function applied to such values."""

    expr: tuple[Any, ...]

    def to_json(self) -> Any:
        """A JSON-able form (for change-set details and comparisons)."""
        return {"__symbolic__": _jsonable(list(self.expr))}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Symbolic):
        return value.to_json()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if value is NO_VALUE:
        return "AWS::NoValue"
    return value


def contains_symbolic(value: Any) -> bool:
    """Whether a resolved value still holds something only known later."""
    if isinstance(value, Symbolic):
        return True
    if isinstance(value, list | tuple):
        return any(contains_symbolic(v) for v in value)
    if isinstance(value, dict):
        return any(contains_symbolic(v) for v in value.values())
    return False


def _default_azs(region: str) -> list[str]:
    return [f"{region}{suffix}" for suffix in "abc"]


def _no_resource(name: str) -> Any:
    raise TemplateError(
        f"Template format error: Unresolved resource dependencies [{name}] in the Resources "
        "block of the template"
    )


def _no_att(name: str, attribute: str) -> Any:
    raise TemplateError(
        f"Template error: instance of Fn::GetAtt references undefined resource {name}"
    )


def _no_import(name: str) -> Any:
    raise TemplateError(f"No export named {name} found.")


@dataclass(slots=True)
class Scope:
    """What intrinsic functions can see: parameters (already validated), pseudo parameters,
    mappings, evaluated conditions, the template's resources and how to read their values."""

    parameters: dict[str, Any] = field(default_factory=dict)
    pseudo: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, bool] = field(default_factory=dict)
    resources: frozenset[str] = frozenset()
    ref_resource: Callable[[str], Any] = _no_resource
    get_att: Callable[[str, str], Any] = _no_att
    import_value: Callable[[str], Any] = _no_import
    azs: Callable[[str], list[str]] = _default_azs
    # Raw condition definitions, for evaluating conditions lazily (see evaluate_conditions).
    condition_defs: dict[str, Any] = field(default_factory=dict)
    # True while evaluating the Conditions section, where {"Condition": name} names a condition.
    in_conditions: bool = False
    _evaluating: set[str] = field(default_factory=set)


def pseudo_parameters(
    *, region: str, account_id: str, stack_name: str, stack_id: str
) -> dict[str, Any]:
    """The pseudo parameters of a stack in a region (the partition and URL suffix follow it)."""
    partition = "aws-cn" if region.startswith("cn-") else "aws"
    if region.startswith("us-gov-"):
        partition = "aws-us-gov"
    return {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::StackName": stack_name,
        "AWS::StackId": stack_id,
        "AWS::Partition": partition,
        "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
        "AWS::NotificationARNs": [],
    }


def is_function(value: Any) -> bool:
    """Whether a template value is a single intrinsic-function call."""
    return (
        isinstance(value, dict)
        and len(value) == 1
        and (next(iter(value)) in _FUNCTIONS or next(iter(value)) == "Condition")
    )


def resolve(value: Any, scope: Scope) -> Any:
    """Evaluate every intrinsic function in `value`. `AWS::NoValue` removes the key or item."""
    if isinstance(value, dict):
        if len(value) == 1:
            name = next(iter(value))
            fn = _FUNCTIONS.get(name)
            if fn is not None:
                return fn(value[name], scope)
            if name == "Condition" and scope.in_conditions:
                return condition_value(value[name], scope)
        out: dict[str, Any] = {}
        for k, v in value.items():
            r = resolve(v, scope)
            if r is not NO_VALUE:
                out[k] = r
        return out
    if isinstance(value, list):
        return [r for r in (resolve(v, scope) for v in value) if r is not NO_VALUE]
    return value


def _fail(fn: str, text: str) -> TemplateError:
    return TemplateError(f"Template error: {fn} {text}")


def _ref(arg: Any, scope: Scope) -> Any:
    if not isinstance(arg, str):
        arg = resolve(arg, scope)
        if not isinstance(arg, str):
            raise TemplateError(
                "Template format error: Every Ref object must have a single String value."
            )
    if arg == "AWS::NoValue":
        return NO_VALUE
    if arg in scope.parameters:
        return scope.parameters[arg]
    if arg in scope.pseudo:
        return scope.pseudo[arg]
    if arg in scope.resources:
        return scope.ref_resource(arg)
    if arg.startswith("AWS::"):
        raise TemplateError(f"Template format error: Unrecognized parameter type: {arg}")
    return _no_resource(arg)


def _getatt(arg: Any, scope: Scope) -> Any:
    if isinstance(arg, str):
        name, _, attribute = arg.partition(".")
    elif isinstance(arg, list) and len(arg) == 2:
        name = arg[0]
        attribute = resolve(arg[1], scope)
    else:
        raise _fail("Fn::GetAtt", "requires two arguments: a resource name and an attribute")
    if not isinstance(name, str) or not isinstance(attribute, str) or not attribute:
        raise _fail("Fn::GetAtt", "requires two arguments: a resource name and an attribute")
    if name not in scope.resources:
        return _no_att(name, attribute)
    return scope.get_att(name, attribute)


_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


def _sub(arg: Any, scope: Scope) -> Any:
    if isinstance(arg, str):
        text, variables = arg, {}
    elif isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict):
        text = resolve(arg[0], scope)
        variables = {k: resolve(v, scope) for k, v in arg[1].items()}
    else:
        raise _fail("Fn::Sub", "expects a string or a list of a string and a map")
    if not isinstance(text, str):
        raise _fail("Fn::Sub", "expects a string as its first argument")
    pieces: list[Any] = []
    pos = 0
    for m in _SUB_VAR.finditer(text):
        pieces.append(text[pos : m.start()])
        pos = m.end()
        inner = m.group(1)
        if inner.startswith("!"):
            pieces.append("${" + inner[1:] + "}")  # ${!Literal} writes ${Literal}
            continue
        key = inner.strip()
        if key in variables:
            pieces.append(variables[key])
        elif key in scope.parameters or key in scope.pseudo or key in scope.resources:
            pieces.append(_ref(key, scope))
        elif "." in key and key.split(".", 1)[0] in scope.resources:
            name, attribute = key.split(".", 1)
            pieces.append(scope.get_att(name, attribute))
        else:
            raise TemplateError(
                f"Template format error: Unresolved resource dependencies [{key.split('.')[0]}] "
                "in the Resources block of the template"
            )
    pieces.append(text[pos:])
    if contains_symbolic(pieces):
        return Symbolic(("Fn::Sub", tuple(pieces)))
    out = []
    for p in pieces:
        if isinstance(p, list):
            p = ",".join(str(x) for x in p)
        elif isinstance(p, bool):
            p = "true" if p else "false"
        out.append(str(p))
    return "".join(out)


def _join(arg: Any, scope: Scope) -> Any:
    if not isinstance(arg, list) or len(arg) != 2:
        raise _fail("Fn::Join", "requires a delimiter and a list of values")
    delimiter = resolve(arg[0], scope)
    items = resolve(arg[1], scope)
    if not isinstance(delimiter, str):
        raise _fail("Fn::Join", "requires a string delimiter")
    if isinstance(items, Symbolic):
        return Symbolic(("Fn::Join", delimiter, items))
    if not isinstance(items, list):
        raise _fail("Fn::Join", "requires a list of values to join")
    if contains_symbolic(items):
        return Symbolic(("Fn::Join", delimiter, tuple(items)))
    for item in items:
        if isinstance(item, dict | list):
            raise TemplateError(
                "Template error: every Fn::Join object requires two parameters, (1) a string "
                "delimiter and (2) a list of strings to be joined or a function that returns a "
                "list of strings (such as Fn::GetAZs) to be joined."
            )
    return delimiter.join(_scalar_text(i) for i in items)


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _select(arg: Any, scope: Scope) -> Any:
    if not isinstance(arg, list) or len(arg) != 2:
        raise _fail("Fn::Select", "requires an index and a list")
    index = resolve(arg[0], scope)
    items = resolve(arg[1], scope)
    if isinstance(items, Symbolic) or contains_symbolic(index):
        return Symbolic(("Fn::Select", index, items))
    if isinstance(items, str):
        items = items.split(",")
    try:
        i = int(index)
    except (TypeError, ValueError):
        raise _fail("Fn::Select", "requires an integer index") from None
    if not isinstance(items, list):
        raise _fail("Fn::Select", "requires a list to select from")
    if i < 0 or i >= len(items):
        raise TemplateError(
            f"Template error: Fn::Select cannot select nonexistent value at index {i}"
        )
    return items[i]


def _split(arg: Any, scope: Scope) -> Any:
    if not isinstance(arg, list) or len(arg) != 2:
        raise _fail("Fn::Split", "requires a delimiter and a string")
    delimiter = resolve(arg[0], scope)
    text = resolve(arg[1], scope)
    if contains_symbolic(text):
        return Symbolic(("Fn::Split", delimiter, text))
    if not isinstance(delimiter, str) or not isinstance(text, str):
        raise _fail("Fn::Split", "requires a string delimiter and a string")
    return text.split(delimiter)


def _if(arg: Any, scope: Scope) -> Any:
    if not isinstance(arg, list) or len(arg) != 3 or not isinstance(arg[0], str):
        raise _fail("Fn::If", "requires a condition name and two values")
    chosen = arg[1] if condition_value(arg[0], scope) else arg[2]
    return resolve(chosen, scope)


def condition_value(name: str, scope: Scope) -> bool:
    """The value of a named condition, evaluating it (and what it names) on first use."""
    if name in scope.conditions:
        return scope.conditions[name]
    if name not in scope.condition_defs:
        raise TemplateError(
            f"Template format error: Unresolved dependencies [{name}]. Cannot "
            "reference resources in the Conditions block of the template"
        )
    if name in scope._evaluating:
        raise TemplateError(f"Template error: circular condition dependency on {name}")
    scope._evaluating.add(name)
    try:
        value = _as_bool(resolve(scope.condition_defs[name], scope), name)
    finally:
        scope._evaluating.discard(name)
    scope.conditions[name] = value
    return value


def _as_bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise TemplateError(f"Template error: condition {where} must evaluate to a boolean")


def _condition_arg(value: Any, scope: Scope) -> bool:
    if isinstance(value, dict) and set(value) == {"Condition"}:
        return condition_value(value["Condition"], scope)
    return _as_bool(resolve(value, scope), "argument")


def _equals(arg: Any, scope: Scope) -> bool:
    if not isinstance(arg, list) or len(arg) != 2:
        raise _fail("Fn::Equals", "requires a list of two values")
    a, b = resolve(arg[0], scope), resolve(arg[1], scope)
    return _comparable(a) == _comparable(b)


def _comparable(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _and(arg: Any, scope: Scope) -> bool:
    if not isinstance(arg, list) or not 2 <= len(arg) <= 10:
        raise _fail("Fn::And", "requires between 2 and 10 conditions")
    return all(_condition_arg(a, scope) for a in arg)


def _or(arg: Any, scope: Scope) -> bool:
    if not isinstance(arg, list) or not 2 <= len(arg) <= 10:
        raise _fail("Fn::Or", "requires between 2 and 10 conditions")
    return any(_condition_arg(a, scope) for a in arg)


def _not(arg: Any, scope: Scope) -> bool:
    if not isinstance(arg, list) or len(arg) != 1:
        raise _fail("Fn::Not", "requires a list of one condition")
    return not _condition_arg(arg[0], scope)


def _find_in_map(arg: Any, scope: Scope) -> Any:
    if not isinstance(arg, list) or len(arg) not in (3, 4):
        raise _fail("Fn::FindInMap", "requires a map name, a top-level key and a second key")
    name, top, second = (resolve(a, scope) for a in arg[:3])
    default = NO_VALUE
    if len(arg) == 4:
        extra = arg[3]
        if not isinstance(extra, dict) or "DefaultValue" not in extra:
            raise _fail("Fn::FindInMap", "accepts only a DefaultValue as fourth argument")
        default = resolve(extra["DefaultValue"], scope)
    mapping = scope.mappings.get(name) if isinstance(name, str) else None
    if mapping is None:
        if default is not NO_VALUE:
            return default
        raise TemplateError(f"Template error: Unable to get mapping for {name}::{top}::{second}")
    try:
        return mapping[str(top)][str(second)]
    except (KeyError, TypeError):
        if default is not NO_VALUE:
            return default
        raise TemplateError(
            f"Template error: Unable to get mapping for {name}::{top}::{second}"
        ) from None


def _base64(arg: Any, scope: Scope) -> Any:
    value = resolve(arg, scope)
    if contains_symbolic(value):
        return Symbolic(("Fn::Base64", value))
    if not isinstance(value, str):
        raise _fail("Fn::Base64", "requires a string")
    return base64.b64encode(value.encode()).decode()


def _get_azs(arg: Any, scope: Scope) -> Any:
    region = resolve(arg, scope)
    if not region:
        region = scope.pseudo.get("AWS::Region", "us-east-1")
    return scope.azs(str(region))


def _import_value(arg: Any, scope: Scope) -> Any:
    name = resolve(arg, scope)
    if contains_symbolic(name):
        return Symbolic(("Fn::ImportValue", name))
    if not isinstance(name, str):
        raise _fail("Fn::ImportValue", "requires a string export name")
    return scope.import_value(name)


def _cidr(arg: Any, scope: Scope) -> Any:
    if not isinstance(arg, list) or len(arg) != 3:
        raise _fail("Fn::Cidr", "requires an IP block, a count and a number of subnet bits")
    block, count, bits = (resolve(a, scope) for a in arg)
    if contains_symbolic([block, count, bits]):
        return Symbolic(("Fn::Cidr", block, count, bits))
    try:
        network = ipaddress.ip_network(str(block), strict=False)
        n, cidr_bits = int(count), int(bits)
    except ValueError as exc:
        raise _fail("Fn::Cidr", f"has an invalid argument: {exc}") from None
    prefix = network.max_prefixlen - cidr_bits
    if not 1 <= n <= 256 or prefix < network.prefixlen:
        raise _fail("Fn::Cidr", "cannot fit the requested subnets in the block")
    out = []
    for i, subnet in enumerate(network.subnets(new_prefix=prefix)):
        if i >= n:
            break
        out.append(str(subnet))
    if len(out) < n:
        raise _fail("Fn::Cidr", "cannot fit the requested subnets in the block")
    return out


def _length(arg: Any, scope: Scope) -> Any:
    value = resolve(arg, scope)
    if isinstance(value, Symbolic):
        return Symbolic(("Fn::Length", value))
    if not isinstance(value, list):
        raise _fail("Fn::Length", "requires a list")
    return len(value)


def _to_json_string(arg: Any, scope: Scope) -> Any:
    value = resolve(arg, scope)
    if contains_symbolic(value):
        return Symbolic(("Fn::ToJsonString", _jsonable(value)))
    return json.dumps(value, separators=(",", ":"))


def _transform(arg: Any, scope: Scope) -> Any:
    name = arg.get("Name") if isinstance(arg, dict) else arg
    raise TemplateError(f"Template error: Fn::Transform with macro {name} is not supported")


_FUNCTIONS: dict[str, Callable[[Any, Scope], Any]] = {
    "Ref": _ref,
    "Fn::GetAtt": _getatt,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::If": _if,
    "Fn::Equals": _equals,
    "Fn::And": _and,
    "Fn::Or": _or,
    "Fn::Not": _not,
    "Fn::FindInMap": _find_in_map,
    "Fn::Base64": _base64,
    "Fn::GetAZs": _get_azs,
    "Fn::ImportValue": _import_value,
    "Fn::Cidr": _cidr,
    "Fn::Length": _length,
    "Fn::ToJsonString": _to_json_string,
    "Fn::Transform": _transform,
}


def evaluate_conditions(definitions: dict[str, Any], scope: Scope) -> dict[str, bool]:
    """Every condition of a template, by name (conditions may name each other)."""
    scope.condition_defs = definitions
    scope.in_conditions = True
    try:
        for name in definitions:
            condition_value(name, scope)
    finally:
        scope.in_conditions = False
    return dict(scope.conditions)


def symbolic_json(value: Any) -> Any:
    """A resolved value with Symbolic markers turned into JSON-able data."""
    return _jsonable(value)
