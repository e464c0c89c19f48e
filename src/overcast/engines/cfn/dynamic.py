"""Dynamic references in property values: `{{resolve:ssm:name[:version]}}`,
`{{resolve:ssm-secure:name[:version]}}` and
`{{resolve:secretsmanager:secret-id[:SecretString[:json-key[:version-stage[:version-id]]]]}}`.
The engine finds and substitutes them; the service reads the values they name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from overcast.engines.cfn.errors import TemplateError
from overcast.engines.cfn.walk import leaves

_PATTERN = re.compile(r"\{\{resolve:(ssm|ssm-secure|secretsmanager):([^{}]+)\}\}")


@dataclass(frozen=True, slots=True)
class DynamicReference:
    """One reference: its text (as written), the store it reads, and what it names."""

    text: str
    service: str  # "ssm" | "ssm-secure" | "secretsmanager"
    name: str  # parameter name or secret id
    version: str | None = None  # parameter version, or secret version id
    json_key: str | None = None
    version_stage: str | None = None


def _parse(service: str, body: str, text: str) -> DynamicReference:
    if service in ("ssm", "ssm-secure"):
        name, _, version = body.partition(":")
        if version and not version.isdigit():
            raise TemplateError(
                f"Incorrect format is used in the following SSM reference: [{text}]"
            )
        return DynamicReference(text, service, name, version or None)
    parts = body.split(":")
    if body.startswith("arn:"):  # an ARN carries six colons of its own
        secret_id, rest = ":".join(parts[:7]), parts[7:]
    else:
        secret_id, rest = parts[0], parts[1:]
    rest += [""] * (4 - len(rest))
    if rest[0] not in ("", "SecretString"):
        raise TemplateError(
            f"Incorrect format is used in the following secretsmanager reference: [{text}]"
        )
    return DynamicReference(
        text, service, secret_id, rest[3] or None, rest[1] or None, rest[2] or None
    )


def dynamic_references(value: Any) -> list[DynamicReference]:
    """Every dynamic reference in a resolved value, in order, each once."""
    found: dict[str, DynamicReference] = {}
    for v in leaves(value):
        if isinstance(v, str):
            for m in _PATTERN.finditer(v):
                if m.group(0) not in found:
                    found[m.group(0)] = _parse(m.group(1), m.group(2), m.group(0))
    return list(found.values())


def substitute(value: Any, values: dict[str, str]) -> Any:
    """The value with each reference's text replaced by what it resolved to."""
    if isinstance(value, str):
        return _PATTERN.sub(lambda m: values.get(m.group(0), m.group(0)), value)
    if isinstance(value, list):
        return [substitute(v, values) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, values) for k, v in value.items()}
    return value
