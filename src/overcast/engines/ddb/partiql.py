"""A parser for the PartiQL subset DynamoDB accepts: SELECT, INSERT, UPDATE and DELETE.

Statements become dataclasses whose conditions and values use the expression AST (paths hold real
attribute names, values are `Literal`s), so the same evaluator runs them. `?` placeholders take the
statement's Parameters in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial
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
    Path,
    PathPart,
    UpdateAction,
)
from overcast.engines.ddb.descent import Descent
from overcast.engines.ddb.errors import DdbValidationError
from overcast.engines.ddb.values import check_value, normalize_number

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<qid>\"(?:[^\"]|\"\")*\")|(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
    r"|(?P<id>[A-Za-z_][A-Za-z0-9_]*)|(?P<op><<|>>|<>|!=|<=|>=|[=<>(){}\[\],.:+\-*?]))"
)
_FUNCS = {
    "begins_with", "contains", "attribute_type", "size", "exists", "missing", "set_add",
    "set_delete", "list_append", "if_not_exists",
}  # fmt: skip


@dataclass
class Select:
    table: str
    index: str | None
    paths: list[tuple[PathPart, ...]] | None  # None = *
    where: Node | None


@dataclass
class Insert:
    table: str
    item: dict[str, Any]


@dataclass
class Update:
    table: str
    actions: list[UpdateAction]
    where: Node | None
    returning: str | None = None


@dataclass
class Delete:
    table: str
    where: Node | None
    returning: str | None = None


Statement = Select | Insert | Update | Delete


@dataclass
class _Tok:
    kind: str
    text: str


def syntax_error(detail: str = "") -> DdbValidationError:
    return DdbValidationError(
        f"Statement wasn't well formed, can't be processed: {detail}".rstrip(": ").rstrip()
    )


@dataclass
class _P(Descent[_Tok]):
    toks: list[_Tok]
    params: list[Any]
    i: int = 0
    used: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    WORD = "id"

    def end_error(self) -> DdbValidationError:
        return syntax_error("Unexpected end of statement")

    def op_error(self, op: str) -> DdbValidationError:
        t = self.peek()
        return syntax_error(f"Expected '{op}' but found {t.text if t else 'end of statement'}")

    def expect_kw(self, word: str) -> None:
        if not self.peek_kw(word):
            t = self.peek()
            raise syntax_error(f"Expected {word} but found {t.text if t else 'end of statement'}")
        self.i += 1

    # -- names and values -----------------------------------------------------------------

    def ident(self) -> str:
        t = self.take()
        if t.kind == "qid":
            return t.text[1:-1].replace('""', '"')
        if t.kind == "id":
            return t.text
        raise syntax_error(f"Unexpected token {t.text}")

    def path(self) -> Path:
        parts: list[PathPart] = [self.ident()]
        while True:
            if self.accept_op("."):
                parts.append(self.ident())
            elif self.accept_op("["):
                t = self.take()
                if t.kind == "num":
                    parts.append(int(t.text))
                elif t.kind == "str":
                    parts.append(t.text[1:-1].replace("''", "'"))
                else:
                    raise syntax_error(f"Unexpected token {t.text}")
                self.expect_op("]")
            else:
                return Path(tuple(parts))

    def value(self) -> dict[str, Any]:
        t = self.take()
        if t.kind == "str":
            return {"S": t.text[1:-1].replace("''", "'")}
        if t.kind == "num":
            return {"N": normalize_number(t.text)}
        if t.kind == "op" and t.text == "?":
            if self.used >= len(self.params):
                raise DdbValidationError(
                    "Number of parameters in request and statement don't match."
                )
            v = check_value(self.params[self.used])
            self.used += 1
            return v
        if t.kind == "op" and t.text == "{":
            return {"M": dict(self.enclosed("}", self.entry))}
        if t.kind == "op" and t.text == "[":
            return {"L": self.enclosed("]", self.value)}
        if t.kind == "op" and t.text == "<<":
            return _to_set(self.enclosed(">>", self.value))
        if t.kind == "id" and t.text.upper() in ("TRUE", "FALSE"):
            return {"BOOL": t.text.upper() == "TRUE"}
        if t.kind == "id" and t.text.upper() == "NULL":
            return {"NULL": True}
        raise syntax_error(f"Unexpected token {t.text}")

    def action(self, word: str) -> UpdateAction:
        """One `path = value` of a SET, or one path of a REMOVE."""
        path = self.path()
        if word == "SET":
            self.expect_op("=")
            return UpdateAction("SET", path, self.operand())
        return UpdateAction("REMOVE", path)

    def entry(self) -> tuple[str, dict[str, Any]]:
        """One `'name': value` member of a tuple."""
        k = self.take()
        if k.kind not in ("str", "qid"):
            raise syntax_error(f"Unexpected token {k.text}")
        self.expect_op(":")
        return k.text[1:-1], self.value()

    def operand(self) -> Node:
        t = self.peek()
        if t is None:
            raise syntax_error("Unexpected end of statement")
        nxt = self.peek(1)
        if t.kind == "id" and t.text.lower() in _FUNCS and nxt is not None and nxt.text == "(":
            return self.call()
        if t.kind in ("id", "qid") and t.text.upper() not in ("TRUE", "FALSE", "NULL"):
            node: Node = self.path()
        else:
            node = Literal(self.value())
        if self.peek_op("+", "-"):
            op = self.take().text
            return Arith(op, node, self.operand())
        return node

    def call(self) -> Node:
        name = self.take().text.lower()
        self.expect_op("(")
        args = self.items(self.operand)
        self.expect_op(")")
        if name == "exists":
            return Call("attribute_exists", tuple(args))
        if name == "missing":
            return Call("attribute_not_exists", tuple(args))
        return Call(name, tuple(args))

    def predicate(self) -> Node:
        left = self.operand()
        if isinstance(left, Call) and left.name != "size":
            return left
        if self.peek_op("=", "<>", "!=", "<", "<=", ">", ">="):
            op = self.take().text
            return Compare("<>" if op == "!=" else op, left, self.operand())
        if self.accept_kw("BETWEEN"):
            low = self.operand()
            self.expect_kw("AND")
            return Between(left, low, self.operand())
        if self.accept_kw("IN"):
            close = "]" if self.peek_op("[") else ")"
            self.take()
            options = self.items(self.operand)
            self.expect_op(close)
            return In(left, tuple(options))
        if self.accept_kw("IS"):
            negate = self.accept_kw("NOT")
            if self.accept_kw("MISSING"):
                return Call("attribute_exists" if negate else "attribute_not_exists", (left,))
            if self.accept_kw("NULL"):
                is_null: Node = Call("attribute_type", (left, Literal({"S": "NULL"})))
                return Not(is_null) if negate else is_null
            raise syntax_error("Expected MISSING or NULL")
        t = self.peek()
        raise syntax_error(f"Unexpected token {t.text if t else 'end of statement'}")


def _to_set(members: list[dict[str, Any]]) -> dict[str, Any]:
    if not members:
        raise DdbValidationError(
            "One or more parameter values were invalid: An set  may not be empty"
        )
    types = {next(iter(m)) for m in members}
    if types == {"S"}:
        return check_value({"SS": [m["S"] for m in members]})
    if types == {"N"}:
        return check_value({"NS": [m["N"] for m in members]})
    if types == {"B"}:
        return check_value({"BS": [m["B"] for m in members]})
    raise DdbValidationError("Unsupported set type in statement")


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    text = text.rstrip().rstrip(";")
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.lastgroup is None:
            raise syntax_error(f"Unexpected character {text[pos:].lstrip()[:1]}")
        toks.append(_Tok(m.lastgroup, m.group(m.lastgroup)))
        pos = m.end()
    return toks


def parse_statement(text: str, params: list[Any] | None = None) -> Statement:
    """Parse one PartiQL statement with its parameters."""
    p = _P(_tokenize(text), list(params or []))
    if p.accept_kw("SELECT"):
        paths: list[tuple[PathPart, ...]] | None = None
        if not p.accept_op("*"):
            paths = [path.parts for path in p.items(p.path)]
        p.expect_kw("FROM")
        table = p.ident()
        index = None
        if p.accept_op("."):
            index = p.ident()
        where = None
        if p.accept_kw("WHERE"):
            where = p.condition()
        stmt: Statement = Select(table, index, paths, where)
    elif p.accept_kw("INSERT"):
        p.expect_kw("INTO")
        table = p.ident()
        p.expect_kw("VALUE")
        item = p.value()
        if "M" not in item:
            raise syntax_error("INSERT VALUE must be a tuple")
        stmt = Insert(table, item["M"])
    elif p.accept_kw("UPDATE"):
        table = p.ident()
        actions: list[UpdateAction] = []
        while p.peek_kw("SET", "REMOVE"):
            actions += p.items(partial(p.action, p.take().text.upper()))
        if not actions:
            raise syntax_error("Expected SET or REMOVE")
        p.expect_kw("WHERE")
        where = p.condition()
        stmt = Update(table, actions, where, _returning(p))
    elif p.accept_kw("DELETE"):
        p.expect_kw("FROM")
        table = p.ident()
        p.expect_kw("WHERE")
        where = p.condition()
        stmt = Delete(table, where, _returning(p))
    else:
        t = p.peek()
        raise syntax_error(f"Unexpected keyword {t.text if t else ''}")
    if p.i < len(p.toks):
        raise syntax_error(f"Unexpected token {p.toks[p.i].text}")
    if p.used != len(p.params):
        raise DdbValidationError("Number of parameters in request and statement don't match.")
    return stmt


def _returning(p: _P) -> str | None:
    if not p.peek_kw("RETURNING"):
        return None
    p.i += 1
    words = []
    while p.peek() is not None and not p.peek_op("*"):
        words.append(p.take().text.upper())
    p.expect_op("*")
    return "_".join(words)  # ALL_OLD, ALL_NEW, MODIFIED_OLD, MODIFIED_NEW


def key_equalities(where: Node | None) -> dict[str, dict[str, Any]]:
    """Top-level `attr = literal` conjuncts of a WHERE clause (used to find the key)."""
    out: dict[str, dict[str, Any]] = {}
    stack = [where] if where is not None else []
    while stack:
        n = stack.pop()
        if isinstance(n, And):
            stack.extend([n.left, n.right])
        elif isinstance(n, Compare) and n.op == "=":
            a, b = n.left, n.right
            if isinstance(b, Path):
                a, b = b, a
            if isinstance(a, Path) and len(a.parts) == 1 and isinstance(b, Literal):
                out[str(a.parts[0])] = b.value
    return out
