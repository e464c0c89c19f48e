"""Table-driven tests of the expression engine: parsing, conditions, updates, projections."""

from __future__ import annotations

from typing import Any

import pytest

from overcast.engines.ddb.errors import DdbValidationError
from overcast.engines.ddb.evaluate import Scope, condition, projection
from overcast.engines.ddb.parser import parse_condition, parse_projection, parse_update
from overcast.engines.ddb.update import apply_update
from overcast.engines.ddb.validate import check_scope

ITEM: dict[str, Any] = {
    "pk": {"S": "user#1"},
    "n": {"N": "10"},
    "neg": {"N": "-2.5"},
    "s": {"S": "hello world"},
    "b": {"B": b"\x01\x02\x03"},
    "flag": {"BOOL": True},
    "nul": {"NULL": True},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
    "bs": {"BS": [b"\x00"]},
    "l": {"L": [{"N": "1"}, {"S": "two"}, {"M": {"x": {"N": "3"}}}]},
    "m": {"M": {"a": {"M": {"b": {"S": "deep"}}}, "k": {"N": "7"}}},
    "Name": {"S": "reserved"},
}

VALUES: dict[str, Any] = {
    ":ten": {"N": "10"},
    ":ten0": {"N": "10.0"},
    ":five": {"N": "5"},
    ":twenty": {"N": "20"},
    ":hello": {"S": "hello"},
    ":world": {"S": "world"},
    ":a": {"S": "a"},
    ":one": {"N": "1"},
    ":two": {"S": "two"},
    ":S": {"S": "S"},
    ":N": {"S": "N"},
    ":SS": {"S": "SS"},
    ":NULL": {"S": "NULL"},
    ":BOOL": {"S": "BOOL"},
    ":deep": {"S": "deep"},
    ":b12": {"B": b"\x01\x02"},
    ":true": {"BOOL": True},
    ":strten": {"S": "10"},
}

CONDITIONS = [
    ("n = :ten", True),
    ("n = :ten0", True),
    ("n <> :ten", False),
    ("n <> :strten", True),
    ("n = :strten", False),
    ("n < :twenty", True),
    ("n <= :ten", True),
    ("n > :five", True),
    ("n >= :twenty", False),
    ("neg < :one", True),
    ("s > :hello", True),
    ("s < :hello", False),
    ("absent = :ten", False),
    ("absent <> :ten", True),
    ("absent < :ten", False),
    ("n < :hello", False),
    ("n BETWEEN :five AND :twenty", True),
    ("n BETWEEN :one AND :five", False),
    ("n IN (:one, :five, :ten)", True),
    ("n IN (:one, :five)", False),
    ("attribute_exists(n)", True),
    ("attribute_exists(absent)", False),
    ("attribute_not_exists(absent)", True),
    ("attribute_exists(m.a.b)", True),
    ("attribute_exists(m.a.c)", False),
    ("attribute_exists(l[2].x)", True),
    ("attribute_exists(l[3])", False),
    ("attribute_type(s, :S)", True),
    ("attribute_type(n, :N)", True),
    ("attribute_type(ss, :SS)", True),
    ("attribute_type(nul, :NULL)", True),
    ("attribute_type(flag, :BOOL)", True),
    ("attribute_type(n, :S)", False),
    ("begins_with(s, :hello)", True),
    ("begins_with(s, :world)", False),
    ("begins_with(b, :b12)", True),
    ("contains(s, :world)", True),
    ("contains(ss, :a)", True),
    ("contains(ns, :one)", True),
    ("contains(l, :two)", True),
    ("contains(l, :a)", False),
    ("size(s) = :twenty", False),
    ("size(ss) < :five", True),
    ("size(l) = :five", False),
    ("size(m) BETWEEN :one AND :five", True),
    ("size(absent) > :one", False),
    ("m.a.b = :deep", True),
    ("l[1] = :two", True),
    ("#nm = :reserved", True),
    ("flag = :true", True),
    ("NOT n = :ten", False),
    ("n = :ten AND s = :hello", False),
    ("n = :ten OR s = :hello", True),
    ("(n = :one OR n = :ten) AND attribute_exists(s)", True),
    ("n = :one OR n = :five AND n = :ten", False),
    ("NOT (n = :one OR n = :five)", True),
    ("not attribute_exists(absent) and n = :ten", True),
]


@pytest.mark.parametrize(("expr", "expected"), CONDITIONS)
def test_condition(expr: str, expected: bool) -> None:
    parsed = parse_condition(expr)
    values = dict(VALUES, **{":reserved": {"S": "reserved"}})
    assert condition(parsed.node, ITEM, Scope({"#nm": "Name"}, values)) is expected  # type: ignore[arg-type]


SYNTAX_ERRORS = [
    ("n = ", 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "n ="'),
    ("n == :a", 'Invalid ConditionExpression: Syntax error; token: "=", near: "== :a"'),
    ("name = :a", "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name"),
    ("foo(n)", "Invalid ConditionExpression: Invalid function name; function: foo"),
    ("n = :a AND", 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: ":a AND"'),
    ("size(n)", 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "n)"'),
    ("attribute_exists(:a)", "Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists"),
    ("begins_with(n)", "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1"),
    ("", "Invalid ConditionExpression: The expression can not be empty;"),
    ("a = :v" + " " * 4100, "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 4106"),
]  # fmt: skip


@pytest.mark.parametrize(("expr", "message"), SYNTAX_ERRORS)
def test_condition_errors(expr: str, message: str) -> None:
    with pytest.raises(DdbValidationError) as e:
        parse_condition(expr)
    assert e.value.message == message
    assert e.value.code == "ValidationException"


UPDATES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("SET n = :five", {"n": {"N": "5"}}, {}),
    ("SET n = n + :five", {"n": {"N": "15"}}, {}),
    ("SET n = n - :twenty", {"n": {"N": "-10"}}, {}),
    ("SET x = if_not_exists(x, :one)", {"x": {"N": "1"}}, {}),
    ("SET n = if_not_exists(n, :one)", {"n": {"N": "10"}}, {}),
    ("SET l = list_append(l, :lst)", {"l": {"L": [{"N": "1"}, {"S": "two"}, {"M": {"x": {"N": "3"}}}, {"S": "z"}]}}, {}),
    ("SET l = list_append(:lst, l)", {"l": {"L": [{"S": "z"}, {"N": "1"}, {"S": "two"}, {"M": {"x": {"N": "3"}}}]}}, {}),
    ("SET m.a.c = :one", {"m": {"M": {"a": {"M": {"b": {"S": "deep"}, "c": {"N": "1"}}}, "k": {"N": "7"}}}}, {}),
    ("SET l[0] = :five", {"l": {"L": [{"N": "5"}, {"S": "two"}, {"M": {"x": {"N": "3"}}}]}}, {}),
    ("SET l[10] = :five", {"l": {"L": [{"N": "1"}, {"S": "two"}, {"M": {"x": {"N": "3"}}}, {"N": "5"}]}}, {}),
    ("SET l[2].x = l[2].x + :one", {"l": {"L": [{"N": "1"}, {"S": "two"}, {"M": {"x": {"N": "4"}}}]}}, {}),
    ("REMOVE s, m.k", {"m": {"M": {"a": {"M": {"b": {"S": "deep"}}}}}}, {"removed": ["s"]}),
    ("REMOVE l[0], l[2]", {"l": {"L": [{"S": "two"}]}}, {}),
    ("ADD n :five", {"n": {"N": "15"}}, {}),
    ("ADD newn :five", {"newn": {"N": "5"}}, {}),
    ("ADD ss :set", {"ss": {"SS": ["a", "b", "c"]}}, {}),
    ("ADD newset :set", {"newset": {"SS": ["a", "c"]}}, {}),
    ("DELETE ss :set", {"ss": {"SS": ["b"]}}, {}),
    ("DELETE ss :ab", {}, {"removed": ["ss"]}),
    ("SET a = :one, b = :five REMOVE s ADD n :one", {"a": {"N": "1"}, "b": {"N": "5"}, "n": {"N": "11"}}, {"removed": ["s"]}),
    ("set #nm = :a", {"Name": {"S": "a"}}, {}),
]  # fmt: skip


@pytest.mark.parametrize(("expr", "changed", "extra"), UPDATES)
def test_update(expr: str, changed: dict[str, Any], extra: dict[str, Any]) -> None:
    values = dict(VALUES)
    values[":lst"] = {"L": [{"S": "z"}]}
    values[":set"] = {"SS": ["a", "c"]}
    values[":ab"] = {"SS": ["a", "b"]}
    new, _ = apply_update(parse_update(expr), ITEM, Scope({"#nm": "Name"}, values), ("pk",))
    want = {**ITEM, **changed}
    for name in extra.get("removed", []):
        want.pop(name)
    assert new == want


UPDATE_ERRORS = [
    ("SET x = absent + :one", "The provided expression refers to an attribute that does not exist in the item"),
    ("SET x = s + :one", "An operand in the update expression has an incorrect data type"),
    ("SET l = list_append(l, :one)", "An operand in the update expression has an incorrect data type"),
    ("SET pk = :a", "Cannot update attribute pk. This attribute is part of the key"),
    ("SET a = :one, a = :five", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"),
    ("SET m = :one REMOVE m.k", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [m], path two: [m, k]"),
    ("ADD s :a", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING"),
    ("DELETE ss :one", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER"),
    ("SET nope.deeper = :one", "The document path provided in the update expression is invalid for update"),
    ("SET a = :one SET b = :one", 'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;'),
    ("ADD n :one, n :one", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [n], path two: [n]"),
]  # fmt: skip


@pytest.mark.parametrize(("expr", "message"), UPDATE_ERRORS)
def test_update_errors(expr: str, message: str) -> None:
    with pytest.raises(DdbValidationError) as e:
        apply_update(parse_update(expr), ITEM, Scope({}, VALUES), ("pk",))
    assert e.value.message == message


PROJECTIONS = [
    ("n, s", {"n": ITEM["n"], "s": ITEM["s"]}),
    ("m.a.b", {"m": {"M": {"a": {"M": {"b": {"S": "deep"}}}}}}),
    ("l[2].x, l[0]", {"l": {"L": [{"N": "1"}, {"M": {"x": {"N": "3"}}}]}}),
    ("absent, n", {"n": ITEM["n"]}),
    ("m, m.k", {"m": ITEM["m"]}),
]


@pytest.mark.parametrize(("expr", "expected"), PROJECTIONS)
def test_projection(expr: str, expected: dict[str, Any]) -> None:
    parsed = parse_projection(expr)
    paths = [Scope().resolve(p) for p in parsed.paths]
    assert projection(ITEM, paths) == expected


SCOPE_ERRORS = [
    ({"ConditionExpression": "#a = :v", "ExpressionAttributeValues": {":v": {"N": "1"}}},
     "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #a"),
    ({"ConditionExpression": "a = :v"},
     "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :v"),
    ({"ConditionExpression": "a = :v", "ExpressionAttributeValues": {":v": {"N": "1"}, ":w": {"N": "2"}}},
     "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"),
    ({"ConditionExpression": "a = :v", "ExpressionAttributeNames": {"#x": "x"}, "ExpressionAttributeValues": {":v": {"N": "1"}}},
     "Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}"),
    ({"ConditionExpression": "a = :v", "ExpressionAttributeValues": {}},
     "ExpressionAttributeValues must not be empty"),
    ({"ConditionExpression": "a = :v", "ExpressionAttributeValues": {":v": {"SS": []}}},
     "ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: An string set  may not be empty for key :v"),
]  # fmt: skip


@pytest.mark.parametrize(("params", "message"), SCOPE_ERRORS)
def test_scope_errors(params: dict[str, Any], message: str) -> None:
    with pytest.raises(DdbValidationError) as e:
        check_scope(params, [parse_condition(params["ConditionExpression"])])
    assert e.value.message == message


def test_names_without_expression() -> None:
    with pytest.raises(DdbValidationError) as e:
        check_scope({"ExpressionAttributeNames": {"#a": "a"}}, [])
    assert e.value.message == (
        "ExpressionAttributeNames can only be specified when using expressions"
    )


def test_in_operand_limit() -> None:
    values = ", ".join(f":v{i}" for i in range(101))
    with pytest.raises(DdbValidationError) as e:
        parse_condition(f"a IN ({values})")
    assert e.value.message == (
        "Invalid ConditionExpression: The IN operator is provided with too many operands; "
        "number of operands: 101"
    )


def test_between_bounds_order() -> None:
    parsed = parse_condition("n BETWEEN :hi AND :lo")
    scope = Scope({}, {":hi": {"N": "5"}, ":lo": {"N": "1"}})
    with pytest.raises(DdbValidationError) as e:
        condition(parsed.node, ITEM, scope)  # type: ignore[arg-type]
    assert e.value.message == (
        "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater "
        "than or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper bound "
        "operand: AttributeValue: {N:1}"
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"ExpressionAttributeNames": {"a": "a"}},
         'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"'),
        ({"ExpressionAttributeValues": {"v": {"S": "x"}}},
         'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"'),
    ],
)  # fmt: skip
def test_invalid_keys(params: dict[str, Any], message: str) -> None:
    with pytest.raises(DdbValidationError) as e:
        check_scope(params, [parse_condition("a = b")])
    assert e.value.message == message
