"""Template parameters: declared types and constraints, checked against the values a caller
passed (or their defaults, or the previous values of the stack), with CloudFormation's messages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from overcast.engines.cfn.errors import TemplateError

_SSM_VALUE = re.compile(r"^AWS::SSM::Parameter::Value<(.+)>$")


@dataclass(frozen=True, slots=True)
class ResolvedParameters:
    """Values as `Ref` returns them (lists for list types), the text form of each (for
    DescribeStacks), which ones are NoEcho, and which must still be read from SSM."""

    values: dict[str, Any] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)
    no_echo: frozenset[str] = frozenset()
    ssm: dict[str, str] = field(default_factory=dict)  # parameter → SSM parameter name


def is_list_type(ptype: str) -> bool:
    """Whether `Ref` on a parameter of this type gives a list."""
    inner = _SSM_VALUE.match(ptype)
    if inner:
        ptype = inner.group(1)
    return ptype.startswith("List<") or ptype == "CommaDelimitedList"


def _constraint(name: str, decl: dict[str, Any], default: str) -> TemplateError:
    description = decl.get("ConstraintDescription")
    if description:
        return TemplateError(f"Parameter '{name}' failed to satisfy constraint: {description}")
    return TemplateError(default)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check(name: str, decl: dict[str, Any], text: str) -> None:
    ptype = str(decl.get("Type", ""))
    items = [s.strip() for s in text.split(",")] if is_list_type(ptype) else [text]
    if ptype in ("Number", "List<Number>"):
        for item in items:
            if not _is_number(item):
                raise TemplateError(f"Parameter '{name}' must be a number")
    allowed = decl.get("AllowedValues")
    if allowed is not None:
        allowed_text = [str(a) for a in allowed]
        for item in items:
            if item not in allowed_text:
                raise _constraint(name, decl, f"Parameter '{name}' must be one of AllowedValues")
    pattern = decl.get("AllowedPattern")
    if pattern is not None:
        for item in items:
            if not re.fullmatch(str(pattern), item):
                raise _constraint(name, decl, f"Parameter '{name}' must match pattern {pattern}")
    if "MinLength" in decl and len(text) < int(decl["MinLength"]):
        raise _constraint(
            name, decl, f"Parameter '{name}' must contain at least {decl['MinLength']} characters"
        )
    if "MaxLength" in decl and len(text) > int(decl["MaxLength"]):
        raise _constraint(
            name, decl, f"Parameter '{name}' must contain at most {decl['MaxLength']} characters"
        )
    for item in items:
        if "MinValue" in decl and _is_number(item) and float(item) < float(decl["MinValue"]):
            raise _constraint(
                name, decl, f"Parameter '{name}' must be a number not less than {decl['MinValue']}"
            )
        if "MaxValue" in decl and _is_number(item) and float(item) > float(decl["MaxValue"]):
            raise _constraint(
                name,
                decl,
                f"Parameter '{name}' must be a number not greater than {decl['MaxValue']}",
            )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return str(value)


def resolve_parameters(
    declarations: dict[str, Any],
    given: dict[str, str],
    *,
    use_previous: frozenset[str] = frozenset(),
    previous: dict[str, str] | None = None,
) -> ResolvedParameters:
    """Check the caller's values against the declarations; defaults fill the gaps.

    `use_previous` names parameters that keep the stack's previous value (UsePreviousValue).
    """
    previous = previous or {}
    unknown = [k for k in given if k not in declarations]
    if unknown:
        raise TemplateError(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    values: dict[str, Any] = {}
    texts: dict[str, str] = {}
    no_echo: set[str] = set()
    ssm: dict[str, str] = {}
    missing: list[str] = []
    for name, decl in declarations.items():
        if not isinstance(decl, dict) or "Type" not in decl:
            raise TemplateError(
                f"Template format error: Every Parameters object must contain a "
                f"Type member. [{name}]"
            )
        if name in given:
            text = _text(given[name])
        elif name in use_previous and name in previous:
            text = previous[name]
        elif "Default" in decl:
            text = _text(decl["Default"])
        else:
            missing.append(name)
            continue
        ptype = str(decl["Type"])
        ssm_type = _SSM_VALUE.match(ptype)
        if ssm_type:
            ssm[name] = text
        else:
            _check(name, decl, text)
        texts[name] = text
        if is_list_type(ptype):
            values[name] = [s.strip() for s in text.split(",")] if text else []
        else:
            values[name] = text
        if str(decl.get("NoEcho", "false")).lower() == "true":
            no_echo.add(name)
    if missing:
        raise TemplateError(f"Parameters: [{', '.join(missing)}] must have values")
    return ResolvedParameters(values, texts, frozenset(no_echo), ssm)


def with_ssm_values(
    resolved: ResolvedParameters, ssm_values: dict[str, str], declarations: dict[str, Any]
) -> ResolvedParameters:
    """The parameters once SSM-typed ones have been read (`ssm_values`: parameter → value)."""
    values = dict(resolved.values)
    for name, value in ssm_values.items():
        ptype = str(declarations[name]["Type"])
        values[name] = value.split(",") if is_list_type(ptype) else value
    return ResolvedParameters(values, dict(resolved.text), resolved.no_echo, dict(resolved.ssm))
