"""Velocity Template Language source → a tree of nodes (text, references, directives).

One character-level parser serves both the template text and the expressions inside directives
and method arguments, because references nest inside expressions and expressions inside
references ($a.b($c.d(1))).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class VtlSyntaxError(ValueError):
    """The template cannot be parsed (API Gateway answers 500 for such a template)."""


# -- the tree -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Text:
    value: str


@dataclass(slots=True)
class Attr:
    name: str


@dataclass(slots=True)
class Call:
    name: str
    args: list[Any]


@dataclass(slots=True)
class Index:
    expr: Any


@dataclass(slots=True)
class Ref:
    """$name.part.part(...)[...]; `raw` is the source text, printed when the value is null."""

    name: str
    parts: list[Any]
    quiet: bool
    raw: str


@dataclass(slots=True)
class Literal:
    value: Any


@dataclass(slots=True)
class Interp:
    """A double-quoted string: a little template evaluated to a string."""

    body: list[Any]


@dataclass(slots=True)
class ListExpr:
    items: list[Any]


@dataclass(slots=True)
class RangeExpr:
    start: Any
    end: Any


@dataclass(slots=True)
class MapExpr:
    items: list[tuple[Any, Any]]


@dataclass(slots=True)
class Unary:
    op: str
    operand: Any


@dataclass(slots=True)
class Binary:
    op: str
    left: Any
    right: Any


@dataclass(slots=True)
class SetNode:
    target: Ref
    expr: Any


@dataclass(slots=True)
class IfNode:
    branches: list[tuple[Any, list[Any]]]
    orelse: list[Any] | None = None


@dataclass(slots=True)
class ForeachNode:
    var: str
    iterable: Any
    body: list[Any] = field(default_factory=list)


@dataclass(slots=True)
class BreakNode:
    pass


@dataclass(slots=True)
class StopNode:
    pass


_KEYWORD_OPS = {
    "and": "&&",
    "or": "||",
    "not": "!",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
}
_BINARY_LEVELS: list[list[str]] = [
    ["||"],
    ["&&"],
    ["==", "!="],
    ["<=", ">=", "<", ">"],
    ["+", "-"],
    ["*", "/", "%"],
]
_DIRECTIVES = ("set", "if", "elseif", "else", "end", "foreach", "break", "stop")


def _ident_start(c: str) -> bool:
    return c.isalpha() or c == "_"


def _ident_char(c: str) -> bool:
    return c.isalnum() or c in "_-"


class Parser:
    """Recursive descent over one source string."""

    def __init__(self, src: str) -> None:
        self.s = src
        self.i = 0
        self.n = len(src)
        self._eat_eol = False

    # -- template level ------------------------------------------------------------------------

    def parse_template(self) -> list[Any]:
        """The whole source as a node list."""
        nodes, stop = self._block(())
        if stop is not None:
            raise VtlSyntaxError(f"unexpected #{stop} at {self.i}")
        return nodes

    def _block(self, stops: tuple[str, ...]) -> tuple[list[Any], str | None]:
        """Nodes up to one of the directives in `stops` (consumed, and returned) or the end."""
        nodes: list[Any] = []
        buf: list[str] = []

        def flush() -> None:
            if buf:
                nodes.append(Text("".join(buf)))
                buf.clear()

        while self.i < self.n:
            c = self.s[self.i]
            if c == "\\" and self.i + 1 < self.n and self.s[self.i + 1] in "$#":
                # An escaped reference or directive prints as written, minus the backslash.
                buf.append(self.s[self.i + 1])
                self.i += 2
                continue
            if c == "$":
                ref = self._try_ref()
                if ref is not None:
                    flush()
                    nodes.append(ref)
                else:
                    buf.append(c)
                    self.i += 1
                continue
            if c == "#":
                if self.s.startswith("##", self.i):
                    end = self.s.find("\n", self.i)
                    self.i = self.n if end < 0 else end + 1
                    continue
                if self.s.startswith("#*", self.i):
                    end = self.s.find("*#", self.i + 2)
                    self.i = self.n if end < 0 else end + 2
                    continue
                if self.s.startswith("#[[", self.i):
                    end = self.s.find("]]#", self.i + 3)
                    end = self.n if end < 0 else end
                    buf.append(self.s[self.i + 3 : end])
                    self.i = min(self.n, end + 3)
                    continue
                dstart = self.i
                name = self._directive_name()
                if name is None:
                    buf.append(c)
                    self.i += 1
                    continue
                self._gobble_line_start(buf, dstart)
                flush()
                if name in stops:
                    return nodes, name
                node = self._directive(name)
                if node is not None:
                    nodes.append(node)
                continue
            buf.append(c)
            self.i += 1
        flush()
        return nodes, None

    def _gobble_line_start(self, buf: list[str], dstart: int) -> None:
        """A directive alone on its line takes its indentation with it (Velocity 'lines' mode)."""
        k = dstart - 1
        while k >= 0 and self.s[k] in " \t":
            k -= 1
        indent = dstart - 1 - k
        self._eat_eol = (k < 0 or self.s[k] == "\n") and len(buf) >= indent
        if self._eat_eol and indent:
            del buf[-indent:]

    def _finish_directive_line(self) -> None:
        if not getattr(self, "_eat_eol", False):
            return
        j = self.i
        while j < self.n and self.s[j] in " \t":
            j += 1
        if j < self.n and self.s[j] == "\n":
            self.i = j + 1
        elif j < self.n and self.s.startswith("\r\n", j):
            self.i = j + 2
        elif j >= self.n:
            self.i = j

    def _directive_name(self) -> str | None:
        m = self.i + 1
        braced = m < self.n and self.s[m] == "{"
        if braced:
            m += 1
        k = m
        while k < self.n and self.s[k].isalpha():
            k += 1
        name = self.s[m:k]
        if name not in _DIRECTIVES:
            return None
        if braced:
            if k >= self.n or self.s[k] != "}":
                return None
            k += 1
        self.i = k
        return name

    def _directive(self, name: str) -> Any:
        if name == "set":
            self._expect_open()
            self._ws()
            target = self._try_ref()
            if target is None:
                raise VtlSyntaxError("#set needs a reference")
            self._ws()
            self._expect("=")
            expr = self.parse_expr()
            self._ws()
            self._expect(")")
            self._finish_directive_line()
            return SetNode(target, expr)
        if name == "if":
            return self._if()
        if name == "foreach":
            self._expect_open()
            self._ws()
            self._expect("$")
            var = self._ident()
            self._ws()
            if not self.s.startswith("in", self.i):
                raise VtlSyntaxError("#foreach needs 'in'")
            self.i += 2
            iterable = self.parse_expr()
            self._ws()
            self._expect(")")
            self._finish_directive_line()
            body, stop = self._block(("end",))
            if stop != "end":
                raise VtlSyntaxError("#foreach without #end")
            self._finish_directive_line()
            return ForeachNode(var, iterable, body)
        if name == "break":
            self._finish_directive_line()
            return BreakNode()
        if name == "stop":
            return StopNode()
        raise VtlSyntaxError(f"unexpected #{name}")

    def _if(self) -> IfNode:
        self._expect_open()
        cond = self.parse_expr()
        self._ws()
        self._expect(")")
        self._finish_directive_line()
        node = IfNode([])
        while True:
            body, stop = self._block(("elseif", "else", "end"))
            node.branches.append((cond, body))
            if stop == "elseif":
                self._expect_open()
                cond = self.parse_expr()
                self._ws()
                self._expect(")")
                self._finish_directive_line()
                continue
            if stop == "else":
                self._finish_directive_line()
                orelse, stop2 = self._block(("end",))
                if stop2 != "end":
                    raise VtlSyntaxError("#else without #end")
                self._finish_directive_line()
                node.orelse = orelse
                return node
            if stop == "end":
                self._finish_directive_line()
                return node
            raise VtlSyntaxError("#if without #end")

    # -- references ----------------------------------------------------------------------------

    def _try_ref(self) -> Ref | None:
        """A reference at self.i ('$'), or None (and self.i unchanged) if it is literal text."""
        start = self.i
        j = self.i + 1
        quiet = j < self.n and self.s[j] == "!"
        if quiet:
            j += 1
        braced = j < self.n and self.s[j] == "{"
        if braced:
            j += 1
        if j >= self.n or not _ident_start(self.s[j]):
            return None
        self.i = j
        name = self._ident(allow_dash=False)
        parts: list[Any] = []
        while self.i < self.n:
            c = self.s[self.i]
            if c == "." and self.i + 1 < self.n and _ident_start(self.s[self.i + 1]):
                self.i += 1
                member = self._ident(allow_dash=False)
                if self.i < self.n and self.s[self.i] == "(":
                    self.i += 1
                    parts.append(Call(member, self._args(")")))
                else:
                    parts.append(Attr(member))
            elif c == "[":
                self.i += 1
                expr = self.parse_expr()
                self._ws()
                self._expect("]")
                parts.append(Index(expr))
            else:
                break
        if braced:
            if self.i >= self.n or self.s[self.i] != "}":
                self.i = start
                return None
            self.i += 1
        return Ref(name, parts, quiet, self.s[start : self.i])

    def _args(self, close: str) -> list[Any]:
        args: list[Any] = []
        self._ws()
        if self.i < self.n and self.s[self.i] == close:
            self.i += 1
            return args
        while True:
            args.append(self.parse_expr())
            self._ws()
            if self.i < self.n and self.s[self.i] == ",":
                self.i += 1
                continue
            self._expect(close)
            return args

    def _ident(self, allow_dash: bool = False) -> str:
        k = self.i
        if k >= self.n or not _ident_start(self.s[k]):
            raise VtlSyntaxError(f"identifier expected at {k}")
        k += 1
        while k < self.n and (
            self.s[k].isalnum() or self.s[k] == "_" or (allow_dash and self.s[k] == "-")
        ):
            k += 1
        name = self.s[self.i : k]
        self.i = k
        return name

    # -- expressions ---------------------------------------------------------------------------

    def parse_expr(self) -> Any:
        """One expression (operators by precedence)."""
        return self._binary(0)

    def _binary(self, level: int) -> Any:
        if level == len(_BINARY_LEVELS):
            return self._unary()
        left = self._binary(level + 1)
        while True:
            op = self._peek_op(_BINARY_LEVELS[level])
            if op is None:
                return left
            right = self._binary(level + 1)
            left = Binary(op, left, right)

    def _peek_op(self, ops: list[str]) -> str | None:
        self._ws()
        for op in ops:
            if self.s.startswith(op, self.i):
                if op in ("<", ">") and self.s.startswith(op + "=", self.i):
                    continue
                if op == "!" or (op == "=" and self.s.startswith("==", self.i)):
                    continue
                self.i += len(op)
                return op
        # Word operators: and, or, eq, ...
        k = self.i
        while k < self.n and self.s[k].isalpha():
            k += 1
        word = self.s[self.i : k]
        sym = _KEYWORD_OPS.get(word)
        if sym in ops and (k >= self.n or not _ident_char(self.s[k])):
            self.i = k
            return sym
        return None

    def _unary(self) -> Any:
        self._ws()
        if self.s.startswith("!", self.i) and not self.s.startswith("!=", self.i):
            self.i += 1
            return Unary("!", self._unary())
        if self.s.startswith("not", self.i) and not _ident_char(self._char(self.i + 3)):
            self.i += 3
            return Unary("!", self._unary())
        if self.s.startswith("-", self.i) and not self._char(self.i + 1).isdigit():
            self.i += 1
            return Unary("-", self._unary())
        return self._primary()

    def _char(self, k: int) -> str:
        return self.s[k] if k < self.n else ""

    def _primary(self) -> Any:
        self._ws()
        if self.i >= self.n:
            raise VtlSyntaxError("expression expected")
        c = self.s[self.i]
        if c == "(":
            self.i += 1
            e = self.parse_expr()
            self._ws()
            self._expect(")")
            return e
        if c == "$":
            ref = self._try_ref()
            if ref is None:
                raise VtlSyntaxError(f"bad reference at {self.i}")
            return ref
        if c == "'":
            end = self.s.find("'", self.i + 1)
            if end < 0:
                raise VtlSyntaxError("unterminated string")
            value = self.s[self.i + 1 : end]
            self.i = end + 1
            return Literal(value)
        if c == '"':
            return self._dq_string()
        if c == "[":
            self.i += 1
            self._ws()
            if self._char(self.i) == "]":
                self.i += 1
                return ListExpr([])
            first = self.parse_expr()
            self._ws()
            if self.s.startswith("..", self.i):
                self.i += 2
                end_expr = self.parse_expr()
                self._ws()
                self._expect("]")
                return RangeExpr(first, end_expr)
            items = [first]
            while self._char(self.i) == ",":
                self.i += 1
                items.append(self.parse_expr())
                self._ws()
            self._expect("]")
            return ListExpr(items)
        if c == "{":
            self.i += 1
            pairs: list[tuple[Any, Any]] = []
            self._ws()
            if self._char(self.i) == "}":
                self.i += 1
                return MapExpr(pairs)
            while True:
                k = self.parse_expr()
                self._ws()
                self._expect(":")
                v = self.parse_expr()
                pairs.append((k, v))
                self._ws()
                if self._char(self.i) == ",":
                    self.i += 1
                    continue
                self._expect("}")
                return MapExpr(pairs)
        if c.isdigit() or c == "-":
            k = self.i + 1
            while k < self.n and self.s[k].isdigit():
                k += 1
            is_float = k + 1 < self.n and self.s[k] == "." and self.s[k + 1].isdigit()
            if is_float:
                k += 1
                while k < self.n and self.s[k].isdigit():
                    k += 1
            text = self.s[self.i : k]
            self.i = k
            return Literal(float(text) if is_float else int(text))
        words: tuple[tuple[str, Any], ...] = (("true", True), ("false", False), ("null", None))
        for word, value in words:
            if self.s.startswith(word, self.i) and not _ident_char(self._char(self.i + len(word))):
                self.i += len(word)
                return Literal(value)
        raise VtlSyntaxError(f"unexpected {c!r} at {self.i}")

    def _dq_string(self) -> Any:
        k = self.i + 1
        depth = 0
        while k < self.n:
            ch = self.s[k]
            if ch == "\\" and k + 1 < self.n:
                k += 2
                continue
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth = max(0, depth - 1)
            elif ch == '"' and depth == 0:
                break
            k += 1
        if k >= self.n:
            raise VtlSyntaxError("unterminated string")
        inner = self.s[self.i + 1 : k].replace('\\"', '"')
        self.i = k + 1
        if "$" not in inner and "#" not in inner:
            return Literal(inner)
        return Interp(Parser(inner).parse_template())

    # -- small helpers -------------------------------------------------------------------------

    def _ws(self) -> None:
        while self.i < self.n and self.s[self.i] in " \t\r\n":
            self.i += 1

    def _expect(self, text: str) -> None:
        if not self.s.startswith(text, self.i):
            got = self.s[self.i : self.i + 10]
            raise VtlSyntaxError(f"expected {text!r} at {self.i}, found {got!r}")
        self.i += len(text)

    def _expect_open(self) -> None:
        self._ws_inline()
        self._expect("(")

    def _ws_inline(self) -> None:
        while self.i < self.n and self.s[self.i] in " \t":
            self.i += 1


def parse(src: str) -> list[Any]:
    """Parse a template into its node list (raises VtlSyntaxError)."""
    return Parser(src).parse_template()
