"""Request-level checks of expressions against ExpressionAttributeNames/Values (undefined, unused,
empty), and the analysis of a KeyConditionExpression into a key range."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from overcast.engines.ddb.ast import And, Between, Call, Compare, Node, Parsed, Path, ValueRef
from overcast.engines.ddb.errors import DdbValidationError, InvalidExpression, invalid_params
from overcast.engines.ddb.evaluate import Scope
from overcast.engines.ddb.values import AttributeValue, check_value

_NAME_KEY = re.compile(r"#[A-Za-z0-9_]+")
_VALUE_KEY = re.compile(r":[A-Za-z0-9_]+")


def check_scope(
    params: dict[str, Any], parsed: list[Parsed], legacy: list[str] | None = None
) -> Scope:
    """Check ExpressionAttributeNames/Values against the request's parsed expressions and return
    the scope (values normalised). Raises AWS's errors for undefined and unused entries."""
    names = params.get("ExpressionAttributeNames")
    values = params.get("ExpressionAttributeValues")
    if names is not None and not parsed:
        raise DdbValidationError(
            "ExpressionAttributeNames can only be specified when using expressions"
        )
    if values is not None and not parsed:
        raise DdbValidationError(
            "ExpressionAttributeValues can only be specified when using expressions"
        )
    if names is not None and not names:
        raise DdbValidationError("ExpressionAttributeNames must not be empty")
    if values is not None and not values:
        raise DdbValidationError("ExpressionAttributeValues must not be empty")
    names = names or {}
    values = values or {}
    for k in names:
        if not _NAME_KEY.fullmatch(k):
            raise DdbValidationError(
                f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{k}"'
            )
    for k in values:
        if not _VALUE_KEY.fullmatch(k):
            raise DdbValidationError(
                f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{k}"'
            )
    used_names: set[str] = set()
    used_values: set[str] = set()
    for p in parsed:
        for used, defined, noun, where in (
            (p.names, names, "name", "used in the document path"),
            (p.values, values, "value", "used in expression"),
        ):
            for n in used:
                if n not in defined:
                    raise InvalidExpression(
                        p.kind,
                        f"An expression attribute {noun} {where} is not defined; "
                        f"attribute {noun}: {n}",
                    )
        used_names |= p.names
        used_values |= p.values
    unused = [n for n in names if n not in used_names]
    if unused:
        raise DdbValidationError(
            "Value provided in ExpressionAttributeNames unused in expressions: "
            f"keys: {{{', '.join(unused)}}}"
        )
    unused = [v for v in values if v not in used_values]
    if unused:
        raise DdbValidationError(
            "Value provided in ExpressionAttributeValues unused in expressions: "
            f"keys: {{{', '.join(unused)}}}"
        )
    checked: dict[str, AttributeValue] = {}
    for k, v in values.items():
        try:
            checked[k] = check_value(v)
        except DdbValidationError as e:
            raise DdbValidationError(
                f"ExpressionAttributeValues contains invalid value: {e.message} for key {k}"
            ) from None
    return Scope(names, checked)


def no_mixing(params: dict[str, Any], legacy: list[str], modern: list[str]) -> None:
    """AWS refuses a request that uses both expression and legacy parameters."""
    old = [k for k in legacy if params.get(k) is not None]
    new = [k for k in modern if params.get(k) is not None]
    if old and new:
        raise DdbValidationError(
            "Can not use both expression and non-expression parameters in the same request: "
            f"Non-expression parameters: {{{', '.join(old)}}} "
            f"Expression parameters: {{{', '.join(new)}}}"
        )


@dataclass(frozen=True, slots=True)
class KeyRange:
    """What a key condition selects: a partition, and optionally a sort key condition."""

    hash_value: AttributeValue
    sort_op: str | None = None  # = < <= > >= BETWEEN begins_with
    sort_values: tuple[AttributeValue, ...] = ()


def _side(node: Node, scope: Scope) -> tuple[str | None, AttributeValue | None]:
    if isinstance(node, Path):
        if len(node.parts) != 1 or not isinstance(node.parts[0], str):
            raise InvalidExpression(
                "KeyConditionExpression", "Key conditions must refer to top-level key attributes"
            )
        return scope.name(node.parts[0]), None
    if isinstance(node, ValueRef):
        return None, scope.values[node.name]
    raise DdbValidationError("Query key condition not supported")


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}


def key_range(
    parsed: Parsed, scope: Scope, hash_key: tuple[str, str], range_key: tuple[str, str] | None
) -> KeyRange:
    """Analyse a KeyConditionExpression for a key schema ((name, type) pairs)."""
    conds: list[tuple[str, str, tuple[AttributeValue, ...]]] = []

    def walk(node: Node) -> None:
        if isinstance(node, And):
            walk(node.left)
            walk(node.right)
            return
        if isinstance(node, Compare):
            if node.op == "<>":
                raise DdbValidationError("Unsupported operator in KeyConditionExpression: <>")
            ln, lv = _side(node.left, scope)
            rn, rv = _side(node.right, scope)
            if ln is not None and rv is not None:
                conds.append((ln, node.op, (rv,)))
            elif rn is not None and lv is not None:
                conds.append((rn, _FLIP[node.op], (lv,)))
            else:
                raise DdbValidationError("Query key condition not supported")
            return
        if isinstance(node, Between):
            name, _ = _side(node.operand, scope)
            _, lo = _side(node.low, scope)
            _, hi = _side(node.high, scope)
            if name is None or lo is None or hi is None:
                raise DdbValidationError("Query key condition not supported")
            conds.append((name, "BETWEEN", (lo, hi)))
            return
        if isinstance(node, Call) and node.name == "begins_with":
            name, _ = _side(node.args[0], scope)
            _, v = _side(node.args[1], scope)
            if name is None or v is None:
                raise DdbValidationError("Query key condition not supported")
            conds.append((name, "begins_with", (v,)))
            return
        if isinstance(node, Call):
            raise InvalidExpression(
                "KeyConditionExpression",
                f"Invalid function name; function: {node.name}",
            )
        raise DdbValidationError("Query key condition not supported")

    walk(parsed.node)  # type: ignore[arg-type]
    return build_range(conds, hash_key, range_key)


def build_range(
    conds: list[tuple[str, str, tuple[AttributeValue, ...]]],
    hash_key: tuple[str, str],
    range_key: tuple[str, str] | None,
) -> KeyRange:
    """Check a list of (attribute, operator, values) key conditions against the key schema."""
    hname, htype = hash_key
    hash_conds = [c for c in conds if c[0] == hname]
    others = [c for c in conds if c[0] != hname]
    if not hash_conds:
        raise DdbValidationError(f"Query condition missed key schema element: {hname}")
    if len(conds) > 2 or len(hash_conds) > 1:
        raise DdbValidationError("KeyConditionExpressions must only contain one condition per key")
    _, op, vals = hash_conds[0]
    if op != "=":
        raise DdbValidationError("Query key condition not supported")
    if htype not in vals[0]:
        raise invalid_params("Condition parameter type does not match schema type")
    if not others:
        return KeyRange(vals[0])
    name, sop, svals = others[0]
    if range_key is None or name != range_key[0]:
        raise DdbValidationError(
            f"Query condition missed key schema element: {range_key[0] if range_key else name}"
        )
    rtype = range_key[1]
    for v in svals:
        if rtype not in v:
            if sop == "begins_with" and "N" in v:
                raise InvalidExpression(
                    "KeyConditionExpression",
                    "Incorrect operand type for operator or function; operator or function: "
                    "begins_with, operand type: N",
                )
            raise invalid_params("Condition parameter type does not match schema type")
    if sop == "begins_with" and rtype == "N":
        raise InvalidExpression(
            "KeyConditionExpression",
            "Incorrect operand type for operator or function; operator or function: "
            "begins_with, operand type: N",
        )
    return KeyRange(vals[0], sop, svals)
