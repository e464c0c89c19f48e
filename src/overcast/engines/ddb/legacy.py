"""The pre-expression parameters (Expected, AttributeUpdates, KeyConditions, QueryFilter,
ScanFilter, AttributesToGet, ConditionalOperator) rewritten into the expression AST, so one
evaluator serves both."""

from __future__ import annotations

from typing import Any

from overcast.engines.ddb.ast import (
    And,
    Between,
    Call,
    Compare,
    In,
    Literal,
    Node,
    Not,
    Or,
    Parsed,
    Path,
    UpdateAction,
)
from overcast.engines.ddb.errors import DdbValidationError
from overcast.engines.ddb.values import AttributeValue, check_value

_CMP = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}
_ARGS = {
    "EQ": 1, "NE": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1, "NOT_NULL": 0, "NULL": 0,
    "CONTAINS": 1, "NOT_CONTAINS": 1, "BEGINS_WITH": 1, "BETWEEN": 2,
}  # fmt: skip


def _bad_count(op: str) -> DdbValidationError:
    return DdbValidationError(
        f"One or more parameter values were invalid: Invalid number of argument(s) for the {op} "
        "ComparisonOperator"
    )


def _literal(v: Any) -> Literal:
    return Literal(check_value(v))


def comparison(name: str, op: str, values: list[Any]) -> Node:
    """One legacy condition `{ComparisonOperator, AttributeValueList}` on a top-level attribute."""
    path = Path((name,))
    want = _ARGS.get(op)
    if op == "IN":
        if not values:
            raise _bad_count(op)
        return In(path, tuple(_literal(v) for v in values))
    if want is None:
        raise DdbValidationError(
            f"1 validation error detected: Value '{op}' at 'comparisonOperator' failed to satisfy "
            "constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, "
            "EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
        )
    if len(values) != want:
        raise _bad_count(op)
    if op in _CMP:
        return Compare(_CMP[op], path, _literal(values[0]))
    if op == "NOT_NULL":
        return Call("attribute_exists", (path,))
    if op == "NULL":
        return Call("attribute_not_exists", (path,))
    if op == "CONTAINS":
        return Call("contains", (path, _literal(values[0])))
    if op == "NOT_CONTAINS":
        return Not(Call("contains", (path, _literal(values[0]))))
    if op == "BEGINS_WITH":
        return Call("begins_with", (path, _literal(values[0])))
    return Between(path, _literal(values[0]), _literal(values[1]))


def _join(nodes: list[Node], operator: str | None) -> Node:
    node = nodes[0]
    for n in nodes[1:]:
        node = Or(node, n) if (operator or "AND") == "OR" else And(node, n)
    return node


def expected(spec: dict[str, Any], operator: str | None) -> Parsed:
    """`Expected` (with Value/Exists or ComparisonOperator) as a condition."""
    nodes: list[Node] = []
    for name, cond in spec.items():
        if "ComparisonOperator" in cond:
            values = cond.get("AttributeValueList") or []
            if "Value" in cond and not values:
                values = [cond["Value"]]
            nodes.append(comparison(name, cond["ComparisonOperator"], values))
            continue
        exists = cond.get("Exists", True)
        if "Value" in cond:
            if exists is False:
                raise DdbValidationError(
                    "One or more parameter values were invalid: Value cannot be used when Exists "
                    "is false"
                )
            nodes.append(Compare("=", Path((name,)), _literal(cond["Value"])))
        elif exists is False:
            nodes.append(Call("attribute_not_exists", (Path((name,)),)))
        else:
            raise DdbValidationError(
                "One or more parameter values were invalid: Value must be provided when Exists is "
                "true for Attribute: " + name
            )
    if not nodes:
        return Parsed("ConditionExpression")
    return Parsed("ConditionExpression", node=_join(nodes, operator))


def filter_conditions(spec: dict[str, Any], operator: str | None) -> Parsed:
    """QueryFilter / ScanFilter as a filter condition."""
    nodes = [
        comparison(n, c["ComparisonOperator"], c.get("AttributeValueList") or [])
        for n, c in spec.items()
    ]
    return Parsed("FilterExpression", node=_join(nodes, operator) if nodes else None)


def attribute_updates(spec: dict[str, Any]) -> Parsed:
    """AttributeUpdates (PUT, ADD, DELETE with or without a value) as update actions."""
    actions: list[UpdateAction] = []
    for name, upd in spec.items():
        action = upd.get("Action", "PUT")
        path = Path((name,))
        value = upd.get("Value")
        if action == "DELETE" and value is None:
            actions.append(UpdateAction("REMOVE", path))
        elif action in ("PUT", "ADD", "DELETE"):
            if value is None:
                raise DdbValidationError(
                    "One or more parameter values were invalid: Only DELETE action is allowed when "
                    "no attribute value is specified"
                )
            verb = "SET" if action == "PUT" else action
            actions.append(UpdateAction(verb, path, _literal(value)))
    return Parsed("UpdateExpression", actions=tuple(actions))


def key_conditions(spec: dict[str, Any]) -> list[tuple[str, str, tuple[AttributeValue, ...]]]:
    """KeyConditions as (attribute, operator, values) triples for `validate.build_range`."""
    out: list[tuple[str, str, tuple[AttributeValue, ...]]] = []
    for name, cond in spec.items():
        op = cond["ComparisonOperator"]
        values = tuple(check_value(v) for v in cond.get("AttributeValueList") or [])
        if op == "BEGINS_WITH":
            mapped = "begins_with"
        elif op == "BETWEEN":
            mapped = "BETWEEN"
        elif op in _CMP and op != "NE":
            mapped = _CMP[op]
        else:
            raise DdbValidationError(
                "Attempted conditional constraint is not an indexable operation"
            )
        if len(values) != (2 if op == "BETWEEN" else 1):
            raise _bad_count(op)
        out.append((name, mapped, values))
    return out


def attributes_to_get(names: list[str]) -> list[tuple[str | int, ...]]:
    """AttributesToGet as resolved projection paths."""
    if len(set(names)) != len(names):
        raise DdbValidationError(
            "One or more parameter values were invalid: Duplicate value in attribute name: "
            + next(n for n in names if names.count(n) > 1)
        )
    return [(n,) for n in names]
