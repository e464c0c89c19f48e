"""CloudWatch Logs filter patterns: compile a pattern once, then test messages against it.

Pure: no I/O, no clock. Three syntaxes, as CloudWatch Logs has them:
- terms: `ERROR`, `"exact phrase"`, `-excluded`, `?any ?of ?these`; all plain terms must occur,
  no excluded term may, and at least one `?` term must when there are any. Case-sensitive.
  `%regex%` matches a regular expression.
- JSON: `{ $.level = "ERROR" }`, `{ $.latency > 100 && $.user.id = 7 }`, `||`, parentheses,
  `!=`, `<`, `<=`, `>`, `>=`, `*` wildcards in strings, `IS NULL`, `IS TRUE`, `IS FALSE`,
  `NOT EXISTS`, array indexes `$.a[0]`.
- space-delimited: `[ip, user, ..., status = 404, size > 1000]` over space-separated fields
  (quoted strings and [bracketed] groups count as one field).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Matcher = Callable[[str], bool]


class FilterPatternError(ValueError):
    """The pattern does not parse (the Logs API answers InvalidParameterException)."""


@dataclass(frozen=True, slots=True)
class FilterPattern:
    text: str
    match: Matcher

    def __call__(self, message: str) -> bool:
        return self.match(message)


def compile_pattern(text: str | None) -> FilterPattern:
    """Parse a filter pattern; an empty one matches everything."""
    source = (text or "").strip()
    if not source:
        return FilterPattern("", lambda _m: True)
    if source.startswith("{"):
        if not source.endswith("}"):
            raise FilterPatternError("Invalid filter pattern: unbalanced braces")
        expr = _JsonParser(source[1:-1]).parse()
        return FilterPattern(source, lambda m: _json_match(expr, m))
    if source.startswith("["):
        if not source.endswith("]"):
            raise FilterPatternError("Invalid filter pattern: unbalanced brackets")
        fields = _space_fields(source[1:-1])
        return FilterPattern(source, lambda m: _space_match(fields, m))
    return FilterPattern(source, _terms_matcher(source))


# -- terms --------------------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*([?-]?)(?:"((?:[^"\\]|\\.)*)"|%([^%]*)%|(\S+))')


def _terms_matcher(source: str) -> Matcher:
    required: list[Matcher] = []
    excluded: list[Matcher] = []
    optional: list[Matcher] = []
    pos = 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None:
            break
        pos = m.end()
        prefix, quoted, regex, bare = m.groups()
        if regex is not None:
            try:
                test: Matcher = _regex_test(re.compile(regex))
            except re.error as exc:
                raise FilterPatternError(f"Invalid regular expression: {exc}") from None
        else:
            test = _substring_test(quoted.replace('\\"', '"') if quoted is not None else bare)
        {"": required, "-": excluded, "?": optional}[prefix].append(test)

    def match(message: str) -> bool:
        if not all(t(message) for t in required):
            return False
        if any(t(message) for t in excluded):
            return False
        return not optional or any(t(message) for t in optional)

    return match


def _regex_test(rx: re.Pattern[str]) -> Matcher:
    return lambda message: rx.search(message) is not None


def _substring_test(term: str) -> Matcher:
    return lambda message: term in message


# -- JSON ---------------------------------------------------------------------------------------

_MISSING = object()


@dataclass(frozen=True, slots=True)
class _Cmp:
    path: tuple[str | int, ...]
    op: str  # = != < <= > >= null true false notexists exists
    value: Any = None


@dataclass(frozen=True, slots=True)
class _Bool:
    op: str  # and / or
    left: Any
    right: Any


_JSON_TOKEN = re.compile(
    r"\s*(?:(?P<sel>\$(?:\.[A-Za-z0-9_@*-]+|\[\d+\]|\.\*)*)|(?P<op>&&|\|\||!=|<=|>=|=|<|>)"
    r"|(?P<paren>[()])|(?P<str>\"(?:[^\"\\]|\\.)*\")|(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
    r"|(?P<word>[A-Za-z_*][A-Za-z0-9_*.:/-]*))"
)


class _JsonParser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = _JSON_TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise FilterPatternError(f"Invalid filter pattern near: {text[pos:]!r}")
            kind = m.lastgroup
            assert kind is not None
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise FilterPatternError("Invalid filter pattern: unexpected end")
        self.i += 1
        return tok

    def parse(self) -> Any:
        expr = self.parse_or()
        if self.peek() is not None:
            raise FilterPatternError(f"Invalid filter pattern near: {self.peek()}")
        return expr

    def parse_or(self) -> Any:
        left = self.parse_and()
        while self.peek() == ("op", "||"):
            self.take()
            left = _Bool("or", left, self.parse_and())
        return left

    def parse_and(self) -> Any:
        left = self.parse_unary()
        while self.peek() == ("op", "&&"):
            self.take()
            left = _Bool("and", left, self.parse_unary())
        return left

    def parse_unary(self) -> Any:
        tok = self.take()
        if tok == ("paren", "("):
            inner = self.parse_or()
            if self.take() != ("paren", ")"):
                raise FilterPatternError("Invalid filter pattern: expected ')'")
            return inner
        if tok[0] != "sel":
            raise FilterPatternError(f"Invalid filter pattern: expected a selector, got {tok[1]}")
        path = _path(tok[1])
        nxt = self.take()
        if nxt[0] == "word" and nxt[1].upper() == "IS":
            what = self.take()[1].upper()
            if what not in ("NULL", "TRUE", "FALSE"):
                raise FilterPatternError("Invalid filter pattern: IS NULL, IS TRUE or IS FALSE")
            return _Cmp(path, what.lower())
        if nxt[0] == "word" and nxt[1].upper() == "NOT":
            if self.take()[1].upper() != "EXISTS":
                raise FilterPatternError("Invalid filter pattern: expected NOT EXISTS")
            return _Cmp(path, "notexists")
        if nxt[0] == "word" and nxt[1].upper() == "EXISTS":
            return _Cmp(path, "exists")
        if nxt[0] != "op" or nxt[1] in ("&&", "||"):
            raise FilterPatternError(f"Invalid filter pattern: expected an operator, got {nxt[1]}")
        kind, raw = self.take()
        value: Any
        if kind == "str":
            value = raw[1:-1].replace('\\"', '"')
        elif kind == "num":
            value = float(raw)
        elif kind == "word":
            value = raw
        else:
            raise FilterPatternError(f"Invalid filter pattern: bad value {raw}")
        if nxt[1] in ("<", "<=", ">", ">=") and not isinstance(value, float):
            raise FilterPatternError("Invalid filter pattern: numeric comparison needs a number")
        return _Cmp(path, nxt[1], value)


def _path(selector: str) -> tuple[str | int, ...]:
    out: list[str | int] = []
    for part in re.findall(r"\.([A-Za-z0-9_@*-]+)|\[(\d+)\]", selector):
        out.append(int(part[1]) if part[1] else part[0])
    return tuple(out)


def _resolve(doc: Any, path: tuple[str | int, ...]) -> list[Any]:
    """Values at `path` (several with `*` wildcards); empty when nothing is there."""
    values = [doc]
    for step in path:
        nxt: list[Any] = []
        for v in values:
            if step == "*":
                if isinstance(v, dict):
                    nxt.extend(v.values())
                elif isinstance(v, list):
                    nxt.extend(v)
            elif isinstance(step, int):
                if isinstance(v, list) and step < len(v):
                    nxt.append(v[step])
            elif isinstance(v, dict) and step in v:
                nxt.append(v[step])
        values = nxt
    return values


def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(p) for p in pattern.split("*")) + "$", re.S)


def _compare(value: Any, cmp: _Cmp) -> bool:
    op = cmp.op
    if op == "null":
        return value is None
    if op == "true":
        return value is True
    if op == "false":
        return value is False
    target = cmp.value
    if isinstance(target, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            try:
                value = float(value) if isinstance(value, str) else None
            except ValueError:
                value = None
            if value is None:
                return op == "!="
        v = float(value)
        return {
            "=": v == target,
            "!=": v != target,
            "<": v < target,
            "<=": v <= target,
            ">": v > target,
            ">=": v >= target,
        }[op]
    if not isinstance(value, str):
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif value is None:
            text = "null"
        else:
            text = str(value)
    else:
        text = value
    hit = _wildcard(str(target)).match(text) is not None if "*" in str(target) else text == target
    return hit if op == "=" else not hit


def _eval(expr: Any, doc: Any) -> bool:
    if isinstance(expr, _Bool):
        if expr.op == "and":
            return _eval(expr.left, doc) and _eval(expr.right, doc)
        return _eval(expr.left, doc) or _eval(expr.right, doc)
    values = _resolve(doc, expr.path)
    if expr.op == "notexists":
        return not values
    if expr.op == "exists":
        return bool(values)
    return any(_compare(v, expr) for v in values)


def _json_match(expr: Any, message: str) -> bool:
    start = message.find("{")
    if start < 0:
        return False
    try:
        doc = json.loads(message[start:])
    except ValueError:
        return False
    return _eval(expr, doc)


# -- space-delimited ------------------------------------------------------------------------

_FIELD_SPEC = re.compile(r"^\s*(\.\.\.|[A-Za-z0-9_]+)\s*(?:(!=|<=|>=|=|<|>)\s*(.+?))?\s*$")
_LOG_FIELD = re.compile(r'"(?:[^"\\]|\\.)*"|\[[^\]]*\]|\S+')


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    op: str | None
    value: Any


def _space_fields(body: str) -> list[_Field]:
    fields: list[_Field] = []
    for raw in _split_top(body):
        alternatives = raw.split("||")
        m = _FIELD_SPEC.match(alternatives[0])
        if m is None:
            raise FilterPatternError(f"Invalid filter pattern field: {raw!r}")
        name, op, value = m.groups()
        parsed: Any = None
        if op is not None:
            parsed = _field_value(value)
            if op in ("<", "<=", ">", ">=") and not isinstance(parsed, float):
                raise FilterPatternError(
                    "Invalid filter pattern: numeric comparison needs a number"
                )
        fields.append(_Field(name, op, parsed))
    return fields


def _split_top(body: str) -> list[str]:
    parts, buf, quoted = [], "", False
    for ch in body:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append(buf)
            buf = ""
        else:
            buf += ch
    if buf.strip():
        parts.append(buf)
    return parts


def _field_value(text: str) -> Any:
    text = text.strip()
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1]
    try:
        return float(text)
    except ValueError:
        return text


def _space_match(fields: list[_Field], message: str) -> bool:
    values = [v[1:-1] if v[:1] in '"[' else v for v in _LOG_FIELD.findall(message)]
    return _fit(fields, 0, values, 0)


def _fit(fields: list[_Field], fi: int, values: list[str], vi: int) -> bool:
    if fi == len(fields):
        return vi == len(values)
    f = fields[fi]
    if f.name == "...":
        return any(_fit(fields, fi + 1, values, k) for k in range(vi, len(values) + 1))
    if vi >= len(values):
        return False
    if f.op is not None and not _compare(values[vi], _Cmp((), f.op, f.value)):
        return False
    return _fit(fields, fi + 1, values, vi + 1)
