"""What DynamoDB's two grammars share: a cursor over tokens and the boolean layers of a condition
(OR binds loosest, then AND, then NOT, then a parenthesised condition or a predicate).

The expression parser (`parser`) and the PartiQL parser (`partiql`) subclass `Descent`, naming
their keyword token kind and how they report an unexpected token or the end of input; each
supplies its own `predicate` (comparisons, BETWEEN, IN, functions).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

from overcast.engines.ddb.ast import And, Node, Not, Or


class Token(Protocol):
    """A token: its kind (the tokenizer's group name) and its text."""

    kind: str
    text: str


T = TypeVar("T", bound=Token)
I = TypeVar("I")  # noqa: E741 - an item of a list


class Descent(Generic[T]):
    """Recursive descent over `toks` from position `i`."""

    WORD = "ident"  # the token kind of keywords
    toks: Sequence[T]
    i: int

    def end_error(self) -> Exception:
        """The error for input that ends too soon."""
        raise NotImplementedError

    def op_error(self, op: str) -> Exception:
        """The error for a missing operator `op`."""
        raise NotImplementedError

    def predicate(self) -> Node:
        """A condition's innermost layer: a comparison, BETWEEN, IN or a function."""
        raise NotImplementedError

    # -- the cursor ------------------------------------------------------------------------

    def peek(self, offset: int = 0) -> T | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def peek_kw(self, *words: str) -> bool:
        t = self.peek()
        return t is not None and t.kind == self.WORD and t.text.upper() in words

    def peek_op(self, *ops: str) -> bool:
        t = self.peek()
        return t is not None and t.kind == "op" and t.text in ops

    def accept_kw(self, word: str) -> bool:
        """Step over keyword `word` if it is next."""
        found = self.peek_kw(word)
        self.i += found
        return found

    def accept_op(self, op: str) -> bool:
        """Step over operator `op` if it is next."""
        found = self.peek_op(op)
        self.i += found
        return found

    def take(self) -> T:
        t = self.peek()
        if t is None:
            raise self.end_error()
        self.i += 1
        return t

    def expect_op(self, op: str) -> None:
        if not self.peek_op(op):
            raise self.op_error(op)
        self.i += 1

    def items(self, item: Callable[[], I]) -> list[I]:
        """One or more `item`s separated by commas."""
        out = [item()]
        while self.accept_op(","):
            out.append(item())
        return out

    def enclosed(self, close: str, item: Callable[[], I]) -> list[I]:
        """Zero or more `item`s separated by commas, up to the `close` operator (consumed)."""
        out: list[I] = []
        while not self.peek_op(close):
            out.append(item())
            if not self.peek_op(","):
                break
            self.i += 1
        self.expect_op(close)
        return out

    # -- conditions ------------------------------------------------------------------------

    def condition(self) -> Node:
        node = self.and_expr()
        while self.accept_kw("OR"):
            node = Or(node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.not_expr()
        while self.accept_kw("AND"):
            node = And(node, self.not_expr())
        return node

    def not_expr(self) -> Node:
        if self.accept_kw("NOT"):
            return Not(self.not_expr())
        if self.accept_op("("):
            node = self.condition()
            self.expect_op(")")
            return node
        return self.predicate()
