"""The VTL engine, table-driven: one template, one variable scope, one expected output."""

from __future__ import annotations

from typing import Any

import pytest

from overcast.engines.vtl import (
    VtlRuntimeError,
    VtlSyntaxError,
    mapping_variables,
    render,
    render_mapping,
)
from overcast.engines.vtl.jsonpath import evaluate

PLAIN: list[tuple[str, dict[str, Any], str]] = [
    ("hello", {}, "hello"),
    ("$a", {"a": "x"}, "x"),
    ("${a}b", {"a": "x"}, "xb"),
    ("$missing", {}, "$missing"),
    ("$!missing", {}, ""),
    ("$!{missing}", {}, ""),
    ("\\$a", {"a": "x"}, "$a"),
    ("$a.b", {"a": {"b": 1}}, "1"),
    ("$a.b.c", {"a": {"b": {"c": True}}}, "true"),
    ("$a[1]", {"a": [1, 2]}, "2"),
    ("$a['k']", {"a": {"k": "v"}}, "v"),
    ("$a.size()", {"a": [1, 2, 3]}, "3"),
    ("$a.length()", {"a": "abcd"}, "4"),
    ("$a.toUpperCase()", {"a": "ab"}, "AB"),
    ("$a.toLowerCase()", {"a": "AB"}, "ab"),
    ("$a.substring(1, 3)", {"a": "abcd"}, "bc"),
    ("$a.substring(2)", {"a": "abcd"}, "cd"),
    ("$a.indexOf('c')", {"a": "abcd"}, "2"),
    ("$a.replace('b', 'x')", {"a": "abcb"}, "axcx"),
    ("$a.replaceAll('[0-9]+', '#')", {"a": "a12b3"}, "a#b#"),
    ("$a.split(',').size()", {"a": "x,y,z"}, "3"),
    ("$a.trim()", {"a": "  x "}, "x"),
    ("$a.startsWith('ab')", {"a": "abc"}, "true"),
    ("$a.endsWith('bc')", {"a": "abc"}, "true"),
    ("$a.contains('zz')", {"a": "abc"}, "false"),
    ("$a.isEmpty()", {"a": ""}, "true"),
    ("$a.matches('a.c')", {"a": "abc"}, "true"),
    ("$a.charAt(1)", {"a": "abc"}, "b"),
    ("$m.keySet()", {"m": {"a": 1, "b": 2}}, "[a, b]"),
    ("$m.containsKey('a')", {"m": {"a": 1}}, "true"),
    ("$m.get('a')", {"m": {"a": 1}}, "1"),
    ("$m", {"m": {"a": 1, "b": "x"}}, "{a=1, b=x}"),
    ("$l", {"l": [1, "x", None]}, "[1, x, ]"),
    ("#set($x = 5)$x", {}, "5"),
    ("#set($x = 'a' + 'b')$x", {}, "ab"),
    ('#set($x = "v=$a")$x', {"a": 1}, "v=1"),
    ("#set($x = 1 + 2 * 3)$x", {}, "7"),
    ("#set($x = (1 + 2) * 3)$x", {}, "9"),
    ("#set($x = 7 / 2)$x", {}, "3"),
    ("#set($x = 7 % 3)$x", {}, "1"),
    ("#set($x = 1.5 + 1)$x", {}, "2.5"),
    ("#set($x = 'n' + 1)$x", {}, "n1"),
    ("#set($x = [1, 2])$x.size()", {}, "2"),
    ("#set($x = {'a': 1})$x.a", {}, "1"),
    ("#set($x = [1..3])$x", {}, "[1, 2, 3]"),
    ("#set($m = {})#set($m.k = 'v')$m.k", {}, "v"),
    ("#set($l = [])#set($ok = $l.add('q'))$l", {}, "[q]"),
    ("#if($a)yes#end", {"a": True}, "yes"),
    ("#if($a)yes#{else}no#end", {"a": False}, "no"),
    ("#if($a == 1)one#elseif($a == 2)two#{else}many#end", {"a": 2}, "two"),
    ("#if($a == 1)one#elseif($a == 2)two#{else}many#end", {"a": 9}, "many"),
    ("#if($a > 1 && $a < 5)in#end", {"a": 3}, "in"),
    ("#if($a < 1 || $a > 5)out#end", {"a": 9}, "out"),
    ("#if(!$a)none#end", {}, "none"),
    ("#if($a != 'x')diff#end", {"a": "y"}, "diff"),
    ("#if($a eq 'x')same#end", {"a": "x"}, "same"),
    ("#if($a and $b)both#end", {"a": 1, "b": 1}, "both"),
    ("#if(not $a)neg#end", {"a": False}, "neg"),
    ("#if($a == '')empty#end", {"a": ""}, "empty"),
    ("#if($a == 5)n#end", {"a": "5"}, "n"),
    ("#foreach($i in [1, 2, 3])$i#end", {}, "123"),
    ("#foreach($i in $l)$i#if($foreach.hasNext),#end#end", {"l": ["a", "b"]}, "a,b"),
    ("#foreach($i in $l)$foreach.index#end", {"l": ["a", "b"]}, "01"),
    ("#foreach($i in $l)$velocityCount#end", {"l": ["a", "b"]}, "12"),
    ("#foreach($i in $l)#if($i == 2)#break#end$i#end", {"l": [1, 2, 3]}, "1"),
    ("#foreach($k in $m.keySet())$k=$m.get($k);#end", {"m": {"a": 1, "b": 2}}, "a=1;b=2;"),
    ("#foreach($i in $missing)x#end", {}, ""),
    ("a## comment\nb", {}, "ab"),
    ("a#* block *#b", {}, "ab"),
    ("#[[$not #if]]#", {}, "$not #if"),
    ("#set($x = 1)\nline", {}, "line"),
    ("  #if(true)\n  in\n  #end\nout", {}, "  in\nout"),
    ("price: $5", {}, "price: $5"),
    ("a # b", {}, "a # b"),
    ("$a.b()", {"a": None}, "$a.b()"),
    ('#set($s = "He said \\"hi\\"")$s', {}, 'He said "hi"'),
    ("$x.equals('a')", {"x": "a"}, "true"),
]


@pytest.mark.parametrize(("template", "variables", "expected"), PLAIN)
def test_render(template: str, variables: dict[str, Any], expected: str) -> None:
    assert render(template, dict(variables)) == expected


BODY = '{"name": "O\'Neil", "items": [{"id": 1, "n": "a"}, {"id": 2, "n": "b"}], "n": 3}'

MAPPING: list[tuple[str, str]] = [
    ("$input.body", BODY),
    ("$input.json('$.n')", "3"),
    ("$input.json('$.items[0]')", '{"id":1,"n":"a"}'),
    ("$input.json('$.items[*].id')", "[1,2]"),
    ("$input.json('$..id')", "[1,2]"),
    ("$input.json('$.nothing')", "null"),
    ("$input.path('$.items').size()", "2"),
    ("$input.path('$.items')[1].n", "b"),
    ("$input.path('$.name')", "O'Neil"),
    ("$input.path('$.items.length()')", "2"),
    ("$util.escapeJavaScript($input.path('$.name'))", "O\\'Neil"),
    ("$util.escapeJavaScript('a\"b\nc')", 'a\\"b\\nc'),
    ("$util.urlEncode('a b&c/d')", "a+b%26c%2Fd"),
    ("$util.urlDecode('a+b%26c')", "a b&c"),
    ("$util.base64Encode('hello')", "aGVsbG8="),
    ("$util.base64Decode('aGVsbG8=')", "hello"),
    ("$util.parseJson('{\"a\": [1, 2]}').a.size()", "2"),
    ("$input.params('id')", "42"),
    ("$input.params('q')", "search"),
    ("$input.params('X-Trace')", "t-1"),
    ("$input.params('x-trace')", "t-1"),
    ("$input.params('absent')", ""),
    ("$input.params().path.id", "42"),
    ("$input.params().querystring.q", "search"),
    ("$input.params().header.get('X-Trace')", "t-1"),
    ("$context.requestId", "r-1"),
    ("$context.identity.sourceIp", "10.0.0.1"),
    ("$context.authorizer.principalId", "me"),
    ("$stageVariables.env", "prod"),
    (
        "#set($root = $input.path('$'))[#foreach($i in $root.items)"
        '{"id": $i.id}#if($foreach.hasNext),#end#end]',
        '[{"id": 1},{"id": 2}]',
    ),
    (
        "#foreach($p in $input.params().querystring.keySet())$p=$input.params($p)#end",
        "q=search",
    ),
]


@pytest.mark.parametrize(("template", "expected"), MAPPING)
def test_mapping_template(template: str, expected: str) -> None:
    variables = mapping_variables(
        body=BODY,
        path_params={"id": "42"},
        query={"q": "search"},
        headers={"X-Trace": "t-1"},
        context={
            "requestId": "r-1",
            "identity": {"sourceIp": "10.0.0.1"},
            "authorizer": {"principalId": "me"},
        },
        stage_variables={"env": "prod"},
    )
    assert render_mapping(template, variables) == expected


def test_mapping_of_empty_body_is_an_empty_object() -> None:
    variables = mapping_variables(body="")
    assert render_mapping("$input.json('$')", variables) == "{}"


@pytest.mark.parametrize(
    "template", ["#if($a", "#foreach($i $l)#end", "#if(true)x", "#end", "#set(x = 1)"]
)
def test_syntax_errors(template: str) -> None:
    with pytest.raises(VtlSyntaxError):
        render(template, {})


@pytest.mark.parametrize("template", ["$a.nope()", "#set($x = 'a' - 1)"])
def test_runtime_errors(template: str) -> None:
    with pytest.raises(VtlRuntimeError):
        render(template, {"a": "s"})


JSONPATH: list[tuple[str, Any]] = [
    ("$", {"a": {"b": [1, 2]}}),
    ("$.a.b", [1, 2]),
    ("$.a.b[1]", 2),
    ("$.a.b[-1]", 2),
    ("$['a']['b'][0]", 1),
    ("$.a.*", [[1, 2]]),
    ("$.zz", None),
]


@pytest.mark.parametrize(("path", "expected"), JSONPATH)
def test_jsonpath(path: str, expected: Any) -> None:
    assert evaluate(path, {"a": {"b": [1, 2]}}) == expected
