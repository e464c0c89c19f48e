"""The JSONPath subset API Gateway's $input.json/$input.path accept: $, .name, ['name'], [n],
[*], ..name (recursive descent) and a trailing .length() on arrays."""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(
    r"""\.\.(?P<deep>[A-Za-z_$][\w$-]*|\*)
      |\.(?P<name>[A-Za-z_$@][\w$@-]*|\*)(?P<call>\(\))?
      |\[\s*(?:'(?P<sq>[^']*)'|"(?P<dq>[^"]*)"|(?P<idx>-?\d+)|(?P<star>\*))\s*\]""",
    re.VERBOSE,
)


class JsonPathError(ValueError):
    """The path is not valid."""


def evaluate(path: str, doc: Any) -> Any:
    """The value at `path` in `doc`: a single value, a list for wildcard/deep paths, or None."""
    path = path.strip()
    if not path.startswith("$"):
        raise JsonPathError(f"Invalid JSONPath: {path}")
    pos = 1
    current: list[Any] = [doc]
    multi = False
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if m is None:
            raise JsonPathError(f"Invalid JSONPath: {path}")
        pos = m.end()
        nxt: list[Any] = []
        if m.group("deep") is not None:
            multi = True
            key = m.group("deep")
            for node in current:
                _deep(node, key, nxt)
        elif m.group("name") is not None and m.group("call"):
            fn = m.group("name")
            if fn in ("length", "size"):
                nxt = [len(n) for n in current if isinstance(n, (list, str, dict))]
            else:
                raise JsonPathError(f"Unsupported function {fn}()")
        elif m.group("name") == "*" or m.group("star"):
            multi = True
            for node in current:
                if isinstance(node, dict):
                    nxt.extend(node.values())
                elif isinstance(node, list):
                    nxt.extend(node)
        else:
            key = m.group("name") or m.group("sq") or m.group("dq")
            if key is not None:
                for node in current:
                    if isinstance(node, dict) and key in node:
                        nxt.append(node[key])
            else:
                i = int(m.group("idx"))
                for node in current:
                    if isinstance(node, list) and -len(node) <= i < len(node):
                        nxt.append(node[i])
        current = nxt
    if multi:
        return current
    return current[0] if current else None


def _deep(node: Any, key: str, out: list[Any]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if key == "*" or k == key:
                out.append(v)
            _deep(v, key, out)
    elif isinstance(node, list):
        for v in node:
            if key == "*":
                out.append(v)
            _deep(v, key, out)
