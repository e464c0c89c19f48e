"""Match a request path and method to a REST resource or an HTTP API route.

Paths are templates such as ``/products/{productId}`` and ``/{proxy+}``. Static segments win over
`{param}`, which wins over greedy `{name+}`; a method-specific entry wins over ANY. Built once per
deployment, then matched per request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import unquote

T = TypeVar("T")


@dataclass
class _Node(Generic[T]):
    static: dict[str, _Node[T]] = field(default_factory=dict)
    param: tuple[str, _Node[T]] | None = None
    greedy: tuple[str, dict[str, T]] | None = None
    methods: dict[str, T] = field(default_factory=dict)
    template: str = "/"


@dataclass(frozen=True, slots=True)
class Match(Generic[T]):
    """The matched entry, its path template and the path parameters (decoded)."""

    value: T
    template: str
    params: dict[str, str]
    method_found: bool = True


def split_path(path: str, decode: bool = True) -> list[str]:
    """Path segments, percent-decoded unless told not to (an empty path and '/' have none)."""
    return [unquote(s) if decode else s for s in path.split("/") if s != ""]


class Router(Generic[T]):
    """A trie of path templates, each holding entries by HTTP method (or 'ANY')."""

    def __init__(self) -> None:
        self.root: _Node[T] = _Node()
        self.greedy_templates: dict[int, str] = {}

    def add(self, template: str, method: str, value: T) -> None:
        """Register `value` for `method` (or ANY) on `template`."""
        node = self.root
        parts = [p for p in template.split("/") if p]
        for i, part in enumerate(parts):
            if part.startswith("{") and part.endswith("+}"):
                if i != len(parts) - 1:
                    raise ValueError("a greedy path variable must be the last segment")
                name = part[1:-2]
                if node.greedy is None:
                    node.greedy = (name, {})
                node.greedy[1][method] = value
                self.greedy_templates[id(node.greedy[1])] = template
                return
            if part.startswith("{") and part.endswith("}"):
                name = part[1:-1]
                if node.param is None:
                    node.param = (name, _Node(template="/" + "/".join(parts[: i + 1])))
                node = node.param[1]
            else:
                node = node.static.setdefault(part, _Node(template="/" + "/".join(parts[: i + 1])))
        node.methods[method] = value

    def match(self, path: str, method: str, *, decode: bool = True) -> Match[T] | None:
        """The best entry for `method` on `path`, or None. A path that exists without the
        method gives a Match with method_found=False (so callers can tell 404 from 405-ish).
        With decode=False the parameters keep their percent-encoding (REST APIs do)."""
        segs = split_path(path, decode)
        found = self._walk(self.root, segs, 0, method, {})
        if found is not None:
            return found
        return self._walk(self.root, segs, 0, None, {})

    def _walk(
        self, node: _Node[T], segs: list[str], i: int, method: str | None, params: dict[str, str]
    ) -> Match[T] | None:
        if i == len(segs):
            return self._pick(node.methods, node.template, params, method)
        seg = segs[i]
        child = node.static.get(seg)
        if child is not None:
            m = self._walk(child, segs, i + 1, method, params)
            if m is not None:
                return m
        if node.param is not None:
            name, pnode = node.param
            m = self._walk(pnode, segs, i + 1, method, {**params, name: seg})
            if m is not None:
                return m
        if node.greedy is not None:
            name, methods = node.greedy
            template = self.greedy_templates[id(methods)]
            return self._pick(methods, template, {**params, name: "/".join(segs[i:])}, method)
        return None

    @staticmethod
    def _pick(
        methods: dict[str, T], template: str, params: dict[str, str], method: str | None
    ) -> Match[T] | None:
        if not methods:
            return None
        if method is None:
            return Match(next(iter(methods.values())), template, params, method_found=False)
        if method in methods:
            return Match(methods[method], template, params)
        if "ANY" in methods:
            return Match(methods["ANY"], template, params)
        return None


def route_key_parts(route_key: str) -> tuple[str, str] | None:
    """'GET /items/{id}' → ('GET', '/items/{id}'); '$default' → None."""
    if route_key == "$default":
        return None
    method, _, path = route_key.partition(" ")
    return method.upper(), path


def build_router(entries: list[tuple[str, str, Any]]) -> Router[Any]:
    """A router from (template, method, value) triples."""
    r: Router[Any] = Router()
    for template, method, value in entries:
        r.add(template, method, value)
    return r
