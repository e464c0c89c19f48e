"""Evaluation over items: document paths, conditions and projections.

`Scope` carries one request's ExpressionAttributeNames and Values (already checked by `validate`).
Conditions follow DynamoDB: comparing with a missing attribute or across types is false (`<>` true),
ordering works only on S, N and B.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from overcast.engines.ddb.ast import (
    And,
    Arith,
    Between,
    Call,
    Compare,
    In,
    Literal,
    Node,
    Not,
    Or,
    Path,
    ValueRef,
)
from overcast.engines.ddb.errors import DdbValidationError, InvalidExpression
from overcast.engines.ddb.values import AttributeValue, Item, equal

_EMPTY: dict[str, Any] = {}
VALID_TYPES = ("S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M")


class Scope:
    """Names and values of one request."""

    __slots__ = ("names", "values")

    def __init__(
        self, names: dict[str, str] | None = None, values: dict[str, AttributeValue] | None = None
    ) -> None:
        self.names = names or _EMPTY
        self.values = values or _EMPTY

    def name(self, part: str) -> str:
        """The attribute name a path element stands for."""
        if part[0] == "#":
            return self.names[part]
        return part

    def resolve(self, path: Path) -> tuple[str | int, ...]:
        """A path with #refs replaced by the real names."""
        return tuple(self.name(p) if isinstance(p, str) else p for p in path.parts)


def get_path(item: Item, parts: tuple[str | int, ...]) -> AttributeValue | None:
    """The value at a resolved document path, or None if any step is missing."""
    first = parts[0]
    cur: Any = item.get(first) if isinstance(first, str) else None
    for p in parts[1:]:
        if cur is None:
            return None
        if isinstance(p, int):
            lst = cur.get("L")
            if lst is None or p >= len(lst):
                return None
            cur = lst[p]
        else:
            m = cur.get("M")
            if m is None:
                return None
            cur = m.get(p)
    return cur  # type: ignore[no-any-return]


def operand(node: Node, item: Item, scope: Scope) -> AttributeValue | None:
    """The value of an operand in a condition (a path, a :value, a literal or size())."""
    if isinstance(node, ValueRef):
        return scope.values[node.name]
    if isinstance(node, Path):
        return get_path(item, scope.resolve(node))
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Call) and node.name == "size":
        v = operand(node.args[0], item, scope)
        if v is None:
            return None
        n = size_of(v)
        return None if n is None else {"N": str(n)}
    raise DdbValidationError("Unsupported operand")


def size_of(v: AttributeValue) -> int | None:
    """size(): string length, binary length, element count; None for other types."""
    t, x = next(iter(v.items()))
    if t in ("S", "B", "SS", "NS", "BS", "L", "M"):
        return len(x)
    return None


def _ordered(a: AttributeValue, b: AttributeValue) -> tuple[Any, Any] | None:
    ta, va = next(iter(a.items()))
    tb, vb = next(iter(b.items()))
    if ta != tb or ta not in ("S", "N", "B"):
        return None
    if ta == "N":
        return Decimal(va), Decimal(vb)
    return va, vb


def compare(op: str, a: AttributeValue | None, b: AttributeValue | None) -> bool:
    """One comparator between two (possibly missing) values."""
    if op == "=":
        return equal(a, b)
    if op == "<>":
        return not equal(a, b)
    if a is None or b is None:
        return False
    pair = _ordered(a, b)
    if pair is None:
        return False
    x, y = pair
    if op == "<":
        return bool(x < y)
    if op == "<=":
        return bool(x <= y)
    if op == ">":
        return bool(x > y)
    return bool(x >= y)


def condition(node: Node, item: Item, scope: Scope) -> bool:
    """Evaluate a condition against an item (an empty dict when the item does not exist)."""
    if isinstance(node, Compare):
        return compare(node.op, operand(node.left, item, scope), operand(node.right, item, scope))
    if isinstance(node, And):
        return condition(node.left, item, scope) and condition(node.right, item, scope)
    if isinstance(node, Or):
        return condition(node.left, item, scope) or condition(node.right, item, scope)
    if isinstance(node, Not):
        return not condition(node.operand, item, scope)
    if isinstance(node, Between):
        v = operand(node.operand, item, scope)
        lo = operand(node.low, item, scope)
        hi = operand(node.high, item, scope)
        if (
            not isinstance(node.low, Path | Call)
            and not isinstance(node.high, Path | Call)
            and compare(">", lo, hi)
        ):
            raise InvalidExpression(
                "ConditionExpression",
                "The BETWEEN operator requires upper bound to be greater than or equal to lower "
                f"bound; lower bound operand: AttributeValue: {_show(lo)}, upper bound operand: "
                f"AttributeValue: {_show(hi)}",
            )
        return compare(">=", v, lo) and compare("<=", v, hi)
    if isinstance(node, In):
        v = operand(node.operand, item, scope)
        return any(equal(v, operand(o, item, scope)) for o in node.options)
    if isinstance(node, Call):
        return _function(node, item, scope)
    raise DdbValidationError("Invalid condition")


def _show(v: AttributeValue | None) -> str:
    if v is None:
        return "{}"
    t, x = next(iter(v.items()))
    return f"{{{t}:{x}}}"


def _function(node: Call, item: Item, scope: Scope) -> bool:
    name = node.name
    if name == "attribute_exists":
        return operand(node.args[0], item, scope) is not None
    if name == "attribute_not_exists":
        return operand(node.args[0], item, scope) is None
    v = operand(node.args[0], item, scope)
    arg = operand(node.args[1], item, scope)
    if name == "attribute_type":
        if arg is None or "S" not in arg or arg["S"] not in VALID_TYPES:
            shown = arg.get("S") if arg and "S" in arg else arg
            raise InvalidExpression(
                "ConditionExpression",
                f"Invalid attribute type name found; type: {shown}, "
                "valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
            )
        return v is not None and arg["S"] in v
    if v is None or arg is None:
        return False
    if name == "begins_with":
        if "S" in v and "S" in arg:
            return bool(v["S"].startswith(arg["S"]))
        if "B" in v and "B" in arg:
            return bool(v["B"].startswith(arg["B"]))
        return False
    if name == "contains":
        return _contains(v, arg)
    raise InvalidExpression("ConditionExpression", f"Invalid function name; function: {name}")


def _contains(v: AttributeValue, arg: AttributeValue) -> bool:
    tv, xv = next(iter(v.items()))
    ta, xa = next(iter(arg.items()))
    if tv == "S" and ta == "S":
        return bool(xa in xv)
    if tv == "B" and ta == "B":
        return bool(xa in xv)
    if (tv == "SS" and ta == "S") or (tv == "BS" and ta == "B"):
        return xa in xv
    if tv == "NS" and ta == "N":
        d = Decimal(xa)
        return any(Decimal(x) == d for x in xv)
    if tv == "L":
        return any(equal(x, arg) for x in xv)
    return False


# -- projection -----------------------------------------------------------------------------------


def projection(item: Item, paths: list[tuple[str | int, ...]]) -> Item:
    """The item reduced to the given document paths, nested structure kept (list elements keep
    their relative order, compacted, as DynamoDB returns them)."""
    if all(len(p) == 1 for p in paths):
        return {p[0]: item[p[0]] for p in paths if p[0] in item}  # type: ignore[index]
    tree: dict[Any, Any] = {}
    for parts in paths:
        node = tree
        for i, part in enumerate(parts):
            if node.get(part) is True:
                break
            if i == len(parts) - 1:
                node[part] = True
            else:
                node = node.setdefault(part, {})
    out: Item = {}
    for name, sub in tree.items():
        if name in item:
            v = _build(item[name], sub)
            if v is not None:
                out[name] = v
    return out


def _build(value: AttributeValue, sub: Any) -> AttributeValue | None:
    if sub is True:
        return value
    if "M" in value:
        m = value["M"]
        got = {k: _build(m[k], s) for k, s in sub.items() if isinstance(k, str) and k in m}
        kept = {k: v for k, v in got.items() if v is not None}
        return {"M": kept} if kept else None
    if "L" in value:
        lst = value["L"]
        idx = sorted(k for k in sub if isinstance(k, int) and k < len(lst))
        items = [v for v in (_build(lst[i], sub[i]) for i in idx) if v is not None]
        return {"L": items} if items else None
    return None


def is_arith(node: Node) -> bool:
    """Whether a node is an arithmetic expression (used by update checks)."""
    return isinstance(node, Arith)
