"""The strings an API Gateway integration or authorizer is configured with: Lambda invocation
URIs, ${stageVariables.x} references, and the execute-api ARNs that policies are matched against."""

from __future__ import annotations

import re

_FUNCTION = re.compile(r":lambda:path/[\d-]+/functions/(.+?)/invocations")
_STAGE_VAR = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_.:-]+)\}")


def function_of(uri: str, *, bare_arn: bool = False) -> str | None:
    """The function ARN or name inside a Lambda integration URI.

    HTTP APIs also take a plain function ARN (`bare_arn=True`); REST APIs only the invocation form.
    """
    if bare_arn and (uri or "").startswith("arn:aws:lambda:"):
        return uri
    m = _FUNCTION.search(uri or "")
    return m.group(1) if m else None


def substitute_stage_variables(text: str, variables: dict[str, str]) -> str:
    """${stageVariables.name} in an integration URI or authorizer URI (missing ones → "")."""
    return _STAGE_VAR.sub(lambda m: variables.get(m.group(1), ""), text)


def execute_api_arn(
    region: str, account: str, api_id: str, stage: str, method: str, path: str
) -> str:
    """arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path without its '/'}."""
    return f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{method}/{path}"
