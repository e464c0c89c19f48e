"""A template made concrete for one stack: parameters checked, conditions evaluated, resources
filtered by their conditions, the dependency graph built — and scopes to evaluate it in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from overcast.engines.cfn.errors import TemplateError
from overcast.engines.cfn.graph import dependency_graph, levels
from overcast.engines.cfn.intrinsics import (
    NO_VALUE,
    Scope,
    Symbolic,
    contains_symbolic,
    evaluate_conditions,
    resolve,
)
from overcast.engines.cfn.parameters import ResolvedParameters
from overcast.engines.cfn.rules import check_rules
from overcast.engines.cfn.template import Template


@dataclass(frozen=True, slots=True)
class Prepared:
    """One template under one set of parameter values."""

    template: Template
    parameters: ResolvedParameters
    pseudo: dict[str, Any]
    conditions: dict[str, bool]
    resources: dict[str, dict[str, Any]]  # only those whose Condition holds
    graph: dict[str, frozenset[str]]
    order: tuple[tuple[str, ...], ...]  # topological levels

    def resource_type(self, name: str) -> str:
        return str(self.resources[name]["Type"])


def prepare(template: Template, parameters: ResolvedParameters, pseudo: dict[str, Any]) -> Prepared:
    """Evaluate conditions, keep the resources they allow, and order them; TemplateError on a
    missing condition or a dependency cycle."""
    scope = Scope(parameters=parameters.values, pseudo=pseudo, mappings=template.mappings)
    conditions = evaluate_conditions(template.conditions, scope)
    check_rules(
        template.rules,
        Scope(
            parameters=parameters.values,
            pseudo=pseudo,
            mappings=template.mappings,
            conditions=dict(conditions),
        ),
    )
    included: dict[str, dict[str, Any]] = {}
    for name, res in template.resources.items():
        cond = res.get("Condition")
        if cond is not None:
            if cond not in conditions:
                raise TemplateError(
                    f"Template format error: Unresolved condition dependencies [{cond}] in the "
                    "Resources block of the template"
                )
            if not conditions[cond]:
                continue
        included[name] = res
    for out in template.outputs.values():
        cond = out.get("Condition")
        if cond is not None and cond not in conditions:
            raise TemplateError(
                f"Template format error: Unresolved condition dependencies [{cond}] in the "
                "Outputs block of the template"
            )
    graph = dependency_graph(included, conditions)
    order = tuple(tuple(level) for level in levels(graph))
    return Prepared(template, parameters, pseudo, conditions, included, graph, order)


def make_scope(
    prepared: Prepared,
    *,
    ref_resource: Callable[[str], Any],
    get_att: Callable[[str, str], Any],
    import_value: Callable[[str], Any],
) -> Scope:
    """A scope for evaluating the stack's values with the given readers of resource values."""
    return Scope(
        parameters=prepared.parameters.values,
        pseudo=prepared.pseudo,
        mappings=prepared.template.mappings,
        conditions=dict(prepared.conditions),
        resources=frozenset(prepared.resources),
        ref_resource=ref_resource,
        get_att=get_att,
        import_value=import_value,
    )


def static_scope(prepared: Prepared, exports: dict[str, str] | None = None) -> Scope:
    """A scope where resource values are `Symbolic` (used to plan before anything exists).
    Imports come from `exports` when known, else stay symbolic."""
    known = exports or {}

    def imported(name: str) -> Any:
        if name in known:
            return known[name]
        return Symbolic(("Fn::ImportValue", name))

    return make_scope(
        prepared,
        ref_resource=lambda n: Symbolic(("Ref", n)),
        get_att=lambda n, a: Symbolic(("Fn::GetAtt", n, a)),
        import_value=imported,
    )


def resource_properties(prepared: Prepared, name: str, scope: Scope) -> dict[str, Any]:
    """A resource's Properties with every function evaluated in `scope`."""
    props = prepared.resources[name].get("Properties") or {}
    if not isinstance(props, dict):
        raise TemplateError(
            f"Template format error: [/Resources/{name}/Properties] must be an object"
        )
    value = resolve(props, scope)
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class Output:
    """One evaluated output."""

    key: str
    value: Any
    description: str | None
    export_name: str | None


def outputs(prepared: Prepared, scope: Scope) -> list[Output]:
    """The outputs whose condition holds, evaluated in `scope` (values as strings)."""
    out: list[Output] = []
    for key, decl in prepared.template.outputs.items():
        cond = decl.get("Condition")
        if cond is not None and not prepared.conditions.get(cond, False):
            continue
        value = resolve(decl["Value"], scope)
        if value is NO_VALUE:
            continue
        export = decl.get("Export")
        export_name = resolve(export.get("Name"), scope) if isinstance(export, dict) else None
        description = decl.get("Description")
        out.append(
            Output(
                key,
                value if contains_symbolic(value) else _text(value),
                str(description) if description is not None else None,
                str(export_name) if export_name is not None else None,
            )
        )
    return out


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
