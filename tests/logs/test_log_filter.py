"""Table-driven tests of the filter pattern engine (CloudWatch Logs syntax)."""

from __future__ import annotations

import pytest

from overcast.engines.log_filter import FilterPatternError, compile_pattern

CASES = [
    # (pattern, message, matches)
    ("", "anything", True),
    ("ERROR", "[ERROR] boom", True),
    ("ERROR", "[error] boom", False),
    ("ERROR boom", "[ERROR] boom", True),
    ("ERROR boom", "[ERROR] bang", False),
    ('"Internal Server Error"', "500 Internal Server Error", True),
    ('"Internal Server Error"', "Internal Error", False),
    ("ERROR -Retry", "ERROR giving up", True),
    ("ERROR -Retry", "ERROR Retry later", False),
    ("?ERROR ?WARN", "WARN disk", True),
    ("?ERROR ?WARN", "INFO ok", False),
    ("%[0-9]{3} ms%", "took 123 ms", True),
    ("%[0-9]{3} ms%", "took 12 ms", False),
    ('{ $.level = "ERROR" }', '{"level": "ERROR", "msg": "x"}', True),
    ('{ $.level = "ERROR" }', '{"level": "INFO"}', False),
    ('{ $.level = "ERROR" }', "not json at all", False),
    ('{ $.level = "ERR*" }', '{"level": "ERROR"}', True),
    ('{ $.level != "ERROR" }', '{"level": "INFO"}', True),
    ("{ $.latency > 100 }", '{"latency": 150}', True),
    ("{ $.latency > 100 }", '{"latency": 50}', False),
    ("{ $.latency >= 50 && $.code = 200 }", '{"latency": 50, "code": 200}', True),
    ("{ $.latency >= 50 && $.code = 200 }", '{"latency": 50, "code": 500}', False),
    ('{ ($.a = 1) || ($.b = "x") }', '{"a": 2, "b": "x"}', True),
    ('{ ($.a = 1) || ($.b = "x") }', '{"a": 2, "b": "y"}', False),
    ("{ $.user.id = 7 }", '{"user": {"id": 7}}', True),
    ("{ $.items[1] = 5 }", '{"items": [4, 5]}', True),
    ("{ $.items[0] = 5 }", '{"items": [4, 5]}', False),
    ("{ $.gone NOT EXISTS }", '{"here": 1}', True),
    ("{ $.here NOT EXISTS }", '{"here": 1}', False),
    ("{ $.v IS NULL }", '{"v": null}', True),
    ("{ $.v IS TRUE }", '{"v": true}', True),
    ("{ $.v IS FALSE }", '{"v": true}', False),
    ('{ $.level = "ERROR" }', 'INFO\t{"level": "ERROR"}', True),
    ("[ip, user, status = 404, size]", "1.2.3.4 bob 404 100", True),
    ("[ip, user, status = 404, size]", "1.2.3.4 bob 200 100", False),
    ("[ip, ..., size > 1000]", "1.2.3.4 a b c 2000", True),
    ("[ip, ..., size > 1000]", "1.2.3.4 a b c 20", False),
    ('[ip, request = "GET*", ...]', '1.2.3.4 "GET /x HTTP/1.1" 200', True),
]


@pytest.mark.parametrize(("pattern", "message", "expected"), CASES)
def test_pattern(pattern: str, message: str, expected: bool) -> None:
    assert compile_pattern(pattern)(message) is expected


BAD = ["{ $.a = ", '{ $.a > "x" }', "{ level = 1 }", "[a, b", "%[unclosed%", "{ ($.a = 1 }"]


@pytest.mark.parametrize("pattern", BAD)
def test_bad_patterns(pattern: str) -> None:
    with pytest.raises(FilterPatternError):
        compile_pattern(pattern)
