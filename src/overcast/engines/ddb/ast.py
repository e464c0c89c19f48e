"""The expression AST: small frozen dataclasses, built once per expression text and cached.

Names in paths stay as written (`a` or `#a`); `ExpressionAttributeNames` are applied when a path is
resolved, so one parsed expression serves every request that uses the same text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PathPart = str | int  # an attribute name (bare or #ref) or a list index


@dataclass(frozen=True, slots=True)
class Path:
    parts: tuple[PathPart, ...]


@dataclass(frozen=True, slots=True)
class ValueRef:
    name: str  # ":v"


@dataclass(frozen=True, slots=True)
class Literal:
    """A value carried in the expression itself (PartiQL literals, legacy parameters)."""

    value: dict[str, object]


@dataclass(frozen=True, slots=True)
class Call:
    """A function: attribute_exists, attribute_not_exists, attribute_type, begins_with, contains,
    size, if_not_exists, list_append."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Arith:
    op: str  # "+" or "-"
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # = <> < <= > >=
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Between:
    operand: Node
    low: Node
    high: Node


@dataclass(frozen=True, slots=True)
class In:
    operand: Node
    options: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Or:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


Node = Path | ValueRef | Literal | Call | Arith | Compare | Between | In | And | Or | Not


@dataclass(frozen=True, slots=True)
class UpdateAction:
    kind: str  # SET, REMOVE, ADD, DELETE
    path: Path
    value: Node | None = None


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parsed expression with the #names and :values it mentions (for unused/undefined checks)."""

    kind: str  # "ConditionExpression", "UpdateExpression", ...
    node: Node | None = None
    actions: tuple[UpdateAction, ...] = ()
    paths: tuple[Path, ...] = ()
    names: frozenset[str] = field(default_factory=frozenset)
    values: frozenset[str] = field(default_factory=frozenset)
