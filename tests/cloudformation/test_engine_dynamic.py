"""Dynamic references found and substituted by the engine."""

from __future__ import annotations

import pytest

from overcast.engines.cfn.dynamic import DynamicReference, dynamic_references, substitute
from overcast.engines.cfn.errors import TemplateError

CASES = [
    ("{{resolve:ssm:/app/db}}", DynamicReference("{{resolve:ssm:/app/db}}", "ssm", "/app/db")),
    ("{{resolve:ssm:name:3}}", DynamicReference("{{resolve:ssm:name:3}}", "ssm", "name", "3")),
    (
        "{{resolve:ssm-secure:pw}}",
        DynamicReference("{{resolve:ssm-secure:pw}}", "ssm-secure", "pw"),
    ),
    (
        "{{resolve:secretsmanager:db}}",
        DynamicReference("{{resolve:secretsmanager:db}}", "secretsmanager", "db"),
    ),
    (
        "{{resolve:secretsmanager:db:SecretString:password}}",
        DynamicReference(
            "{{resolve:secretsmanager:db:SecretString:password}}",
            "secretsmanager",
            "db",
            None,
            "password",
        ),
    ),
    (
        "{{resolve:secretsmanager:db:SecretString:password:AWSPREVIOUS}}",
        DynamicReference(
            "{{resolve:secretsmanager:db:SecretString:password:AWSPREVIOUS}}",
            "secretsmanager",
            "db",
            None,
            "password",
            "AWSPREVIOUS",
        ),
    ),
    (
        "{{resolve:secretsmanager:arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf:SecretString:user}}",
        DynamicReference(
            "{{resolve:secretsmanager:arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf:SecretString:user}}",
            "secretsmanager",
            "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf",
            None,
            "user",
        ),
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_parse(text: str, expected: DynamicReference) -> None:
    assert dynamic_references({"A": [f"x-{text}-y"]}) == [expected]


def test_substitute_everywhere_once() -> None:
    value = {"A": "{{resolve:ssm:a}}/{{resolve:ssm:a}}", "B": ["{{resolve:ssm:b}}"], "C": 3}
    refs = dynamic_references(value)
    assert [r.name for r in refs] == ["a", "b"]
    out = substitute(value, {"{{resolve:ssm:a}}": "1", "{{resolve:ssm:b}}": "2"})
    assert out == {"A": "1/1", "B": ["2"], "C": 3}


@pytest.mark.parametrize(
    "text", ["{{resolve:ssm:name:latest}}", "{{resolve:secretsmanager:db:Binary}}"]
)
def test_bad_references(text: str) -> None:
    with pytest.raises(TemplateError):
        dynamic_references(text)
