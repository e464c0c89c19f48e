"""The plan: what a stack operation will do, as data, before anything is done.

`plan_create`, `plan_update` and `plan_delete` compare the old template (under its parameters)
with the new one and return a `Plan`: groups of frozen actions, in dependency order, each group's
actions independent of each other (the executor may run them together). The deploy groups
create, update and replace; the cleanup groups delete what is gone and the physical resources
that replacements left behind (deletes run dependents first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from overcast.engines.cfn.intrinsics import Symbolic, contains_symbolic, symbolic_json
from overcast.engines.cfn.model import Prepared, resource_properties, static_scope
from overcast.engines.cfn.replacement import requires_replacement
from overcast.engines.cfn.walk import leaves


@dataclass(frozen=True, slots=True)
class PropertyChange:
    """One changed property: whether it replaces the resource, and why it changed."""

    name: str
    requires_recreation: str  # "Never" | "Conditionally" | "Always"
    evaluation: str  # "Static" | "Dynamic"
    cause: str  # "DirectModification" | "ResourceReference" | "ResourceAttribute"
    caused_by: str | None = None  # the resource whose value it reads, for references


@dataclass(frozen=True, slots=True)
class _Step:
    """What every action names: the resource it acts on and its type."""

    logical_id: str
    resource_type: str


@dataclass(frozen=True, slots=True)
class Create(_Step):
    pass


@dataclass(frozen=True, slots=True)
class Update(_Step):
    """Update in place. `replacement` "Conditional": only known once the values it reads are
    resolved — the executor compares, and replaces if a replacing property really changed."""

    changes: tuple[PropertyChange, ...]
    replacement: str = "False"  # "False" | "Conditional"


@dataclass(frozen=True, slots=True)
class Replace(_Step):
    """Create a new physical resource; the old one is deleted in cleanup (DeleteReplaced)."""

    changes: tuple[PropertyChange, ...]


@dataclass(frozen=True, slots=True)
class NoOp(_Step):
    pass


@dataclass(frozen=True, slots=True)
class Delete(_Step):
    retain: bool = False


@dataclass(frozen=True, slots=True)
class DeleteReplaced(_Step):
    """Delete the physical resource a Replace superseded (kept if UpdateReplacePolicy Retain)."""

    retain: bool = False


Action = Create | Update | Replace | NoOp | Delete | DeleteReplaced


@dataclass(frozen=True, slots=True)
class Plan:
    deploy: tuple[tuple[Action, ...], ...]
    cleanup: tuple[tuple[Action, ...], ...] = ()

    def actions(self) -> list[Action]:
        """Every action, in order."""
        return [a for group in (*self.deploy, *self.cleanup) for a in group]

    def has_changes(self) -> bool:
        """Whether executing the plan would change anything."""
        return any(not isinstance(a, NoOp) for a in self.actions())


def _policy(resource: dict[str, Any], key: str, rollback_of_create: bool = False) -> bool:
    """Whether the policy keeps the resource (RetainExceptOnCreate deletes in a create rollback)."""
    policy = str(resource.get(key, "Delete"))
    return policy == "Retain" or (policy == "RetainExceptOnCreate" and not rollback_of_create)


def plan_create(new: Prepared) -> Plan:
    """Every resource created, level by level."""
    return Plan(tuple(tuple(Create(n, new.resource_type(n)) for n in level) for level in new.order))


def plan_delete(
    old: Prepared | None, existing: dict[str, str], *, rollback_of_create: bool = False
) -> Plan:
    """Delete every existing resource (`existing`: logical id → type), dependents first.

    Without a usable template (`old` None) everything goes in one group.
    """
    if old is None:
        group = tuple(Delete(n, t) for n, t in sorted(existing.items()))
        return Plan((), (group,) if group else ())
    groups: list[tuple[Action, ...]] = []
    strays = [n for n in sorted(existing) if n not in old.resources]
    if strays:
        groups.append(tuple(Delete(n, existing[n]) for n in strays))
    for level in reversed(old.order):
        group = tuple(
            Delete(n, existing[n], _policy(old.resources[n], "DeletionPolicy", rollback_of_create))
            for n in level
            if n in existing
        )
        if group:
            groups.append(group)
    return Plan((), tuple(groups))


def _changed_props(
    name: str, rtype: str, old_props: dict[str, Any], new_props: dict[str, Any]
) -> list[PropertyChange]:
    out = []
    for prop in sorted(set(old_props) | set(new_props)):
        if old_props.get(prop) != new_props.get(prop):
            out.append(
                PropertyChange(
                    prop,
                    "Always" if requires_replacement(rtype, prop) else "Never",
                    "Static",
                    "DirectModification",
                )
            )
    return out


def _reads(value: Any) -> set[tuple[str, str | None]]:
    """The (resource, attribute) pairs a resolved value still waits for (attribute None = Ref)."""
    found: set[tuple[str, str | None]] = set()
    for v in leaves(value):
        if isinstance(v, Symbolic):
            if v.expr and v.expr[0] == "Ref" and len(v.expr) == 2:
                found.add((str(v.expr[1]), None))
            elif v.expr and v.expr[0] == "Fn::GetAtt" and len(v.expr) == 3:
                found.add((str(v.expr[1]), str(v.expr[2])))
            else:
                found |= _reads(list(v.expr))
    return found


def plan_update(
    old: Prepared,
    new: Prepared,
    existing: dict[str, str],
    exports: dict[str, str] | None = None,
) -> Plan:
    """Compare old and new; `existing` holds the resources that exist now (logical id → type).

    A resource whose own properties changed is updated (or replaced, by the type's rules); one
    that reads a value of a replaced resource — or an attribute of an updated one — is updated
    with Dynamic evaluation, since the value it reads may change.
    """
    old_scope = static_scope(old, exports)
    new_scope = static_scope(new, exports)
    decided: dict[str, Action] = {}
    deploy: list[tuple[Action, ...]] = []
    for level in new.order:
        group: list[Action] = []
        for name in level:
            rtype = new.resource_type(name)
            if name not in existing or name not in old.resources:
                action: Action = Create(name, rtype)
            elif existing[name] != rtype or old.resource_type(name) != rtype:
                action = Replace(
                    name,
                    rtype,
                    (PropertyChange("Type", "Always", "Static", "DirectModification"),),
                )
            else:
                action = _compare(name, rtype, old, new, old_scope, new_scope, decided)
            decided[name] = action
            group.append(action)
        deploy.append(tuple(group))
    cleanup: list[tuple[Action, ...]] = []
    replaced = [a for a in decided.values() if isinstance(a, Replace)]
    if replaced:
        cleanup.append(
            tuple(
                DeleteReplaced(
                    a.logical_id,
                    existing[a.logical_id],
                    _policy(new.resources[a.logical_id], "UpdateReplacePolicy"),
                )
                for a in sorted(replaced, key=lambda a: a.logical_id)
            )
        )
    gone = {n: t for n, t in existing.items() if n not in new.resources}
    if gone:
        cleanup.extend(plan_delete(_subset(old, gone), gone).cleanup)
    return Plan(tuple(deploy), tuple(cleanup))


def _subset(old: Prepared, names: dict[str, str]) -> Prepared | None:
    if not all(n in old.resources for n in names):
        return None
    return old


def _compare(
    name: str,
    rtype: str,
    old: Prepared,
    new: Prepared,
    old_scope: Any,
    new_scope: Any,
    decided: dict[str, Action],
) -> Action:
    old_props = resource_properties(old, name, old_scope)
    new_props = resource_properties(new, name, new_scope)
    changes = _changed_props(name, rtype, old_props, new_props)
    changed_names = {c.name for c in changes}
    # Values this resource reads from resources that change in this plan.
    for prop in sorted(new_props):
        if prop in changed_names or not contains_symbolic(new_props[prop]):
            continue
        for target, attribute in sorted(_reads(new_props[prop]), key=str):
            cause = decided.get(target)
            moved = isinstance(cause, Replace | Create) or (
                attribute is not None
                and isinstance(cause, Update)
                and not _only_stable_attribute(attribute)
            )
            if moved:
                changes.append(
                    PropertyChange(
                        prop,
                        "Conditionally" if requires_replacement(rtype, prop) else "Never",
                        "Dynamic",
                        "ResourceReference" if attribute is None else "ResourceAttribute",
                        target,
                    )
                )
                changed_names.add(prop)
                break
    metadata_changed = old.resources[name].get("Metadata") != new.resources[name].get("Metadata")
    if not changes and not metadata_changed:
        return NoOp(name, rtype)
    if any(c.requires_recreation == "Always" for c in changes):
        return Replace(name, rtype, tuple(changes))
    conditional = any(c.requires_recreation == "Conditionally" for c in changes)
    return Update(name, rtype, tuple(changes), "Conditional" if conditional else "False")


def _only_stable_attribute(attribute: str) -> bool:
    """Attributes that an in-place update never changes (ARNs and ids)."""
    return attribute in ("Arn", "RootResourceId", "ApiId", "ApiEndpoint", "StreamArn", "Name")


def describe_changes(plan: Plan) -> list[dict[str, Any]]:
    """The plan as a change set's `Changes` (ResourceChange entries, physical ids left out)."""
    out: list[dict[str, Any]] = []
    for action in plan.actions():
        if isinstance(action, Create):
            out.append(_change("Add", action.logical_id, action.resource_type))
        elif isinstance(action, Update | Replace):
            replacement = "True" if isinstance(action, Replace) else action.replacement
            change = _change("Modify", action.logical_id, action.resource_type, replacement)
            rc = change["ResourceChange"]
            rc["Scope"] = ["Properties"] if action.changes else ["Metadata"]
            rc["Details"] = [
                {
                    "Target": {
                        "Attribute": "Properties",
                        "Name": c.name,
                        "RequiresRecreation": c.requires_recreation,
                    },
                    "Evaluation": c.evaluation,
                    "ChangeSource": c.cause,
                    **({"CausingEntity": c.caused_by} if c.caused_by else {}),
                }
                for c in action.changes
            ]
            out.append(change)
        elif isinstance(action, Delete):
            out.append(_change("Remove", action.logical_id, action.resource_type))
    return out


def _change(
    kind: str, logical_id: str, rtype: str, replacement: str | None = None
) -> dict[str, Any]:
    change: dict[str, Any] = {
        "Action": kind,
        "LogicalResourceId": logical_id,
        "ResourceType": rtype,
        "Scope": [],
        "Details": [],
    }
    if replacement is not None:
        change["Replacement"] = replacement
    return {"Type": "Resource", "ResourceChange": change}


__all__ = [
    "Action",
    "Create",
    "Delete",
    "DeleteReplaced",
    "NoOp",
    "Plan",
    "PropertyChange",
    "Replace",
    "Update",
    "describe_changes",
    "plan_create",
    "plan_delete",
    "plan_update",
    "symbolic_json",
]
