"""Dependencies between resources (Ref, Fn::GetAtt, Fn::Sub variables, DependsOn) and the order
they imply: topological levels, each a group of resources that can be worked on together."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from overcast.engines.cfn.errors import TemplateError
from overcast.engines.cfn.intrinsics import _SUB_VAR


def references(value: Any, resources: Iterable[str], conditions: dict[str, bool]) -> set[str]:
    """Resources a template value names, following only the taken branch of each Fn::If."""
    names = set(resources)
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            if len(v) == 1:
                key, arg = next(iter(v.items()))
                if key == "Ref" and isinstance(arg, str):
                    if arg in names:
                        found.add(arg)
                    return
                if key == "Fn::GetAtt":
                    target = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0]
                    if isinstance(target, str) and target in names:
                        found.add(target)
                    if isinstance(arg, list):
                        walk(arg[1:])
                    return
                if key == "Fn::Sub":
                    text, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                    if isinstance(text, str):
                        for m in _SUB_VAR.finditer(text):
                            var = m.group(1).strip()
                            if var.startswith("!") or var in local:
                                continue
                            head = var.split(".", 1)[0]
                            if head in names:
                                found.add(head)
                    else:
                        walk(text)
                    walk(local)
                    return
                if key == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
                    cond = arg[0]
                    if isinstance(cond, str) and cond in conditions:
                        walk(arg[1] if conditions[cond] else arg[2])
                    else:
                        walk(arg[1:])
                    return
            for item in v.values():
                walk(item)
        elif isinstance(v, list):
            for item in v:
                walk(item)

    walk(value)
    return found


def depends_on(resource: dict[str, Any]) -> list[str]:
    """A resource's explicit DependsOn, as a list."""
    value = resource.get("DependsOn")
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise TemplateError("Template format error: DependsOn must be a string or list of strings")


def dependency_graph(
    resources: dict[str, dict[str, Any]], conditions: dict[str, bool]
) -> dict[str, frozenset[str]]:
    """For each resource, the resources it needs first (implicit and explicit)."""
    names = set(resources)
    graph: dict[str, frozenset[str]] = {}
    for name, res in resources.items():
        needs = references(
            {k: v for k, v in res.items() if k in ("Properties", "Metadata")}, names, conditions
        )
        for dep in depends_on(res):
            if dep not in names:
                raise TemplateError(
                    f"Template format error: Unresolved resource dependencies [{dep}] in the "
                    "Resources block of the template"
                )
            needs.add(dep)
        graph[name] = frozenset(needs)
    return graph


def levels(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """Topological levels: every resource comes after all it needs; names sorted in a level.

    Raises TemplateError naming the resources of a cycle.
    """
    remaining = {k: set(v) & set(graph) for k, v in graph.items()}
    out: list[list[str]] = []
    while remaining:
        ready = sorted(k for k, v in remaining.items() if not v)
        if not ready:
            raise TemplateError(
                f"Circular dependency between resources: [{', '.join(sorted(remaining))}]"
            )
        out.append(ready)
        for k in ready:
            del remaining[k]
        for v in remaining.values():
            v.difference_update(ready)
    return out


def dependents(graph: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """The reverse graph: for each resource, the resources that need it."""
    rev: dict[str, set[str]] = {k: set() for k in graph}
    for k, needs in graph.items():
        for n in needs:
            rev.setdefault(n, set()).add(k)
    return {k: frozenset(v) for k, v in rev.items()}
