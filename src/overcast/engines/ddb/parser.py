"""Parsers for DynamoDB's expression language: conditions (ConditionExpression, FilterExpression,
KeyConditionExpression), UpdateExpression and ProjectionExpression. Recursive descent over a regex
tokenizer; results are cached by (kind, text), so a hot request pays only a dict lookup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any, TypeVar

from overcast.engines.ddb.ast import (
    Arith,
    Between,
    Call,
    Compare,
    In,
    Node,
    Parsed,
    Path,
    PathPart,
    UpdateAction,
    ValueRef,
)
from overcast.engines.ddb.descent import Descent
from overcast.engines.ddb.errors import InvalidExpression
from overcast.engines.ddb.reserved import is_reserved

MAX_EXPRESSION_LENGTH = 4096

_TOKEN = re.compile(
    r"\s*(?:(?P<name>#[A-Za-z0-9_]+)|(?P<value>:[A-Za-z0-9_]+)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<num>[0-9]+)|(?P<op><>|<=|>=|[=<>()\[\],.+\-]))"
)
_SPACE = re.compile(r"\s*")

CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
}
UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}
_COMPARATORS = {"=", "<>", "<", "<=", ">", ">="}


class _Tok:
    __slots__ = ("end", "kind", "start", "text")

    def __init__(self, kind: str, text: str, start: int, end: int) -> None:
        self.kind = kind
        self.text = text
        self.start = start
        self.end = end


def _tokenize(kind: str, text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    n = len(text)
    while True:
        m = _SPACE.match(text, pos)
        pos = m.end() if m else pos
        if pos >= n:
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.lastgroup is None:
            ch = text[pos]
            raise InvalidExpression(
                kind, f'Syntax error; token: "{ch}", near: "{_near_text(text, pos, pos + 1)}"'
            )
        toks.append(_Tok(m.lastgroup, m.group(m.lastgroup), m.start(m.lastgroup), m.end()))
        pos = m.end()
    return toks


def _near_text(text: str, start: int, end: int) -> str:
    left = text.rfind(" ", 0, max(start - 1, 0))
    right = text.find(" ", end + 1)
    return text[left + 1 if left >= 0 else 0 : right if right >= 0 else len(text)]


class _Parser(Descent[_Tok]):
    def __init__(self, kind: str, text: str) -> None:
        self.kind = kind
        self.text = text
        self.toks = _tokenize(kind, text)
        self.i = 0
        self.names: set[str] = set()
        self.values: set[str] = set()

    # -- errors ------------------------------------------------------------------------------

    def end_error(self) -> InvalidExpression:
        return self.error(None)

    def op_error(self, op: str) -> InvalidExpression:
        return self.error(self.peek())

    def error(self, tok: _Tok | None) -> InvalidExpression:
        if tok is None:
            prev = self.toks[-1] if self.toks else None
            near = self.text[prev.start :].strip() if prev else ""
            if len(self.toks) >= 2:
                near = self.text[self.toks[-2].start :].strip()
            return InvalidExpression(self.kind, f'Syntax error; token: "<EOF>", near: "{near}"')
        j = self.toks.index(tok)
        start = self.toks[j - 1].start if j > 0 else tok.start
        end = self.toks[j + 1].end if j + 1 < len(self.toks) else tok.end
        near = self.text[start:end].strip()
        return InvalidExpression(self.kind, f'Syntax error; token: "{tok.text}", near: "{near}"')

    def done(self) -> None:
        if self.i < len(self.toks):
            raise self.error(self.toks[self.i])

    # -- paths and operands --------------------------------------------------------------------

    def path(self) -> Path:
        parts: list[PathPart] = [self.name_part()]
        while True:
            if self.accept_op("."):
                parts.append(self.name_part())
            elif self.accept_op("["):
                t = self.take()
                if t.kind != "num":
                    raise self.error(t)
                parts.append(int(t.text))
                self.expect_op("]")
            else:
                return Path(tuple(parts))

    def name_part(self) -> str:
        t = self.take()
        if t.kind == "name":
            self.names.add(t.text)
            return t.text
        if t.kind == "ident":
            if is_reserved(t.text):
                raise InvalidExpression(
                    self.kind, f"Attribute name is a reserved keyword; reserved keyword: {t.text}"
                )
            return t.text
        raise self.error(t)

    def operand(self, functions: dict[str, int]) -> Node:
        t = self.peek()
        if t is None:
            raise self.error(None)
        if t.kind == "value":
            self.i += 1
            self.values.add(t.text)
            return ValueRef(t.text)
        nxt = self.peek(1)
        if t.kind == "ident" and nxt is not None and nxt.kind == "op" and nxt.text == "(":
            return self.call(functions)
        if t.kind in ("ident", "name"):
            return self.path()
        raise self.error(t)

    def call(self, functions: dict[str, int]) -> Call:
        t = self.take()
        name = t.text
        if (
            name not in functions
            and name not in CONDITION_FUNCTIONS
            and name not in ("size", *UPDATE_FUNCTIONS)
        ):
            raise InvalidExpression(self.kind, f"Invalid function name; function: {name}")
        if name not in functions:
            raise InvalidExpression(
                self.kind,
                f"The function is not allowed to be used this way in an expression; function: {name}",
            )
        self.expect_op("(")
        args: list[Node] = []
        if not self.peek_op(")"):
            args = self.items(lambda: self.operand(functions))
        self.expect_op(")")
        want = functions[name]
        if len(args) != want:
            raise InvalidExpression(
                self.kind,
                f"Incorrect number of operands for operator or function; operator or function: "
                f"{name}, number of operands: {len(args)}",
            )
        if name in ("attribute_exists", "attribute_not_exists", "size", "attribute_type",
                    "begins_with", "contains") and not isinstance(args[0], Path):  # fmt: skip
            if name in ("attribute_exists", "attribute_not_exists", "attribute_type"):
                raise InvalidExpression(
                    self.kind,
                    f"Operator or function requires a document path; operator or function: {name}",
                )
        if name == "if_not_exists" and not isinstance(args[0], Path):
            raise InvalidExpression(
                self.kind,
                "Operator or function requires a document path; operator or function: "
                "if_not_exists",
            )
        return Call(name, tuple(args))

    # -- conditions ----------------------------------------------------------------------------

    def predicate(self) -> Node:
        t = self.peek()
        nxt = self.peek(1)
        if (t is not None and t.kind == "ident" and t.text in CONDITION_FUNCTIONS
                and nxt is not None and nxt.text == "("):  # fmt: skip
            return self.call(CONDITION_FUNCTIONS)
        left = self.operand({"size": 1})
        if isinstance(left, Call) and left.name != "size":
            return left
        t = self.peek()
        if t is None:
            raise self.error(None)
        if t.kind == "op" and t.text in _COMPARATORS:
            self.i += 1
            return Compare(t.text, left, self.operand({"size": 1}))
        if t.kind == "ident" and t.text.upper() == "BETWEEN":
            self.i += 1
            low = self.operand({"size": 1})
            if not self.peek_kw("AND"):
                raise self.error(self.peek())
            self.i += 1
            return Between(left, low, self.operand({"size": 1}))
        if t.kind == "ident" and t.text.upper() == "IN":
            self.i += 1
            self.expect_op("(")
            options = self.items(lambda: self.operand({"size": 1}))
            self.expect_op(")")
            if len(options) > 100:
                raise InvalidExpression(
                    self.kind,
                    "The IN operator is provided with too many operands; number of operands: "
                    f"{len(options)}",
                )
            return In(left, tuple(options))
        raise self.error(t)

    # -- update --------------------------------------------------------------------------------

    def update(self) -> tuple[UpdateAction, ...]:
        actions: list[UpdateAction] = []
        seen: set[str] = set()
        if not self.toks:
            raise self.error(None)
        while self.i < len(self.toks):
            t = self.take()
            word = t.text.upper() if t.kind == "ident" else ""
            if word not in ("SET", "REMOVE", "ADD", "DELETE"):
                raise self.error(t)
            if word in seen:
                raise InvalidExpression(
                    self.kind,
                    f'The "{word}" section can only be used once in an update expression;',
                )
            seen.add(word)
            actions += self.items(partial(self.action, word))
        return tuple(actions)

    def action(self, word: str) -> UpdateAction:
        path = self.path()
        if word == "REMOVE":
            return UpdateAction(word, path)
        if word == "SET":
            self.expect_op("=")
            value = self.set_value()
            return UpdateAction(word, path, value)
        value = self.operand({})
        if not isinstance(value, ValueRef):
            raise self.error(self.toks[self.i - 1])
        return UpdateAction(word, path, value)

    def set_value(self) -> Node:
        left = self.operand(UPDATE_FUNCTIONS)
        if self.peek_op("+", "-"):
            op = self.take().text
            return Arith(op, left, self.operand(UPDATE_FUNCTIONS))
        return left

    def projection(self) -> tuple[Path, ...]:
        return tuple(self.items(self.path))


def _check_length(kind: str, text: str) -> None:
    if not text:
        raise InvalidExpression(kind, "The expression can not be empty;")
    if len(text.encode()) > MAX_EXPRESSION_LENGTH:
        raise InvalidExpression(
            kind,
            f"Expression size has exceeded the maximum allowed size; "
            f"expression size: {len(text.encode())}",
        )


R = TypeVar("R")


def _run(kind: str, text: str, rule: Callable[[_Parser], R]) -> tuple[R, dict[str, Any]]:
    """Parse all of `text` by `rule`; also return the names and values it used."""
    _check_length(kind, text)
    p = _Parser(kind, text)
    out = rule(p)
    p.done()
    return out, {"names": frozenset(p.names), "values": frozenset(p.values)}


@lru_cache(maxsize=4096)
def parse_condition(text: str, kind: str = "ConditionExpression") -> Parsed:
    """Parse a condition (also used for FilterExpression and KeyConditionExpression)."""
    node, used = _run(kind, text, _Parser.condition)
    return Parsed(kind, node=node, **used)


@lru_cache(maxsize=4096)
def parse_update(text: str) -> Parsed:
    """Parse an UpdateExpression into its actions, in order."""
    actions, used = _run("UpdateExpression", text, _Parser.update)
    return Parsed("UpdateExpression", actions=actions, **used)


@lru_cache(maxsize=4096)
def parse_projection(text: str) -> Parsed:
    """Parse a ProjectionExpression into its paths."""
    paths, used = _run("ProjectionExpression", text, _Parser.projection)
    return Parsed("ProjectionExpression", paths=paths, **used)
