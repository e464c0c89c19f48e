"""A stage made ready to serve: its deployment's snapshot turned into a router, compiled JSON
Schema validators and settings, built once per API change and reused for every request."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft4Validator

from overcast.engines.apigw.routing import Router
from overcast.engines.openapi.rest_import import MODEL_REF_PREFIX
from overcast.services.apigateway.pipeline import deployed_snapshot


@dataclass
class RouteEntry:
    """One method of one resource, as the data plane needs it."""

    resource_id: str
    resource_path: str
    method: dict[str, Any]


@dataclass
class CompiledStage:
    account: str
    region: str
    api_id: str
    stage_name: str
    stage: dict[str, Any]
    api: dict[str, Any]
    router: Router[RouteEntry]
    authorizers: dict[str, dict[str, Any]]
    validators: dict[str, dict[str, Any]]
    gateway_responses: dict[str, dict[str, Any]]
    models: dict[str, dict[str, Any]]
    binary_types: list[str]
    variables: dict[str, str]
    schema_validators: dict[str, Draft4Validator | None] = field(default_factory=dict)

    def method_settings(self, resource_path: str, verb: str) -> dict[str, Any]:
        """The effective method settings: the method's own over the stage's */*."""
        settings = self.stage.get("methodSettings") or {}
        out = dict(settings.get("*/*") or {})
        out.update(settings.get(f"{resource_path}/{verb}") or {})
        return out

    def validator_for(self, model_name: str) -> Draft4Validator | None:
        """A Draft 4 validator for a model (other models inlined as definitions)."""
        if model_name in self.schema_validators:
            return self.schema_validators[model_name]
        model = self.models.get(model_name)
        v: Draft4Validator | None = None
        if model is not None and model.get("schema"):
            prefix = MODEL_REF_PREFIX.format(api_id=self.api_id)
            defs = {}
            for name, m in self.models.items():
                try:
                    defs[name] = _local(json.loads(m.get("schema") or "{}"), prefix)
                except ValueError:
                    continue
            schema = dict(defs.get(model_name) or {})
            schema["definitions"] = {**(schema.get("definitions") or {}), **defs}
            v = Draft4Validator(schema)
        self.schema_validators[model_name] = v
        return v

    def is_binary(self, content_type: str | None) -> bool:
        """Whether a content type is one of the API's binary media types (wildcards allowed)."""
        if not content_type or not self.binary_types:
            return False
        ctype = content_type.split(";")[0].strip().lower()
        for pattern in self.binary_types:
            p = pattern.lower()
            if p == "*/*" or p == ctype:
                return True
            if p.endswith("/*") and ctype.startswith(p[:-1]):
                return True
        return False


def _local(schema: Any, prefix: str) -> Any:
    if isinstance(schema, dict):
        out = {}
        for k, v in schema.items():
            if k == "$ref" and isinstance(v, str):
                if v.startswith(prefix):
                    v = "#/definitions/" + v[len(prefix) :]
                elif v.startswith("#/components/schemas/"):
                    v = "#/definitions/" + v.rsplit("/", 1)[-1]
            out[k] = _local(v, prefix) if k != "$ref" else v
        return out
    if isinstance(schema, list):
        return [_local(v, prefix) for v in schema]
    return schema


def compile_stage(
    account: str, region: str, doc: dict[str, Any], stage_name: str
) -> CompiledStage | None:
    """The servable form of one stage, or None when the stage does not exist."""
    found = deployed_snapshot(doc, stage_name, "deploymentId")
    if found is None:
        return None
    stage, snap = found
    router: Router[RouteEntry] = Router()
    for res in snap["resources"].values():
        for verb, m in (res.get("resourceMethods") or {}).items():
            router.add(res["path"], verb, RouteEntry(res["id"], res["path"], m))
    api = {**doc["api"], **{k: v for k, v in snap["api"].items() if v is not None}}
    return CompiledStage(
        account=account,
        region=region,
        api_id=doc["api"]["id"],
        stage_name=stage_name,
        stage=stage,
        api=api,
        router=router,
        authorizers=snap["authorizers"],
        validators=snap["validators"],
        gateway_responses=snap["gatewayResponses"],
        models=snap["models"],
        binary_types=list(api.get("binaryMediaTypes") or []),
        variables=dict(stage.get("variables") or {}),
    )
