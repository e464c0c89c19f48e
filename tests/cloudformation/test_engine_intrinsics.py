"""Table-driven tests of the pure engine: templates, intrinsic functions, conditions, parameters."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from overcast.engines.cfn.errors import TemplateError
from overcast.engines.cfn.intrinsics import (
    NO_VALUE,
    Scope,
    Symbolic,
    evaluate_conditions,
    pseudo_parameters,
    resolve,
)
from overcast.engines.cfn.parameters import resolve_parameters
from overcast.engines.cfn.template import Template, parse_template

PSEUDO = pseudo_parameters(
    region="eu-west-1",
    account_id="123456789012",
    stack_name="demo",
    stack_id="arn:aws:cloudformation:eu-west-1:123456789012:stack/demo/1",
)


def scope(**kw: Any) -> Scope:
    attrs = {("Fn", "Arn"): "arn:aws:lambda:eu-west-1:123456789012:function:f"}
    base = Scope(
        parameters={"Env": "prod", "Subnets": ["a", "b", "c"], "Count": "3"},
        pseudo=PSEUDO,
        mappings={"Regions": {"eu-west-1": {"Ami": "ami-1"}, "us-east-1": {"Ami": "ami-2"}}},
        conditions={"IsProd": True, "IsDev": False},
        resources=frozenset({"Fn", "Table"}),
        ref_resource=lambda n: f"phys-{n}",
        get_att=lambda n, a: attrs.get((n, a), f"{n}.{a}"),
        import_value=lambda n: {"shared-vpc": "vpc-1"}[n],
    )
    for k, v in kw.items():
        setattr(base, k, v)
    return base


CASES: list[tuple[str, Any, Any]] = [
    ("ref parameter", {"Ref": "Env"}, "prod"),
    ("ref list parameter", {"Ref": "Subnets"}, ["a", "b", "c"]),
    ("ref resource", {"Ref": "Table"}, "phys-Table"),
    ("ref pseudo region", {"Ref": "AWS::Region"}, "eu-west-1"),
    ("ref pseudo account", {"Ref": "AWS::AccountId"}, "123456789012"),
    ("ref pseudo stack name", {"Ref": "AWS::StackName"}, "demo"),
    ("ref pseudo partition", {"Ref": "AWS::Partition"}, "aws"),
    ("ref pseudo url suffix", {"Ref": "AWS::URLSuffix"}, "amazonaws.com"),
    ("ref pseudo stack id", {"Ref": "AWS::StackId"}, PSEUDO["AWS::StackId"]),
    ("ref novalue", {"Ref": "AWS::NoValue"}, NO_VALUE),
    (
        "getatt list",
        {"Fn::GetAtt": ["Fn", "Arn"]},
        "arn:aws:lambda:eu-west-1:123456789012:function:f",
    ),
    ("getatt dotted", {"Fn::GetAtt": "Table.StreamArn"}, "Table.StreamArn"),
    ("getatt attr from ref", {"Fn::GetAtt": ["Table", {"Ref": "Env"}]}, "Table.prod"),
    ("sub string", {"Fn::Sub": "${AWS::StackName}-${Env}"}, "demo-prod"),
    (
        "sub resource attr",
        {"Fn::Sub": "x-${Fn.Arn}"},
        "x-arn:aws:lambda:eu-west-1:123456789012:function:f",
    ),
    ("sub resource ref", {"Fn::Sub": "${Table}"}, "phys-Table"),
    ("sub literal", {"Fn::Sub": "${!Literal}-${Env}"}, "${Literal}-prod"),
    ("sub with map", {"Fn::Sub": ["${A}/${Env}", {"A": {"Ref": "Table"}}]}, "phys-Table/prod"),
    ("sub list param", {"Fn::Sub": "${Subnets}"}, "a,b,c"),
    ("join", {"Fn::Join": ["-", ["a", {"Ref": "Env"}, "c"]]}, "a-prod-c"),
    ("join empty", {"Fn::Join": ["", []]}, ""),
    ("join list param", {"Fn::Join": [",", {"Ref": "Subnets"}]}, "a,b,c"),
    ("select", {"Fn::Select": ["1", ["x", "y", "z"]]}, "y"),
    ("select int from list param", {"Fn::Select": [2, {"Ref": "Subnets"}]}, "c"),
    ("split", {"Fn::Split": [",", "a,b,,c"]}, ["a", "b", "", "c"]),
    ("select split", {"Fn::Select": [0, {"Fn::Split": ["/", "p/q"]}]}, "p"),
    ("if true", {"Fn::If": ["IsProd", "big", "small"]}, "big"),
    ("if false", {"Fn::If": ["IsDev", "big", "small"]}, "small"),
    ("if novalue", {"Fn::If": ["IsDev", "x", {"Ref": "AWS::NoValue"}]}, NO_VALUE),
    ("equals true", {"Fn::Equals": [{"Ref": "Env"}, "prod"]}, True),
    ("equals false", {"Fn::Equals": ["a", "b"]}, False),
    ("equals number text", {"Fn::Equals": [3, {"Ref": "Count"}]}, True),
    ("and", {"Fn::And": [{"Fn::Equals": ["a", "a"]}, {"Fn::Equals": ["b", "b"]}]}, True),
    ("or", {"Fn::Or": [{"Fn::Equals": ["a", "b"]}, {"Fn::Equals": ["b", "b"]}]}, True),
    ("not", {"Fn::Not": [{"Fn::Equals": ["a", "b"]}]}, True),
    ("find in map", {"Fn::FindInMap": ["Regions", {"Ref": "AWS::Region"}, "Ami"]}, "ami-1"),
    (
        "find in map default",
        {"Fn::FindInMap": ["Regions", "xx", "Ami", {"DefaultValue": "d"}]},
        "d",
    ),
    ("base64", {"Fn::Base64": "hello"}, base64.b64encode(b"hello").decode()),
    ("getazs", {"Fn::GetAZs": ""}, ["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
    ("getazs region", {"Fn::GetAZs": "us-east-1"}, ["us-east-1a", "us-east-1b", "us-east-1c"]),
    ("import value", {"Fn::ImportValue": "shared-vpc"}, "vpc-1"),
    ("cidr", {"Fn::Cidr": ["10.0.0.0/16", 3, 8]}, ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]),
    (
        "cidr ipv4 small",
        {"Fn::Cidr": ["192.168.0.0/24", "2", "6"]},
        ["192.168.0.0/26", "192.168.0.64/26"],
    ),
    ("length", {"Fn::Length": {"Ref": "Subnets"}}, 3),
    ("to json string", {"Fn::ToJsonString": {"a": [1, {"Ref": "Env"}]}}, '{"a":[1,"prod"]}'),
    ("novalue drops key", {"A": 1, "B": {"Ref": "AWS::NoValue"}}, {"A": 1}),
    ("novalue drops item", ["a", {"Ref": "AWS::NoValue"}, "b"], ["a", "b"]),
    (
        "nested",
        {"Fn::Join": [":", [{"Fn::Select": [0, {"Fn::GetAZs": ""}]}, {"Fn::Sub": "${Env}"}]]},
        "eu-west-1a:prod",
    ),
    ("plain values pass", {"Key": [1, True, None, "s"]}, {"Key": [1, True, None, "s"]}),
]


@pytest.mark.parametrize(("name", "value", "expected"), CASES, ids=[c[0] for c in CASES])
def test_intrinsic(name: str, value: Any, expected: Any) -> None:
    assert resolve(value, scope()) == expected


ERRORS: list[tuple[str, Any, str]] = [
    ("unknown ref", {"Ref": "Nope"}, "Unresolved resource dependencies [Nope]"),
    ("getatt unknown", {"Fn::GetAtt": ["Nope", "Arn"]}, "references undefined resource Nope"),
    ("sub unknown", {"Fn::Sub": "${Nope}"}, "Unresolved resource dependencies [Nope]"),
    ("select out of range", {"Fn::Select": [5, ["a"]]}, "cannot select nonexistent value"),
    ("find in map missing", {"Fn::FindInMap": ["Regions", "xx", "Ami"]}, "Unable to get mapping"),
    ("join objects", {"Fn::Join": [",", [{"a": 1}]]}, "every Fn::Join object requires"),
    ("import missing", {"Fn::ImportValue": "nope"}, ""),
    ("and one arg", {"Fn::And": [{"Fn::Equals": ["a", "a"]}]}, "Fn::And"),
    ("transform", {"Fn::Transform": {"Name": "AWS::Include"}}, "Fn::Transform"),
]


@pytest.mark.parametrize(("name", "value", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_intrinsic_errors(name: str, value: Any, message: str) -> None:
    with pytest.raises((TemplateError, KeyError)) as info:
        resolve(value, scope())
    assert message in str(info.value)


SYMBOLIC: list[tuple[str, Any, Any]] = [
    ("ref", {"Ref": "Table"}, Symbolic(("Ref", "Table"))),
    ("getatt", {"Fn::GetAtt": ["Fn", "Arn"]}, Symbolic(("Fn::GetAtt", "Fn", "Arn"))),
    (
        "sub",
        {"Fn::Sub": "a-${Table}"},
        Symbolic(("Fn::Sub", ("a-", Symbolic(("Ref", "Table")), ""))),
    ),
    (
        "join",
        {"Fn::Join": ["-", ["x", {"Ref": "Table"}]]},
        Symbolic(("Fn::Join", "-", ("x", Symbolic(("Ref", "Table"))))),
    ),
    ("static part stays", {"Fn::Sub": "${Env}"}, "prod"),
]


@pytest.mark.parametrize(("name", "value", "expected"), SYMBOLIC, ids=[s[0] for s in SYMBOLIC])
def test_symbolic_at_plan_time(name: str, value: Any, expected: Any) -> None:
    s = scope(
        ref_resource=lambda n: Symbolic(("Ref", n)),
        get_att=lambda n, a: Symbolic(("Fn::GetAtt", n, a)),
    )
    assert resolve(value, s) == expected


def test_conditions_reference_each_other() -> None:
    defs = {
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
        "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "NotProd"}]},
    }
    s = scope(conditions={})
    assert evaluate_conditions(defs, s) == {"IsProd": True, "NotProd": False, "Both": False}


def test_condition_cycle_is_an_error() -> None:
    defs = {"A": {"Fn::Not": [{"Condition": "B"}]}, "B": {"Fn::Not": [{"Condition": "A"}]}}
    with pytest.raises(TemplateError, match="circular"):
        evaluate_conditions(defs, scope(conditions={}))


YAML = """
AWSTemplateFormatVersion: 2010-09-09
Description: short forms
Resources:
  A:
    Type: AWS::SSM::Parameter
    Properties:
      Value: !Sub "${AWS::Region}"
      Name: !Join [ "-", [ !Ref Env, !GetAtt B.Value, !Select [0, !GetAZs ""] ] ]
      Tier: !If [IsProd, Advanced, !Ref "AWS::NoValue"]
      Other: !FindInMap [M, k, v]
      B64: !Base64 x
      Parts: !Split [",", "a,b"]
      Cidrs: !Cidr ["10.0.0.0/16", 2, 8]
      Imp: !ImportValue exp
      Len: !Length [1, 2]
      Json: !ToJsonString {a: 1}
      GetAttList: !GetAtt [B, Value]
Conditions:
  IsProd: !And [!Equals [a, a], !Not [!Equals [a, b]], !Or [!Condition C, !Equals [1, 1]]]
  C: !Equals [x, y]
"""


def test_yaml_short_forms() -> None:
    data = parse_template(YAML)
    assert data["AWSTemplateFormatVersion"] == "2010-09-09"
    props = data["Resources"]["A"]["Properties"]
    assert props["Value"] == {"Fn::Sub": "${AWS::Region}"}
    assert props["Name"]["Fn::Join"][1][1] == {"Fn::GetAtt": ["B", "Value"]}
    assert props["Name"]["Fn::Join"][1][2] == {"Fn::Select": [0, {"Fn::GetAZs": ""}]}
    assert props["Tier"] == {"Fn::If": ["IsProd", "Advanced", {"Ref": "AWS::NoValue"}]}
    assert props["GetAttList"] == {"Fn::GetAtt": ["B", "Value"]}
    assert props["Len"] == {"Fn::Length": [1, 2]}
    cond = data["Conditions"]["IsProd"]["Fn::And"][2]["Fn::Or"][0]
    assert cond == {"Condition": "C"}


TEMPLATE_ERRORS = [
    ("not json", "{ bad json", "JSON not well-formed"),
    ("not yaml", "a: [b", "YAML not well-formed"),
    ("no resources", "Resources: {}", "At least one Resources member must be defined"),
    ("no type", "Resources: {A: {Properties: {}}}", "must contain a Type member"),
    ("bad section", "Resources: {A: {Type: X}}\nBogus: 1", "Invalid template property"),
    (
        "bad version",
        "AWSTemplateFormatVersion: '2011-01-01'\nResources: {A: {Type: X}}",
        "Unsupported template format version",
    ),
    (
        "output without value",
        "Resources: {A: {Type: X}}\nOutputs: {O: {Description: d}}",
        "must contain a Value object",
    ),
]


@pytest.mark.parametrize(
    ("name", "body", "message"), TEMPLATE_ERRORS, ids=[t[0] for t in TEMPLATE_ERRORS]
)
def test_template_errors(name: str, body: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        Template.from_data(parse_template(body))


DECLS = {
    "Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
    "Size": {"Type": "Number", "Default": 2, "MinValue": 1, "MaxValue": 10},
    "Name": {
        "Type": "String",
        "Default": "abc",
        "AllowedPattern": "[a-z]+",
        "MinLength": 2,
        "MaxLength": 5,
    },
    "Ids": {"Type": "List<Number>", "Default": "1,2"},
    "Azs": {"Type": "CommaDelimitedList", "Default": "a, b"},
    "Secret": {"Type": "String", "NoEcho": True, "Default": "x"},
}

PARAM_CASES: list[tuple[str, dict[str, str], str, Any]] = [
    ("defaults", {}, "Env", "dev"),
    ("given", {"Env": "prod"}, "Env", "prod"),
    ("number", {"Size": "10"}, "Size", "10"),
    ("list number", {}, "Ids", ["1", "2"]),
    ("comma list trims", {}, "Azs", ["a", "b"]),
    ("comma list given", {"Azs": "x,y,z"}, "Azs", ["x", "y", "z"]),
]


@pytest.mark.parametrize(
    ("name", "given", "key", "expected"), PARAM_CASES, ids=[p[0] for p in PARAM_CASES]
)
def test_parameters(name: str, given: dict[str, str], key: str, expected: Any) -> None:
    assert resolve_parameters(DECLS, given).values[key] == expected


PARAM_ERRORS = [
    ("allowed values", {"Env": "qa"}, "Parameter 'Env' must be one of AllowedValues"),
    ("not a number", {"Size": "x"}, "Parameter 'Size' must be a number"),
    ("min value", {"Size": "0"}, "must be a number not less than 1"),
    ("max value", {"Size": "11"}, "must be a number not greater than 10"),
    ("pattern", {"Name": "ABC"}, "Parameter 'Name' must match pattern [a-z]+"),
    ("min length", {"Name": "a"}, "must contain at least 2 characters"),
    ("max length", {"Name": "abcdef"}, "must contain at most 5 characters"),
    ("list of numbers", {"Ids": "1,x"}, "Parameter 'Ids' must be a number"),
    ("undeclared", {"Nope": "1"}, "Parameters: [Nope] do not exist in the template"),
]


@pytest.mark.parametrize(
    ("name", "given", "message"), PARAM_ERRORS, ids=[p[0] for p in PARAM_ERRORS]
)
def test_parameter_errors(name: str, given: dict[str, str], message: str) -> None:
    with pytest.raises(TemplateError) as info:
        resolve_parameters(DECLS, given)
    assert message in info.value.message


def test_missing_parameter_values() -> None:
    with pytest.raises(TemplateError, match=r"Parameters: \[A, B\] must have values"):
        resolve_parameters({"A": {"Type": "String"}, "B": {"Type": "Number"}}, {})


def test_constraint_description_replaces_message() -> None:
    decls = {"E": {"Type": "String", "AllowedValues": ["a"], "ConstraintDescription": "only a"}}
    with pytest.raises(TemplateError, match="Parameter 'E' failed to satisfy constraint: only a"):
        resolve_parameters(decls, {"E": "b"})


def test_no_echo_and_previous_values() -> None:
    r = resolve_parameters(DECLS, {}, use_previous=frozenset({"Env"}), previous={"Env": "prod"})
    assert r.values["Env"] == "prod"
    assert r.no_echo == frozenset({"Secret"})


def test_ssm_parameter_types_are_left_for_the_service() -> None:
    decls = {"Ami": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/my/ami"}}
    assert resolve_parameters(decls, {}).ssm == {"Ami": "/my/ami"}
