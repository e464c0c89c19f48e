"""Pure URI helpers shared by REST and HTTP APIs: Lambda integration URIs, stage variables,
execute-api ARNs."""

from __future__ import annotations

import pytest

from overcast.engines.apigw.uris import execute_api_arn, function_of, substitute_stage_variables

FN_ARN = "arn:aws:lambda:us-east-1:000000000000:function:hello"
INVOKE_URI = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{FN_ARN}/invocations"

FUNCTION_CASES = [
    (INVOKE_URI, False, FN_ARN),
    (INVOKE_URI, True, FN_ARN),
    (f"{INVOKE_URI.replace('hello', 'hello:live')}", False, f"{FN_ARN}:live"),
    (FN_ARN, False, None),  # REST APIs take only the invocation form
    (FN_ARN, True, FN_ARN),  # HTTP APIs take a bare function ARN too
    ("http://example.com/", True, None),
    ("", False, None),
]


@pytest.mark.parametrize(("uri", "bare_arn", "expected"), FUNCTION_CASES)
def test_function_of(uri: str, bare_arn: bool, expected: str | None) -> None:
    assert function_of(uri, bare_arn=bare_arn) == expected


STAGE_VAR_CASES = [
    ("${stageVariables.fn}", {"fn": "hello"}, "hello"),
    ("a/${stageVariables.x}/b/${stageVariables.y}", {"x": "1", "y": "2"}, "a/1/b/2"),
    ("${stageVariables.missing}!", {}, "!"),
    ("no variables", {"fn": "x"}, "no variables"),
]


@pytest.mark.parametrize(("text", "variables", "expected"), STAGE_VAR_CASES)
def test_substitute_stage_variables(text: str, variables: dict[str, str], expected: str) -> None:
    assert substitute_stage_variables(text, variables) == expected


def test_execute_api_arn() -> None:
    assert (
        execute_api_arn("eu-west-1", "123456789012", "abc123", "prod", "GET", "pets/1")
        == "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/pets/1"
    )
