"""Where templates come from and how they become processed templates: TemplateBody or a
TemplateURL (read from Overcast's S3 whatever host the URL names), transforms
(AWS::Serverless-2016-10-31 through aws-sam-translator), and the stack's parameters."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from overcast.core.errors import ServiceError
from overcast.engines.cfn.dynamic import DynamicReference
from overcast.engines.cfn.errors import TemplateError
from overcast.engines.cfn.intrinsics import pseudo_parameters
from overcast.engines.cfn.model import Prepared, prepare
from overcast.engines.cfn.parameters import ResolvedParameters, resolve_parameters, with_ssm_values
from overcast.engines.cfn.template import Template, parse_template
from overcast.services.cloudformation.errors import CfnValidationError
from overcast.services.cloudformation.records import Stack
from overcast.services.cloudformation.resources.base import ResourceError
from overcast.services.cloudformation.s3urls import Call, fetch_url
from overcast.services.cloudformation.sam import SAM_TRANSFORM, translate

MAX_BODY = 51_200


async def template_text(call: Call, params: dict[str, Any]) -> str:
    """The template a request names (TemplateBody or TemplateURL)."""
    body = params.get("TemplateBody")
    url = params.get("TemplateURL")
    if body is not None and url is not None:
        raise CfnValidationError("Specify exactly one of TemplateBody or TemplateUrl.")
    if body is not None:
        if len(body.encode()) > MAX_BODY:
            raise CfnValidationError(
                "1 validation error detected: Value '...' at 'templateBody' failed to satisfy "
                "constraint: Member must have length less than or equal to 51200"
            )
        return str(body)
    if url is not None:
        return await fetch_url(call, str(url))
    raise CfnValidationError("Either Template URL or Template Body must be specified.")


def parse(text: str) -> dict[str, Any]:
    """Template text as data; ValidationError on bad syntax."""
    try:
        return parse_template(text)
    except TemplateError as exc:
        raise CfnValidationError(exc.message) from None


@dataclass(frozen=True, slots=True)
class TransformFailed(Exception):
    """A transform rejected the template (a change set reports it as FAILED)."""

    reason: str


def process(
    data: dict[str, Any], given: dict[str, str], region: str, account_id: str
) -> dict[str, Any]:
    """Apply the template's transforms; the result is plain CloudFormation."""
    transforms = Template.from_data(data).transform if "Resources" in data else ()
    processed = copy.deepcopy(data)
    for name in transforms:
        if name == SAM_TRANSFORM:
            try:
                processed = translate(processed, given, region, account_id)
            except ValueError as exc:
                raise TransformFailed(f"Transform {SAM_TRANSFORM} failed with: {exc}") from None
        elif name == "AWS::LanguageExtensions":
            pass  # Fn::Length, Fn::ToJsonString and FindInMap defaults are built in
        else:
            raise TransformFailed(f"No transform named {name} found.")
    processed.pop("Transform", None)
    return processed


def template_record(processed: dict[str, Any]) -> Template:
    try:
        return Template.from_data(processed)
    except TemplateError as exc:
        raise CfnValidationError(exc.message) from None


def check_parameters(
    template: Template, given: list[dict[str, Any]], previous: dict[str, str] | None = None
) -> ResolvedParameters:
    """The caller's Parameters list checked against the template."""
    values = {
        p["ParameterKey"]: str(p.get("ParameterValue", ""))
        for p in given
        if not p.get("UsePreviousValue")
    }
    use_previous = frozenset(p["ParameterKey"] for p in given if p.get("UsePreviousValue"))
    try:
        return resolve_parameters(
            template.parameters, values, use_previous=use_previous, previous=previous
        )
    except TemplateError as exc:
        raise CfnValidationError(exc.message) from None


def parameters_list(
    template: Template, resolved: ResolvedParameters, ssm_values: dict[str, str]
) -> list[dict[str, Any]]:
    """The stored (and DescribeStacks) form of parameters."""
    out = []
    for key in template.parameters:
        if key not in resolved.text:
            continue
        entry: dict[str, Any] = {"ParameterKey": key, "ParameterValue": resolved.text[key]}
        if key in resolved.no_echo:
            entry["NoEcho"] = True
        if key in ssm_values:
            entry["ResolvedValue"] = ssm_values[key]
        out.append(entry)
    return out


async def read_ssm_parameters(call: Call, resolved: ResolvedParameters) -> dict[str, str]:
    """Values of SSM-typed parameters, read from Overcast's SSM."""
    out: dict[str, str] = {}
    for key, ssm_name in resolved.ssm.items():
        try:
            got = await call("ssm", "GetParameter", {"Name": ssm_name})
        except ServiceError:
            raise CfnValidationError(
                f"Unable to fetch parameters [{ssm_name}] from parameter store for this account."
            ) from None
        out[key] = str(got["Parameter"]["Value"])
    return out


def prepared_of(
    stack: Stack,
    processed: dict[str, Any] | None = None,
    parameters: list[dict[str, Any]] | None = None,
) -> Prepared:
    """A stack's stored template and parameters (or the given ones) prepared in its scope."""
    return prepared_from(
        stack.processed if processed is None else processed,
        stack.parameters if parameters is None else parameters,
        region=stack.region,
        account_id=stack.account_id,
        stack_name=stack.name,
        stack_id=stack.stack_id,
    )


def prepared_from(
    processed: dict[str, Any],
    parameters: list[dict[str, Any]],
    *,
    region: str,
    account_id: str,
    stack_name: str,
    stack_id: str,
) -> Prepared:
    """A stored template and its stored parameters, ready to plan and evaluate."""
    template = template_record(processed)
    given = {p["ParameterKey"]: p["ParameterValue"] for p in parameters}
    given = {k: v for k, v in given.items() if k in template.parameters}
    try:
        resolved = resolve_parameters(template.parameters, given)
        ssm_values = {
            p["ParameterKey"]: p["ResolvedValue"]
            for p in parameters
            if "ResolvedValue" in p and p["ParameterKey"] in template.parameters
        }
        if ssm_values:
            resolved = with_ssm_values(resolved, ssm_values, template.parameters)
        pseudo = pseudo_parameters(
            region=region, account_id=account_id, stack_name=stack_name, stack_id=stack_id
        )
        return prepare(template, resolved, pseudo)
    except TemplateError as exc:
        raise CfnValidationError(exc.message) from None


async def read_dynamic(call: Call, ref: DynamicReference) -> str:
    """The value a dynamic reference names, read from SSM or Secrets Manager through dispatch;
    ResourceError (the resource fails) if it cannot be read."""
    try:
        if ref.service in ("ssm", "ssm-secure"):
            name = f"{ref.name}:{ref.version}" if ref.version else ref.name
            out = await call(
                "ssm", "GetParameter", {"Name": name, "WithDecryption": ref.service == "ssm-secure"}
            )
            return str(out["Parameter"]["Value"])
        params: dict[str, Any] = {"SecretId": ref.name}
        if ref.version:
            params["VersionId"] = ref.version
        if ref.version_stage:
            params["VersionStage"] = ref.version_stage
        secret = str((await call("secretsmanager", "GetSecretValue", params))["SecretString"])
    except ServiceError as exc:
        raise ResourceError(
            f"Unable to resolve dynamic reference {ref.text}: {exc.message or exc.code}"
        ) from None
    if ref.json_key is None:
        return secret
    try:
        return str(json.loads(secret)[ref.json_key])
    except (ValueError, KeyError, TypeError):
        raise ResourceError(
            f"Could not find the key {ref.json_key} in the secret referenced by {ref.text}"
        ) from None
