"""Reading templates: JSON or YAML (with the short-form tags `!Ref`, `!Sub`, `!GetAtt` ...) into
plain data, and the sections of a template as a record."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from overcast.engines.cfn.errors import TemplateError

# Short-form tags and the long form they stand for.
_FUNCTION_TAGS = {
    "!Base64": "Fn::Base64",
    "!Cidr": "Fn::Cidr",
    "!FindInMap": "Fn::FindInMap",
    "!GetAZs": "Fn::GetAZs",
    "!ImportValue": "Fn::ImportValue",
    "!Join": "Fn::Join",
    "!Select": "Fn::Select",
    "!Split": "Fn::Split",
    "!Sub": "Fn::Sub",
    "!Transform": "Fn::Transform",
    "!And": "Fn::And",
    "!Equals": "Fn::Equals",
    "!If": "Fn::If",
    "!Not": "Fn::Not",
    "!Or": "Fn::Or",
    "!Length": "Fn::Length",
    "!ToJsonString": "Fn::ToJsonString",
    "!Ref": "Ref",
    "!Condition": "Condition",
}


class _Loader(yaml.SafeLoader):
    """SafeLoader plus CloudFormation's tags; timestamps stay strings (as CloudFormation reads
    them), so a date-like `AWSTemplateFormatVersion` keeps its text."""


def _construct(tag: str, name: str) -> Any:
    def build(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {name: value}

    return build


def _construct_getatt(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        text = str(loader.construct_scalar(node))
        resource, _, attribute = text.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    if isinstance(node, yaml.SequenceNode):
        return {"Fn::GetAtt": loader.construct_sequence(node, deep=True)}
    raise TemplateError("Template error: Fn::GetAtt must be a string or a list")


for _tag, _name in _FUNCTION_TAGS.items():
    _Loader.add_constructor(_tag, _construct(_tag, _name))
_Loader.add_constructor("!GetAtt", _construct_getatt)
_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    lambda loader, node: loader.construct_scalar(node),  # type: ignore[arg-type]
)


def parse_template(body: str) -> dict[str, Any]:
    """Parse a template body (JSON first, then YAML) into plain data; TemplateError if neither."""
    text = body.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise TemplateError(f"Template format error: JSON not well-formed. ({exc})") from None
    else:
        try:
            data = yaml.load(text, Loader=_Loader)
        except yaml.YAMLError as exc:
            raise TemplateError(f"Template format error: YAML not well-formed. ({exc})") from None
    if not isinstance(data, dict):
        raise TemplateError("Template format error: unsupported structure.")
    return data


def dump_template(data: dict[str, Any]) -> str:
    """A processed template as JSON text (how GetTemplate returns the Processed stage)."""
    return json.dumps(data, indent=2, default=str)


@dataclass(frozen=True, slots=True)
class Template:
    """The sections of a parsed template (values are the template's own data)."""

    resources: dict[str, dict[str, Any]]
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    transform: tuple[str, ...] = ()
    version: str | None = None
    rules: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Template:
        """Check the top-level shape and build the record."""
        known = {
            "AWSTemplateFormatVersion",
            "Description",
            "Metadata",
            "Parameters",
            "Rules",
            "Mappings",
            "Conditions",
            "Transform",
            "Resources",
            "Outputs",
            "Hooks",
            "Globals",
        }
        for key in data:
            if key not in known:
                raise TemplateError(
                    f"Template format error: Invalid template property or properties [{key}]"
                )
        resources = data.get("Resources")
        if not isinstance(resources, dict) or not resources:
            raise TemplateError(
                "Template format error: At least one Resources member must be defined."
            )
        for name, res in resources.items():
            if not isinstance(res, dict) or "Type" not in res:
                raise TemplateError(
                    f"Template format error: [/Resources/{name}] Every Resources object must "
                    "contain a Type member."
                )
            if not isinstance(res["Type"], str):
                raise TemplateError(
                    f"Template format error: [/Resources/{name}/Type] Type must be a string"
                )
        version = data.get("AWSTemplateFormatVersion")
        if version is not None and str(version) != "2010-09-09":
            raise TemplateError(
                f"Template format error: Unsupported template format version {version}."
            )
        transform = data.get("Transform")
        if isinstance(transform, str):
            transforms: tuple[str, ...] = (transform,)
        elif isinstance(transform, list):
            transforms = tuple(t if isinstance(t, str) else str(t.get("Name")) for t in transform)
        elif isinstance(transform, dict):
            transforms = (str(transform.get("Name")),)
        else:
            transforms = ()
        outputs = data.get("Outputs") or {}
        for name, out in outputs.items():
            if not isinstance(out, dict) or "Value" not in out:
                raise TemplateError(
                    f"Template format error: Every Outputs member must contain a Value object, "
                    f"the Output {name} is missing the Value object"
                )
        return cls(
            resources=resources,
            parameters=data.get("Parameters") or {},
            mappings=data.get("Mappings") or {},
            conditions=data.get("Conditions") or {},
            outputs=outputs,
            description=data.get("Description"),
            metadata=data.get("Metadata") or {},
            transform=transforms,
            version=str(version) if version is not None else None,
            rules=data.get("Rules") or {},
        )
