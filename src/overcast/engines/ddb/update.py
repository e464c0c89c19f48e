"""Applying an UpdateExpression: SET (with + and -, if_not_exists, list_append), REMOVE, ADD and
DELETE, on nested map paths and list indexes. Every right-hand side reads the item as it was before
the update, as DynamoDB does.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any

from overcast.engines.ddb.ast import (
    Arith,
    Call,
    Literal,
    Node,
    Parsed,
    Path,
    UpdateAction,
    ValueRef,
)
from overcast.engines.ddb.errors import DdbValidationError, InvalidExpression
from overcast.engines.ddb.evaluate import Scope, get_path
from overcast.engines.ddb.values import ARITH, AttributeValue, Item, check_number, format_number

ResolvedPath = tuple[str | int, ...]

_TYPE_WORDS = {
    "S": "STRING", "N": "NUMBER", "B": "BINARY", "BOOL": "BOOLEAN", "NULL": "NULL", "L": "LIST",
    "M": "MAP", "SS": "SET", "NS": "SET", "BS": "SET",
}  # fmt: skip


def _missing() -> DdbValidationError:
    return DdbValidationError(
        "The provided expression refers to an attribute that does not exist in the item"
    )


def _bad_type() -> DdbValidationError:
    return DdbValidationError("An operand in the update expression has an incorrect data type")


def _invalid_path() -> DdbValidationError:
    return DdbValidationError(
        "The document path provided in the update expression is invalid for update"
    )


def format_path(parts: ResolvedPath) -> str:
    """A path as AWS prints it in errors: [a, b, [2]]."""
    return "[" + ", ".join(f"[{p}]" if isinstance(p, int) else p for p in parts) + "]"


def check_paths(actions: list[tuple[UpdateAction, ResolvedPath]], keys: tuple[str, ...]) -> None:
    """Key attributes may not be updated; no two paths may overlap."""
    for _, parts in actions:
        if parts[0] in keys:
            raise DdbValidationError(
                f"Cannot update attribute {parts[0]}. This attribute is part of the key"
            )
    for i, (_, a) in enumerate(actions):
        for _, b in actions[i + 1 :]:
            n = min(len(a), len(b))
            if a[:n] == b[:n]:
                raise InvalidExpression(
                    "UpdateExpression",
                    "Two document paths overlap with each other; must remove or rewrite one of "
                    f"these paths; path one: {format_path(a)}, path two: {format_path(b)}",
                )


def _value(node: Node, item: Item, scope: Scope) -> AttributeValue:
    if isinstance(node, ValueRef):
        return scope.values[node.name]
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Path):
        v = get_path(item, scope.resolve(node))
        if v is None:
            raise _missing()
        return v
    if isinstance(node, Arith):
        left = _value(node.left, item, scope)
        right = _value(node.right, item, scope)
        if "N" not in left or "N" not in right:
            raise _bad_type()
        return {"N": arith(node.op, left["N"], right["N"])}
    if isinstance(node, Call):
        if node.name == "if_not_exists":
            assert isinstance(node.args[0], Path)
            v = get_path(item, scope.resolve(node.args[0]))
            return v if v is not None else _value(node.args[1], item, scope)
        if node.name in ("set_add", "set_delete"):  # PartiQL's set functions
            current = _value(node.args[0], item, scope)
            change = _value(node.args[1], item, scope)
            out = _add(current, change) if node.name == "set_add" else _delete(current, change)
            if out is None:
                raise DdbValidationError(
                    "One or more parameter values were invalid: An set  may not be empty"
                )
            return out
        if node.name == "list_append":
            a = _value(node.args[0], item, scope)
            b = _value(node.args[1], item, scope)
            if "L" not in a or "L" not in b:
                raise _bad_type()
            return {"L": [*a["L"], *b["L"]]}
    raise InvalidExpression("UpdateExpression", "Syntax error")


def arith(op: str, a: str, b: str) -> str:
    """a + b or a - b with DynamoDB's 38-digit precision."""
    try:
        if op == "+":
            d = ARITH.add(Decimal(a), Decimal(b))
        else:
            d = ARITH.subtract(Decimal(a), Decimal(b))
    except decimal.Inexact:
        raise DdbValidationError(
            "Attempting to store more than 38 significant digits in a Number"
        ) from None
    except decimal.InvalidOperation:
        raise DdbValidationError(
            "Number overflow. Attempting to store a number with magnitude larger than supported "
            "range"
        ) from None
    check_number(d)
    return format_number(d)


def _clone(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _clone(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clone(x) for x in v]
    return v


def _parent(item: Item, parts: ResolvedPath, create: bool) -> Any:
    """The container (dict of attributes or list) holding the last element of `parts`."""
    cur: Any = item
    for p in parts[:-1]:
        if isinstance(cur, dict):
            if not isinstance(p, str) or p not in cur:
                raise _invalid_path()
            v = cur[p]
        else:
            if not isinstance(p, int) or p >= len(cur):
                raise _invalid_path()
            v = cur[p]
        if "M" in v:
            cur = v["M"]
        elif "L" in v:
            cur = v["L"]
        else:
            raise _invalid_path()
    last = parts[-1]
    if isinstance(cur, dict) and not isinstance(last, str):
        raise _invalid_path()
    if isinstance(cur, list) and not isinstance(last, int):
        raise _invalid_path()
    return cur


def _set(item: Item, parts: ResolvedPath, value: AttributeValue) -> None:
    holder = _parent(item, parts, True)
    last = parts[-1]
    if isinstance(holder, list):
        assert isinstance(last, int)
        if last >= len(holder):
            holder.append(value)
        else:
            holder[last] = value
    else:
        holder[last] = value


def _remove(item: Item, parts: ResolvedPath) -> None:
    try:
        holder = _parent(item, parts, False)
    except DdbValidationError:
        return
    last = parts[-1]
    if isinstance(holder, list):
        assert isinstance(last, int)
        if last < len(holder):
            del holder[last]
    else:
        holder.pop(last, None)


def _add(current: AttributeValue | None, v: AttributeValue) -> AttributeValue | None:
    t = next(iter(v))
    if t not in ("N", "SS", "NS", "BS"):
        raise InvalidExpression(
            "UpdateExpression",
            f"Incorrect operand type for operator or function; operator: ADD, operand type: "
            f"{_TYPE_WORDS.get(t, t)}",
        )
    if current is None:
        return v
    if t not in current:
        raise _bad_type()
    if t == "N":
        return {"N": arith("+", current["N"], v["N"])}
    if t == "NS":
        have = {Decimal(x) for x in current["NS"]}
        extra = [x for x in v["NS"] if Decimal(x) not in have]
        return {"NS": [*current["NS"], *extra]}
    have_s = set(current[t])
    return {t: [*current[t], *(x for x in v[t] if x not in have_s)]}


def _delete(current: AttributeValue | None, v: AttributeValue) -> AttributeValue | None:
    t = next(iter(v))
    if t not in ("SS", "NS", "BS"):
        raise InvalidExpression(
            "UpdateExpression",
            f"Incorrect operand type for operator or function; operator: DELETE, operand type: "
            f"{_TYPE_WORDS.get(t, t)}",
        )
    if current is None:
        return None
    if t not in current:
        raise _bad_type()
    if t == "NS":
        gone = {Decimal(x) for x in v["NS"]}
        left = [x for x in current["NS"] if Decimal(x) not in gone]
    else:
        gone_s = set(v[t])
        left = [x for x in current[t] if x not in gone_s]
    return {t: left} if left else None


def apply_update(
    parsed: Parsed, item: Item, scope: Scope, keys: tuple[str, ...]
) -> tuple[Item, list[ResolvedPath]]:
    """The item after the update, and the paths the update touched (for UPDATED_OLD/NEW)."""
    resolved = [(a, scope.resolve(a.path)) for a in parsed.actions]
    check_paths(resolved, keys)
    # Right-hand sides first, all against the old item.
    computed: list[AttributeValue | None] = []
    for action, parts in resolved:
        if action.kind == "SET":
            assert action.value is not None
            computed.append(_value(action.value, item, scope))
        elif action.kind in ("ADD", "DELETE"):
            assert action.value is not None
            v = _value(action.value, item, scope)
            cur = get_path(item, parts)
            computed.append(_add(cur, v) if action.kind == "ADD" else _delete(cur, v))
        else:
            computed.append(None)
    new = dict(item)
    touched = {parts[0] for _, parts in resolved if len(parts) > 1}
    for name in touched:
        if name in new:
            new[name] = _clone(new[name])  # type: ignore[index]
    removes: list[ResolvedPath] = []
    for (action, parts), value in zip(resolved, computed, strict=True):
        if action.kind == "REMOVE" or (action.kind == "DELETE" and value is None):
            removes.append(parts)
        elif action.kind == "DELETE" and get_path(item, parts) is None:
            continue
        else:
            assert value is not None
            _set(new, parts, value)
    # Remove list elements from the highest index down so earlier indexes stay valid.
    removes.sort(key=lambda p: [(-x if isinstance(x, int) else 0) for x in p])
    for parts in removes:
        _remove(new, parts)
    return new, [parts for _, parts in resolved]
