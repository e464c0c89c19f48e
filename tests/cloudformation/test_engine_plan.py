"""Table-driven tests of the plan: what create, update and delete will do, before anything runs."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from overcast.engines.cfn.errors import TemplateError
from overcast.engines.cfn.intrinsics import pseudo_parameters
from overcast.engines.cfn.model import Prepared, prepare
from overcast.engines.cfn.parameters import resolve_parameters
from overcast.engines.cfn.plan import (
    Create,
    Delete,
    DeleteReplaced,
    NoOp,
    Plan,
    Replace,
    Update,
    describe_changes,
    plan_create,
    plan_delete,
    plan_update,
)
from overcast.engines.cfn.template import Template, parse_template

PSEUDO = pseudo_parameters(
    region="us-east-1",
    account_id="000000000000",
    stack_name="s",
    stack_id="arn:aws:cloudformation:us-east-1:000000000000:stack/s/1",
)

BASE = {
    "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
    "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
    "Resources": {
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "t"}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Environment": {"Variables": {"TABLE": {"Ref": "Table"}}},
                "MemorySize": 128,
            },
        },
        "Perm": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {"FunctionName": {"Ref": "Fn"}, "Action": "lambda:InvokeFunction"},
        },
    },
}


def prep(data: dict[str, Any], **params: str) -> Prepared:
    t = Template.from_data(data)
    return prepare(t, resolve_parameters(t.parameters, params), PSEUDO)


def with_changes(base: dict[str, Any], *edits: tuple[list[str], Any]) -> dict[str, Any]:
    import copy

    data = copy.deepcopy(base)
    for path, value in edits:
        node = data
        for key in path[:-1]:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
    return data


def test_create_plan_in_dependency_levels() -> None:
    plan = plan_create(prep(BASE))
    assert plan == Plan(
        (
            (Create("Role", "AWS::IAM::Role"), Create("Table", "AWS::DynamoDB::Table")),
            (Create("Fn", "AWS::Lambda::Function"),),
            (Create("Perm", "AWS::Lambda::Permission"),),
        )
    )


def test_depends_on_orders_resources() -> None:
    data = {"Resources": {"A": {"Type": "T", "DependsOn": "B"}, "B": {"Type": "T"}}}
    assert plan_create(prep(data)).deploy == ((Create("B", "T"),), (Create("A", "T"),))


def test_conditions_drop_resources() -> None:
    data = with_changes(BASE, (["Resources", "Perm", "Condition"], "IsProd"))
    names = [a.logical_id for a in plan_create(prep(data)).actions()]
    assert "Perm" not in names
    names = [a.logical_id for a in plan_create(prep(data, Env="prod")).actions()]
    assert "Perm" in names


def test_sub_dependencies() -> None:
    data = {
        "Resources": {
            "A": {"Type": "T", "Properties": {"X": {"Fn::Sub": "${B.Arn}-${C}"}}},
            "B": {"Type": "T"},
            "C": {"Type": "T"},
        }
    }
    assert plan_create(prep(data)).deploy[1] == (Create("A", "T"),)


GRAPH_ERRORS = [
    (
        "cycle",
        {"Resources": {"A": {"Type": "T", "DependsOn": "B"}, "B": {"Type": "T", "DependsOn": "A"}}},
        "Circular dependency between resources: [A, B]",
    ),
    (
        "self",
        {"Resources": {"A": {"Type": "T", "Properties": {"X": {"Ref": "A"}}}}},
        "Circular dependency",
    ),
    (
        "depends on unknown",
        {"Resources": {"A": {"Type": "T", "DependsOn": "Z"}}},
        "Unresolved resource dependencies [Z]",
    ),
    (
        "unknown condition",
        {"Resources": {"A": {"Type": "T", "Condition": "Nope"}}},
        "Unresolved condition dependencies [Nope]",
    ),
]


@pytest.mark.parametrize(
    ("name", "data", "message"), GRAPH_ERRORS, ids=[g[0] for g in GRAPH_ERRORS]
)
def test_graph_errors(name: str, data: dict[str, Any], message: str) -> None:
    with pytest.raises(TemplateError) as info:
        prep(data)
    assert message in info.value.message


EXISTING = {
    "Table": "AWS::DynamoDB::Table",
    "Role": "AWS::IAM::Role",
    "Fn": "AWS::Lambda::Function",
    "Perm": "AWS::Lambda::Permission",
}


def kinds(plan: Plan) -> dict[str, str]:
    """What happens to each resource (the DeleteReplaced that follows a Replace left out)."""
    return {
        a.logical_id: type(a).__name__ for a in plan.actions() if not isinstance(a, DeleteReplaced)
    }


UPDATE_CASES: list[tuple[str, list[tuple[list[str], Any]], dict[str, str]]] = [
    ("nothing changed", [], {"Table": "NoOp", "Role": "NoOp", "Fn": "NoOp", "Perm": "NoOp"}),
    (
        "in-place property",
        [(["Resources", "Fn", "Properties", "MemorySize"], 256)],
        {"Fn": "Update", "Perm": "NoOp"},
    ),
    (
        "replacing property",
        [(["Resources", "Table", "Properties", "TableName"], "t2")],
        {"Table": "Replace", "Fn": "Update", "Perm": "NoOp"},
    ),
    (
        "replaced function replaces permission",
        [(["Resources", "Fn", "Properties", "FunctionName"], "new-name")],
        {"Fn": "Replace", "Perm": "Update"},
    ),
    (
        "type change replaces",
        [(["Resources", "Perm", "Type"], "AWS::Lambda::Url")],
        {"Perm": "Replace"},
    ),
    (
        "new resource",
        [(["Resources", "Extra"], {"Type": "AWS::SSM::Parameter"})],
        {"Extra": "Create"},
    ),
    ("removed resource", [(["Resources", "Perm"], None)], {"Perm": "Delete"}),
    ("metadata only", [(["Resources", "Role", "Metadata"], {"x": 1})], {"Role": "Update"}),
    (
        "deletion policy only",
        [(["Resources", "Role", "DeletionPolicy"], "Retain")],
        {"Role": "NoOp"},
    ),
]


@pytest.mark.parametrize(
    ("name", "edits", "expected"), UPDATE_CASES, ids=[u[0] for u in UPDATE_CASES]
)
def test_update_plan(
    name: str, edits: list[tuple[list[str], Any]], expected: dict[str, str]
) -> None:
    plan = plan_update(prep(BASE), prep(with_changes(BASE, *edits)), EXISTING)
    got = kinds(plan)
    for logical_id, kind in expected.items():
        if kind == "Replace":
            assert got[logical_id] == "Replace", got
            assert DeleteReplaced in {type(a) for a in plan.actions() if a.logical_id == logical_id}
        else:
            assert got[logical_id] == kind, got


def test_reference_to_replaced_resource_may_replace() -> None:
    new = with_changes(BASE, (["Resources", "Fn", "Properties", "FunctionName"], "new-name"))
    plan = plan_update(prep(BASE), prep(new), EXISTING)
    perm = next(a for a in plan.actions() if a.logical_id == "Perm")
    assert isinstance(perm, Update)
    assert perm.replacement == "Conditional"
    assert perm.changes[0].requires_recreation == "Conditionally"


def test_parameter_change_is_an_update() -> None:
    data = with_changes(BASE, (["Resources", "Fn", "Properties", "Description"], {"Ref": "Env"}))
    plan = plan_update(prep(data), prep(data, Env="prod"), EXISTING)
    fn = next(a for a in plan.actions() if a.logical_id == "Fn")
    assert isinstance(fn, Update)
    assert [c.name for c in fn.changes] == ["Description"]


def test_dynamic_change_from_replaced_dependency() -> None:
    plan = plan_update(
        prep(BASE),
        prep(with_changes(BASE, (["Resources", "Table", "Properties", "TableName"], "t2"))),
        EXISTING,
    )
    fn = next(a for a in plan.actions() if a.logical_id == "Fn")
    assert isinstance(fn, Update)
    change = fn.changes[0]
    assert (change.name, change.evaluation, change.caused_by) == ("Environment", "Dynamic", "Table")


def test_replace_cleanup_after_deploy() -> None:
    plan = plan_update(
        prep(BASE),
        prep(with_changes(BASE, (["Resources", "Table", "Properties", "TableName"], "t2"))),
        EXISTING,
    )
    assert plan.cleanup == ((DeleteReplaced("Table", "AWS::DynamoDB::Table"),),)
    assert isinstance(plan.deploy[0][1], Replace)


def test_update_replace_policy_retain() -> None:
    new = with_changes(
        BASE,
        (["Resources", "Table", "Properties", "TableName"], "t2"),
        (["Resources", "Table", "UpdateReplacePolicy"], "Retain"),
    )
    plan = plan_update(prep(BASE), prep(new), EXISTING)
    assert plan.cleanup[0] == (DeleteReplaced("Table", "AWS::DynamoDB::Table", retain=True),)


def test_missing_resource_is_created_again() -> None:
    existing = {k: v for k, v in EXISTING.items() if k != "Perm"}
    plan = plan_update(prep(BASE), prep(BASE), existing)
    assert kinds(plan)["Perm"] == "Create"


def test_delete_plan_dependents_first_with_retain() -> None:
    data = with_changes(BASE, (["Resources", "Table", "DeletionPolicy"], "Retain"))
    plan = plan_delete(prep(data), EXISTING)
    assert plan.deploy == ()
    assert plan.cleanup == (
        (Delete("Perm", "AWS::Lambda::Permission"),),
        (Delete("Fn", "AWS::Lambda::Function"),),
        (Delete("Role", "AWS::IAM::Role"), Delete("Table", "AWS::DynamoDB::Table", retain=True)),
    )


@pytest.mark.parametrize(
    ("policy", "rollback", "retain"),
    [
        ("Retain", False, True),
        ("Retain", True, True),
        ("RetainExceptOnCreate", False, True),
        ("RetainExceptOnCreate", True, False),
        ("Delete", False, False),
        ("Snapshot", False, False),
    ],
)
def test_deletion_policies(policy: str, rollback: bool, retain: bool) -> None:
    data = with_changes(BASE, (["Resources", "Table", "DeletionPolicy"], policy))
    plan = plan_delete(prep(data), EXISTING, rollback_of_create=rollback)
    table = next(a for a in plan.actions() if a.logical_id == "Table")
    assert isinstance(table, Delete)
    assert table.retain is retain


def test_delete_plan_without_template() -> None:
    plan = plan_delete(None, {"B": "T", "A": "T"})
    assert plan.cleanup == ((Delete("A", "T"), Delete("B", "T")),)


def test_removed_resources_deleted_in_cleanup_dependents_first() -> None:
    new = {"Resources": {"Table": BASE["Resources"]["Table"]}}
    plan = plan_update(prep(BASE), prep(new), EXISTING)
    assert plan.deploy == ((NoOp("Table", "AWS::DynamoDB::Table"),),)
    assert plan.cleanup == (
        (Delete("Perm", "AWS::Lambda::Permission"),),
        (Delete("Fn", "AWS::Lambda::Function"),),
        (Delete("Role", "AWS::IAM::Role"),),
    )


def test_has_changes() -> None:
    assert not plan_update(prep(BASE), prep(BASE), EXISTING).has_changes()
    assert plan_create(prep(BASE)).has_changes()


def test_describe_changes_shapes() -> None:
    new = with_changes(
        BASE,
        (["Resources", "Table", "Properties", "TableName"], "t2"),
        (["Resources", "Perm"], None),
        (["Resources", "Extra"], {"Type": "AWS::SSM::Parameter"}),
    )
    changes = describe_changes(plan_update(prep(BASE), prep(new), EXISTING))
    by_id = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in changes}
    assert by_id["Extra"]["Action"] == "Add"
    assert by_id["Perm"]["Action"] == "Remove"
    assert by_id["Table"]["Action"] == "Modify"
    assert by_id["Table"]["Replacement"] == "True"
    assert by_id["Table"]["Details"][0]["Target"] == {
        "Attribute": "Properties",
        "Name": "TableName",
        "RequiresRecreation": "Always",
    }
    assert by_id["Fn"]["Details"][0]["Evaluation"] == "Dynamic"


def test_sam_like_yaml_round_trip() -> None:
    text = yaml.safe_dump(BASE)
    assert plan_create(prep(parse_template(text))) == plan_create(prep(BASE))


RULES = {
    "Parameters": {
        "Env": {"Type": "String", "Default": "dev"},
        "Size": {"Type": "String", "Default": "small"},
        "Zones": {"Type": "CommaDelimitedList", "Default": "a,b"},
    },
    "Rules": {
        "ProdIsLarge": {
            "RuleCondition": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "Assertions": [
                {
                    "Assert": {"Fn::Contains": [["large", "xlarge"], {"Ref": "Size"}]},
                    "AssertDescription": "For prod, the size must be large or xlarge",
                }
            ],
        },
        "KnownZones": {
            "Assertions": [{"Assert": {"Fn::EachMemberIn": [{"Ref": "Zones"}, ["a", "b", "c"]]}}]
        },
    },
    "Resources": {"A": {"Type": "T"}},
}

RULE_CASES = [
    ({}, None),
    ({"Env": "prod", "Size": "large"}, None),
    ({"Env": "prod"}, "For prod, the size must be large or xlarge"),
    ({"Zones": "a,d"}, "Assertion failed for rule KnownZones"),
]


@pytest.mark.parametrize(("params", "message"), RULE_CASES)
def test_rules(params: dict[str, str], message: str | None) -> None:
    if message is None:
        prep(RULES, **params)
        return
    with pytest.raises(TemplateError) as info:
        prep(RULES, **params)
    assert info.value.message == message
