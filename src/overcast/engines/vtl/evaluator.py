"""Evaluate a parsed VTL tree against a dict of variables, with Java-like values and methods.

Values are plain Python: str, int, float, bool, None, list, dict, plus host objects (such as
API Gateway's $input and $util) whose public methods are callable from the template.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from overcast.engines.vtl.parser import (
    Attr,
    Binary,
    BreakNode,
    Call,
    ForeachNode,
    IfNode,
    Index,
    Interp,
    ListExpr,
    Literal,
    MapExpr,
    RangeExpr,
    Ref,
    SetNode,
    StopNode,
    Text,
    Unary,
)

MAX_LOOP = 10_000  # API Gateway caps #foreach iterations; so do we, against runaway templates


class VtlRuntimeError(ValueError):
    """Evaluation failed (bad method, loop limit)."""


class _Break(Exception):
    pass


class _Stop(Exception):
    pass


class _Missing:
    """Marks a reference that did not resolve (Velocity prints such references as written)."""


MISSING = _Missing()


def to_text(value: Any) -> str:
    """How Velocity prints a value (Java's toString)."""
    if value is None or value is MISSING:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return f"{value:.1f}"
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{to_text(k)}={to_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(to_text(v) for v in value) + "]"
    return str(value)


def truthy(value: Any) -> bool:
    """Velocity's #if: null and false are false; so are empty strings and collections (2.x)."""
    if value is None or value is MISSING or value is False:
        return False
    return not (isinstance(value, (str, list, dict)) and len(value) == 0)


class Evaluator:
    """Runs one template. `variables` is the root scope; #set writes into it."""

    def __init__(self, variables: dict[str, Any]) -> None:
        self.vars = variables
        self.out: list[str] = []

    def run(self, nodes: list[Any]) -> str:
        """Render nodes to a string."""
        try:
            self._nodes(nodes, self.out)
        except (_Stop, _Break):
            pass  # #stop (or a #break outside a loop) ends the template with what it printed
        return "".join(self.out)

    def _nodes(self, nodes: list[Any], out: list[str]) -> None:
        for node in nodes:
            t = type(node)
            if t is Text:
                out.append(node.value)
            elif t is Ref:
                value = self._ref(node)
                if value is MISSING or value is None:
                    if not node.quiet:
                        out.append(node.raw)
                else:
                    out.append(to_text(value))
            elif t is SetNode:
                self._set(node)
            elif t is IfNode:
                for cond, body in node.branches:
                    if truthy(self.expr(cond)):
                        self._nodes(body, out)
                        break
                else:
                    if node.orelse is not None:
                        self._nodes(node.orelse, out)
            elif t is ForeachNode:
                self._foreach(node, out)
            elif t is BreakNode:
                raise _Break()
            elif t is StopNode:
                raise _Stop()

    def _foreach(self, node: ForeachNode, out: list[str]) -> None:
        seq = self.expr(node.iterable)
        if seq is None or seq is MISSING:
            return
        if isinstance(seq, dict):
            items = list(seq.values())
        elif isinstance(seq, (list, tuple, str)) and not isinstance(seq, str):
            items = list(seq)
        else:
            items = [seq] if not hasattr(seq, "__iter__") else list(seq)
        saved_var = self.vars.get(node.var, MISSING)
        saved_fe = self.vars.get("foreach", MISSING)
        saved_vc = self.vars.get("velocityCount", MISSING)
        try:
            for idx, item in enumerate(items):
                if idx >= MAX_LOOP:
                    raise VtlRuntimeError("#foreach loop limit exceeded")
                self.vars[node.var] = item
                self.vars["foreach"] = {
                    "index": idx,
                    "count": idx + 1,
                    "hasNext": idx + 1 < len(items),
                    "first": idx == 0,
                    "last": idx + 1 == len(items),
                }
                self.vars["velocityCount"] = idx + 1
                try:
                    self._nodes(node.body, out)
                except _Break:
                    break
        finally:
            for name, saved in (
                (node.var, saved_var),
                ("foreach", saved_fe),
                ("velocityCount", saved_vc),
            ):
                if saved is MISSING:
                    self.vars.pop(name, None)
                else:
                    self.vars[name] = saved

    def _set(self, node: SetNode) -> None:
        value = self.expr(node.expr)
        if value is MISSING:
            value = None
        target = node.target
        if not target.parts:
            self.vars[target.name] = value
            return
        holder = self._walk(self.vars.get(target.name, MISSING), target.parts[:-1])
        last = target.parts[-1]
        if isinstance(last, Attr) and isinstance(holder, dict):
            holder[last.name] = value
        elif isinstance(last, Index) and isinstance(holder, (dict, list)):
            key = self.expr(last.expr)
            holder[key] = value
        else:
            raise VtlRuntimeError(f"cannot set {target.raw}")

    # -- expressions ---------------------------------------------------------------------------

    def expr(self, e: Any) -> Any:
        """The value of an expression node."""
        t = type(e)
        if t is Literal:
            return e.value
        if t is Ref:
            return self._ref(e)
        if t is Interp:
            buf: list[str] = []
            self._nodes(e.body, buf)
            return "".join(buf)
        if t is ListExpr:
            return [_plain(self.expr(x)) for x in e.items]
        if t is MapExpr:
            return {_plain(self.expr(k)): _plain(self.expr(v)) for k, v in e.items}
        if t is RangeExpr:
            a, b = int(self.expr(e.start)), int(self.expr(e.end))
            return list(range(a, b + 1)) if a <= b else list(range(a, b - 1, -1))
        if t is Unary:
            v = self.expr(e.operand)
            if e.op == "!":
                return not truthy(v)
            return -_num(v)
        if t is Binary:
            return self._binary(e)
        raise VtlRuntimeError(f"unknown node {e!r}")

    def _binary(self, e: Binary) -> Any:
        op = e.op
        if op == "&&":
            return truthy(self.expr(e.left)) and truthy(self.expr(e.right))
        if op == "||":
            return truthy(self.expr(e.left)) or truthy(self.expr(e.right))
        a, b = _plain(self.expr(e.left)), _plain(self.expr(e.right))
        if op == "==":
            return _equals(a, b)
        if op == "!=":
            return not _equals(a, b)
        if op == "+" and (isinstance(a, str) or isinstance(b, str)):
            return to_text(a) + to_text(b)
        if op in ("<", ">", "<=", ">="):
            if isinstance(a, str) and isinstance(b, str):
                return _compare(op, a, b)
            return _compare(op, _num(a), _num(b))
        x, y = _num(a), _num(b)
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        if op == "/":
            if y == 0:
                return None
            if isinstance(x, int) and isinstance(y, int):
                q = abs(x) // abs(y)
                return q if (x >= 0) == (y >= 0) else -q
            return x / y
        if op == "%":
            if y == 0:
                return None
            return x % y
        raise VtlRuntimeError(f"unknown operator {op}")

    def _ref(self, ref: Ref) -> Any:
        return self._walk(self.vars.get(ref.name, MISSING), ref.parts)

    def _walk(self, value: Any, parts: list[Any]) -> Any:
        for part in parts:
            if value is MISSING or value is None:
                return MISSING
            if isinstance(part, Attr):
                value = get_attr(value, part.name)
            elif isinstance(part, Call):
                args = [_plain(self.expr(a)) for a in part.args]
                value = call_method(value, part.name, args)
            else:
                key = _plain(self.expr(part.expr))
                try:
                    value = value[key]
                except (KeyError, IndexError, TypeError):
                    return MISSING
        return value


def _compare(op: str, x: Any, y: Any) -> bool:
    if op == "<":
        return bool(x < y)
    if op == ">":
        return bool(x > y)
    if op == "<=":
        return bool(x <= y)
    return bool(x >= y)


def _plain(v: Any) -> Any:
    return None if v is MISSING else v


def _num(v: Any) -> int | float:
    if isinstance(v, bool):
        raise VtlRuntimeError("not a number: boolean")
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        try:
            return int(v)
        except ValueError:
            try:
                return float(v)
            except ValueError:
                pass
    raise VtlRuntimeError(f"not a number: {to_text(v)!r}")


def _equals(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (a == b and type(a) is type(b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if a is None or b is None:
        return a is b
    if type(a) is not type(b) and (isinstance(a, str) or isinstance(b, str)):
        # Velocity compares mismatched types by their string forms.
        return to_text(a) == to_text(b)
    return bool(a == b)


# -- member access and Java-ish methods ---------------------------------------------------------


def get_attr(obj: Any, name: str) -> Any:
    """$obj.name: a map key, a host-object property, or a JavaBean getter (size → size())."""
    if isinstance(obj, dict):
        if name in obj:
            return obj[name]
        if name == "empty":
            return len(obj) == 0
        return MISSING
    if hasattr(obj, "vtl_attr"):
        return obj.vtl_attr(name)
    if isinstance(obj, (str, list)) and name in ("empty",):
        return len(obj) == 0
    if isinstance(obj, str) and name in ("bytes",):
        return list(obj.encode())
    return MISSING


def call_method(obj: Any, name: str, args: list[Any]) -> Any:
    """$obj.name(args): host-object methods first, then Java String/List/Map methods."""
    if hasattr(obj, "vtl_call"):
        return obj.vtl_call(name, args)
    table: dict[str, Callable[..., Any]]
    if isinstance(obj, str):
        table = _STRING_METHODS
    elif isinstance(obj, list):
        table = _LIST_METHODS
    elif isinstance(obj, dict):
        table = _MAP_METHODS
    elif isinstance(obj, bool):
        table = {"toString": lambda o: to_text(o), "equals": lambda o, x: o is x}
    elif isinstance(obj, (int, float)):
        table = _NUMBER_METHODS
    else:
        raise VtlRuntimeError(f"no method {name} on {type(obj).__name__}")
    fn = table.get(name)
    if fn is None:
        raise VtlRuntimeError(f"no method {name} on {type(obj).__name__}")
    try:
        return fn(obj, *args)
    except (TypeError, IndexError, ValueError) as exc:
        raise VtlRuntimeError(f"{name}: {exc}") from exc


def _substring(s: str, start: int, end: int | None = None) -> str:
    if end is None:
        end = len(s)
    if start < 0 or end > len(s) or start > end:
        raise IndexError(f"begin {start}, end {end}, length {len(s)}")
    return s[start:end]


def _java_regex(pattern: str) -> str:
    return pattern


def _java_replacement(rep: str) -> str:
    # Java writes group references as $1; Python as \1.
    return re.sub(r"\$(\d)", r"\\\1", rep.replace("\\", "\\\\"))


_STRING_METHODS: dict[str, Callable[..., Any]] = {
    "length": len,
    "size": len,
    "isEmpty": lambda s: len(s) == 0,
    "toString": lambda s: s,
    "toLowerCase": str.lower,
    "toUpperCase": str.upper,
    "trim": str.strip,
    "strip": str.strip,
    "contains": lambda s, x: to_text(x) in s,
    "startsWith": lambda s, x: s.startswith(to_text(x)),
    "endsWith": lambda s, x: s.endswith(to_text(x)),
    "equals": lambda s, x: isinstance(x, str) and s == x,
    "equalsIgnoreCase": lambda s, x: isinstance(x, str) and s.lower() == x.lower(),
    "indexOf": lambda s, x, start=0: s.find(to_text(x), start),
    "lastIndexOf": lambda s, x: s.rfind(to_text(x)),
    "charAt": lambda s, i: s[i],
    "substring": _substring,
    "replace": lambda s, a, b: s.replace(to_text(a), to_text(b)),
    "replaceAll": lambda s, a, b: re.sub(_java_regex(a), _java_replacement(b), s),
    "replaceFirst": lambda s, a, b: re.sub(_java_regex(a), _java_replacement(b), s, count=1),
    "matches": lambda s, p: re.fullmatch(_java_regex(p), s) is not None,
    "split": lambda s, p, *_: _java_split(s, p),
    "concat": lambda s, x: s + to_text(x),
    "hashCode": lambda s: _java_hash(s),
    "compareTo": lambda s, x: (s > x) - (s < x),
}


def _java_split(s: str, pattern: str) -> list[str]:
    parts = re.split(_java_regex(pattern), s)
    while parts and parts[-1] == "":
        parts.pop()  # Java drops trailing empty strings
    return parts


def _java_hash(s: str) -> int:
    h = 0
    for ch in s:
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def _list_add(lst: list[Any], *args: Any) -> bool:
    if len(args) == 2:
        lst.insert(args[0], args[1])
    else:
        lst.append(args[0])
    return True


_LIST_METHODS: dict[str, Callable[..., Any]] = {
    "size": len,
    "length": len,
    "isEmpty": lambda lst: len(lst) == 0,
    "get": lambda lst, i: lst[i],
    "contains": lambda lst, x: x in lst,
    "add": _list_add,
    "addAll": lambda lst, xs: lst.extend(xs) or True,
    "remove": lambda lst, i: lst.pop(i) if isinstance(i, int) else (lst.remove(i) or True),
    "indexOf": lambda lst, x: lst.index(x) if x in lst else -1,
    "toString": to_text,
    "set": lambda lst, i, x: lst.__setitem__(i, x),
}

_MAP_METHODS: dict[str, Callable[..., Any]] = {
    "get": lambda m, k: m.get(k),
    "put": lambda m, k, v: _put(m, k, v),
    "putAll": lambda m, o: m.update(o),
    "containsKey": lambda m, k: k in m,
    "containsValue": lambda m, v: v in m.values(),
    "keySet": lambda m: list(m.keys()),
    "values": lambda m: list(m.values()),
    "entrySet": lambda m: [{"key": k, "value": v} for k, v in m.items()],
    "size": len,
    "isEmpty": lambda m: len(m) == 0,
    "remove": lambda m, k: m.pop(k, None),
    "toString": to_text,
}

_NUMBER_METHODS: dict[str, Callable[..., Any]] = {
    "toString": to_text,
    "intValue": int,
    "longValue": int,
    "doubleValue": float,
    "floatValue": float,
    "equals": lambda n, x: n == x,
}


def _put(m: dict[str, Any], k: Any, v: Any) -> Any:
    old = m.get(k)
    m[k] = v
    return old


def json_dumps(value: Any) -> str:
    """Compact JSON as API Gateway writes it."""
    return json.dumps(_plain(value), separators=(",", ":"), ensure_ascii=False)
