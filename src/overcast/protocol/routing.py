"""Request routing for the rest protocols: HTTP method + requestUri template → operation.

Every operation's `requestUri` compiles into a `Route`: path segments (literals, `{Label}`, one
trailing `{Greedy+}`), the query literals after `?` (`?uploads`, `?list-type=2`), and — only where
several operations share the same method, path and literals (S3's PutObject / CopyObject /
UploadPart / UploadPartCopy) — discriminators: the required querystring parameters and headers
that set one apart. Routes go into a trie per method; lookup walks it preferring literal segments
over labels over greedy labels, as AWS does, and at each end tries the most specific route first
(more query literals, then more discriminators, then non-deprecated, then the quirks' preference).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from botocore.model import OperationModel, ServiceModel


@dataclass(frozen=True, slots=True)
class Label:
    """A `{Name}` (or greedy `{Name+}`) path segment bound to an input member."""

    index: int
    member: str
    greedy: bool


@dataclass(slots=True)
class Route:
    """One operation's place in the URL space."""

    op: OperationModel
    method: str
    segments: tuple[str, ...]  # literal text, or "" for a label
    labels: tuple[Label, ...]
    query_literals: tuple[tuple[str, str | None], ...]
    required_query: tuple[str, ...] = ()
    required_headers: tuple[str, ...] = ()
    rank: tuple[int, ...] = ()

    def accepts(self, query: dict[str, list[str]], headers: dict[str, str]) -> bool:
        """Whether the request's query string and headers fit this route's extra conditions."""
        for key, value in self.query_literals:
            got = query.get(key)
            if got is None or (value is not None and value not in got):
                return False
        for key in self.required_query:
            if key not in query:
                return False
        return all(name in headers for name in self.required_headers)

    def label_values(self, path: str) -> dict[str, str]:
        """The percent-decoded label values of a path this route matched."""
        segs = path.split("/")[1:]
        out = {}
        for label in self.labels:
            if label.greedy:
                out[label.member] = unquote("/".join(segs[label.index :]))
            else:
                out[label.member] = unquote(segs[label.index])
        return out


@dataclass(slots=True)
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    label: _Node | None = None
    routes: list[Route] = field(default_factory=list)  # ending here
    greedy: list[Route] = field(default_factory=list)  # a greedy label starting here
    # The same two lists without the routes that need a query string: all a request with none
    # can match (most object reads and writes), so it is not tried against every subresource.
    plain_routes: list[Route] = field(default_factory=list)
    plain_greedy: list[Route] = field(default_factory=list)


def compile_route(op: OperationModel) -> Route:
    """The Route of one operation, from its http.method and http.requestUri."""
    uri: str = op.http.get("requestUri", "/")
    path, _, query = uri.partition("?")
    segments: list[str] = []
    labels: list[Label] = []
    members = op.input_shape.members if op.input_shape is not None else {}
    by_wire = {m.serialization.get("name", n): n for n, m in members.items()}
    parts = path.split("/")[1:]
    if parts and parts[-1] == "":
        parts.pop()
    for i, part in enumerate(parts):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            greedy = name.endswith("+")
            name = name.rstrip("+")
            labels.append(Label(i, by_wire.get(name, name), greedy))
            segments.append("")
        else:
            segments.append(part)
    literals: list[tuple[str, str | None]] = []
    for item in query.split("&") if query else []:
        key, eq, value = item.partition("=")
        literals.append((key, value if eq else None))
    return Route(
        op=op,
        method=op.http.get("method", "POST"),
        segments=tuple(segments),
        labels=tuple(labels),
        query_literals=tuple(literals),
    )


class Router:
    """All routes of one rest service."""

    def __init__(self, model: ServiceModel, preference: list[str] | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self._roots: dict[str, _Node] = defaultdict(_Node)
        preferred = {name: i for i, name in enumerate(preference or [])}
        for name in model.operation_names:
            self.routes[name] = compile_route(model.operation_model(name))
        self._add_discriminators()
        for route in self.routes.values():
            route.rank = (
                -len(route.query_literals),
                -(len(route.required_query) + len(route.required_headers)),
                1 if route.op.deprecated else 0,
                preferred.get(route.op.name, len(preferred)),
            )
            self._insert(route)
        for node in self._all_nodes():
            node.routes.sort(key=lambda r: r.rank)
            node.greedy.sort(key=lambda r: r.rank)
            node.plain_routes = [r for r in node.routes if _without_query(r)]
            node.plain_greedy = [r for r in node.greedy if _without_query(r)]

    def _add_discriminators(self) -> None:
        groups: dict[tuple[Any, ...], list[Route]] = defaultdict(list)
        for route in self.routes.values():
            greedy = tuple(label.greedy for label in route.labels)
            key = (route.method, route.segments, greedy, frozenset(route.query_literals))
            groups[key].append(route)
        for group in groups.values():
            if len(group) < 2:
                continue
            required = {id(r): _required_located(r.op) for r in group}
            common = set.intersection(*(set(v) for v in required.values()))
            for route in group:
                extra = [item for item in required[id(route)] if item not in common]
                route.required_query = tuple(w for loc, w in extra if loc == "querystring")
                route.required_headers = tuple(w for loc, w in extra if loc == "header")

    def _insert(self, route: Route) -> None:
        node = self._roots[route.method]
        greedy_at = {label.index for label in route.labels if label.greedy}
        for i, seg in enumerate(route.segments):
            if i in greedy_at:
                node.greedy.append(route)
                return
            if seg == "":
                if node.label is None:
                    node.label = _Node()
                node = node.label
            else:
                node = node.literals.setdefault(seg, _Node())
        node.routes.append(route)

    def _all_nodes(self) -> list[_Node]:
        out: list[_Node] = []
        stack = list(self._roots.values())
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(node.literals.values())
            if node.label is not None:
                stack.append(node.label)
        return out

    def find(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> Route | None:
        """The route of a request (path still percent-encoded), or None."""
        root = self._roots.get(method)
        if root is None:
            return None
        return _walk(root, path.split("/")[1:], 0, query, headers)


def _walk(
    node: _Node,
    segs: list[str],
    i: int,
    query: dict[str, list[str]],
    headers: dict[str, str],
) -> Route | None:
    n = len(segs)
    if i == n or (i == n - 1 and segs[i] == ""):
        for route in node.routes if query else node.plain_routes:
            if route.accepts(query, headers):
                return route
        if i == n:
            return None
    seg = segs[i]
    child = node.literals.get(seg)
    if child is not None:
        found = _walk(child, segs, i + 1, query, headers)
        if found is not None:
            return found
    if node.label is not None and seg != "":
        found = _walk(node.label, segs, i + 1, query, headers)
        if found is not None:
            return found
    if node.greedy and (n - i > 1 or seg != ""):  # a greedy label takes one character or more
        for route in node.greedy if query else node.plain_greedy:
            if route.accepts(query, headers):
                return route
    return None


def _without_query(route: Route) -> bool:
    return not route.query_literals and not route.required_query


def _required_located(op: OperationModel) -> list[tuple[str, str]]:
    shape = op.input_shape
    if shape is None:
        return []
    out = []
    for name in shape.required_members:
        member = shape.members[name]
        location = member.serialization.get("location")
        if location in ("querystring", "header"):
            wire = member.serialization.get("name", name)
            out.append((location, wire if location == "querystring" else wire.lower()))
    return out
