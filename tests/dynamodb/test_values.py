"""Table-driven tests of attribute values: numbers, key encodings, sizes, validation, PartiQL
parsing and legacy parameters."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from overcast.engines.ddb import legacy
from overcast.engines.ddb.errors import DdbValidationError
from overcast.engines.ddb.evaluate import Scope, condition
from overcast.engines.ddb.keys import decode_number, encode_key, encode_number
from overcast.engines.ddb.partiql import Delete, Insert, Select, Update, parse_statement
from overcast.engines.ddb.update import arith
from overcast.engines.ddb.values import (
    check_item,
    check_item_sized,
    check_value,
    item_size,
    normalize_number,
)

NORMALIZE = [
    ("1", "1"), ("01", "1"), ("1.0", "1"), ("-0", "0"), ("0.000", "0"), ("1e2", "100"),
    ("1.50", "1.5"), ("-12.500", "-12.5"), ("1E-3", "0.001"), ("+5", "5"),
    ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "want"), NORMALIZE)
def test_normalize_number(text: str, want: str) -> None:
    assert normalize_number(text) == want


BAD_NUMBERS = [
    ("abc", "A value provided cannot be converted into a number"),
    ("", "A value provided cannot be converted into a number"),
    ("NaN", "A value provided cannot be converted into a number"),
    ("Infinity", "A value provided cannot be converted into a number"),
    (" 1", "A value provided cannot be converted into a number"),
    ("1" * 39, "Attempting to store more than 38 significant digits in a Number"),
    ("1E126", "Number overflow. Attempting to store a number with magnitude larger than supported range"),
    ("1E-131", "Number underflow. Attempting to store a number with magnitude smaller than supported range"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), BAD_NUMBERS)
def test_bad_numbers(text: str, message: str) -> None:
    with pytest.raises(DdbValidationError) as e:
        normalize_number(text)
    assert e.value.message == message


def test_number_encoding_orders_like_decimal() -> None:
    rng = random.Random(7)
    nums = ["0", "1E-130", "-1E-130", "9.9999999999999999999999999999999999999E+125",
            "-9.9999999999999999999999999999999999999E+125"]  # fmt: skip
    for _ in range(2000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 38)))
        exp = rng.randint(-120, 80)
        sign = rng.choice(["", "-"])
        nums.append(normalize_number(f"{sign}{digits}E{exp}"))
    ordered = sorted(nums, key=Decimal)
    assert sorted(nums, key=encode_number) == ordered or [
        Decimal(x) for x in sorted(nums, key=encode_number)] == [Decimal(x) for x in ordered]  # fmt: skip
    for n in nums[:300]:
        assert Decimal(decode_number(encode_number(n))) == Decimal(n)


KEYS = [
    ({"S": "a"}, {"S": "b"}), ({"S": "Z"}, {"S": "a"}), ({"S": "ab"}, {"S": "b"}),
    ({"S": "\u00e9"}, {"S": "\U0001f600"}), ({"B": b"\x00"}, {"B": b"\x00\x00"}),
    ({"B": b"\x7f"}, {"B": b"\x80"}), ({"N": "-1"}, {"N": "-0.5"}), ({"N": "9"}, {"N": "10"}),
]  # fmt: skip


@pytest.mark.parametrize(("low", "high"), KEYS)
def test_key_encoding_order(low: dict[str, Any], high: dict[str, Any]) -> None:
    assert encode_key(low) < encode_key(high)


SIZES = [
    ({"a": {"S": "abc"}}, 4), ({"ab": {"N": "12345"}}, 2 + 4), ({"a": {"BOOL": True}}, 2),
    ({"a": {"NULL": True}}, 2), ({"a": {"B": b"xyz"}}, 4), ({"a": {"SS": ["x", "yz"]}}, 4),
    ({"a": {"L": [{"S": "x"}]}}, 1 + 3 + 1 + 1), ({"a": {"M": {"k": {"S": "v"}}}}, 1 + 3 + 1 + 1 + 1),
]  # fmt: skip


@pytest.mark.parametrize(("item", "size"), SIZES)
def test_item_size(item: dict[str, Any], size: int) -> None:
    assert item_size(item) == size


INVALID_VALUES = [
    ({}, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
    ({"S": "a", "N": "1"}, "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"),
    ({"NS": []}, "One or more parameter values were invalid: An number set  may not be empty"),
    ({"BS": []}, "One or more parameter values were invalid: An binary set  may not be empty"),
    ({"SS": ["a", "a"]}, "One or more parameter values were invalid: Input collection [a, a] contains duplicates."),
]  # fmt: skip


@pytest.mark.parametrize(("value", "message"), INVALID_VALUES)
def test_invalid_values(value: dict[str, Any], message: str) -> None:
    with pytest.raises(DdbValidationError) as e:
        check_value(value)
    assert e.value.message == message


STATEMENTS = [
    ("SELECT * FROM t", Select),
    ('SELECT a, b.c, d[0] FROM "my-table"."idx" WHERE a = 1 AND b IN [1, 2]', Select),
    ("INSERT INTO t VALUE {'pk': 'a', 'n': 1.5, 'l': [1, 'x'], 's': <<1, 2>>, 'b': true}", Insert),
    ("UPDATE t SET a = a + 1, b = 'x' REMOVE c WHERE pk = 'k' RETURNING ALL OLD *", Update),
    ("DELETE FROM t WHERE pk = 'k' AND contains(x, 'a')", Delete),
    ("select * from t where begins_with(sk, 'a') and x is not missing", Select),
]


@pytest.mark.parametrize(("text", "kind"), STATEMENTS)
def test_partiql_parse(text: str, kind: type) -> None:
    assert isinstance(parse_statement(text), kind)


def test_partiql_where_evaluates() -> None:
    stmt = parse_statement("SELECT * FROM t WHERE n BETWEEN 1 AND ? AND s <> 'x' OR missing_attr IS NOT MISSING",
                           [{"N": "5"}])  # fmt: skip
    assert isinstance(stmt, Select) and stmt.where is not None
    assert condition(stmt.where, {"n": {"N": "3"}, "s": {"S": "y"}}, Scope())
    assert not condition(stmt.where, {"n": {"N": "6"}, "s": {"S": "y"}}, Scope())


def test_partiql_parameter_count() -> None:
    with pytest.raises(DdbValidationError) as e:
        parse_statement("SELECT * FROM t WHERE a = ?")
    assert e.value.message == "Number of parameters in request and statement don't match."


LEGACY = [
    ({"a": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}]}}, True),
    ({"a": {"ComparisonOperator": "NE", "AttributeValueList": [{"N": "1"}]}}, False),
    ({"a": {"ComparisonOperator": "NOT_NULL"}}, True),
    ({"z": {"ComparisonOperator": "NULL"}}, True),
    ({"s": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "ell"}]}}, True),
    ({"s": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "ell"}]}}, False),
    ({"s": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "he"}]}}, True),
    ({"a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "0"}, {"N": "2"}]}}, True),
    ({"a": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "3"}, {"N": "1"}]}}, True),
    ({"a": {"Value": {"N": "1"}}}, True),
    ({"a": {"Exists": False}}, False),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "expected"), LEGACY)
def test_legacy_expected(spec: dict[str, Any], expected: bool) -> None:
    parsed = legacy.expected(spec, None)
    item = {"a": {"N": "1"}, "s": {"S": "hello"}}
    assert condition(parsed.node, item, Scope()) is expected  # type: ignore[arg-type]


ARITH = [
    ("+", "1.5", "2.25", "3.75"),
    ("-", "1", "3", "-2"),
    ("+", "99999999999999999999999999999999999999", "-1", "99999999999999999999999999999999999998"),
    ("+", "0.1", "0.2", "0.3"),
    ("-", "1E+125", "1E+125", "0"),
]  # fmt: skip


@pytest.mark.parametrize(("op", "a", "b", "want"), ARITH)
def test_arith(op: str, a: str, b: str, want: str) -> None:
    assert arith(op, normalize_number(a), normalize_number(b)) == want


def test_arith_precision_error() -> None:
    with pytest.raises(DdbValidationError) as e:
        arith("+", normalize_number("1E+37"), "0.1")
    assert e.value.message == "Attempting to store more than 38 significant digits in a Number"


def test_partiql_set_functions() -> None:
    from overcast.engines.ddb.ast import Parsed
    from overcast.engines.ddb.update import apply_update

    stmt = parse_statement(
        "UPDATE t SET s = set_add(s, <<'c'>>), n = set_delete(n, <<1>>) WHERE pk = 'k'"
    )
    assert isinstance(stmt, Update)
    item: dict[str, Any] = {"pk": {"S": "k"}, "s": {"SS": ["a"]}, "n": {"NS": ["1", "2"]}}
    new, _ = apply_update(
        Parsed("UpdateExpression", actions=tuple(stmt.actions)), item, Scope(), ("pk",)
    )
    assert new["s"] == {"SS": ["a", "c"]} and new["n"] == {"NS": ["2"]}


# Items whose values the one-pass check takes inline (strings, canonical integers, booleans,
# string sets) and items that need normalising: both give what check_item and item_size give.
SIZED_ITEMS = [
    {"pk": {"S": "user#1"}, "n": {"N": "42"}, "t": {"SS": ["a", "é"]}, "ok": {"BOOL": True}},
    {"n": {"N": "-100"}, "z": {"N": "0"}, "big": {"N": "9" * 38}},
    {"n": {"N": "1.50"}, "e": {"N": "1e2"}, "lead": {"N": "007"}, "s": {"S": ""}},
    {"b": {"B": b"\x00\xff"}, "m": {"M": {"k": {"N": "01"}}}, "l": {"L": [{"NULL": True}]}},
    {"ns": {"NS": ["1", "2.0"]}, "bs": {"BS": [b"a"]}, "ü": {"S": "ß"}},
]


@pytest.mark.parametrize("item", SIZED_ITEMS)
def test_check_item_sized_matches_check_item(item: dict[str, Any]) -> None:
    want = check_item(item)
    assert check_item_sized(item) == (want, item_size(want))


def test_check_item_sized_rejects_duplicate_string_set() -> None:
    with pytest.raises(DdbValidationError, match="contains duplicates"):
        check_item_sized({"t": {"SS": ["a", "a"]}})
