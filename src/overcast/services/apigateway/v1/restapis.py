"""RestApi operations: create, read, update, delete, import and put (OpenAPI in), export (out)."""

from __future__ import annotations

import json
from typing import Any

import yaml

from overcast.core.context import RequestContext
from overcast.engines.openapi import (
    OpenApiError,
    RestApiDefinition,
    export_openapi,
    import_openapi,
    load_document,
)
from overcast.services.apigateway.common import copy_given
from overcast.services.apigateway.errors import BadRequestException, NotFoundException
from overcast.services.apigateway.v1 import patch
from overcast.services.apigateway.v1.base import Base, default_models, new_api_doc, page, public

_API_PATCHABLE = {
    "name",
    "description",
    "version",
    "binaryMediaTypes",
    "apiKeySource",
    "minimumCompressionSize",
    "policy",
    "disableExecuteApiEndpoint",
    "endpointConfiguration",
}


def _api_out(doc: dict[str, Any], warnings: list[str] | None = None) -> dict[str, Any]:
    out = public(doc["api"])
    if warnings:
        out["warnings"] = warnings
    return out


def ensure_path(doc: dict[str, Any], path: str, new_id: Any) -> dict[str, Any]:
    """The resource for `path`, creating missing ancestors on the way."""
    by_path = {r["path"]: r for r in doc["resources"].values()}
    current = by_path["/"]
    built = ""
    for part in [p for p in path.split("/") if p]:
        built += "/" + part
        nxt = by_path.get(built)
        if nxt is None:
            rid = new_id(10)
            nxt = {
                "id": rid,
                "parentId": current["id"],
                "pathPart": part,
                "path": built,
                "resourceMethods": {},
            }
            doc["resources"][rid] = nxt
            by_path[built] = nxt
        current = nxt
    return current


class RestApis(Base):
    """CreateRestApi ... GetExport."""

    def create_rest_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("name")
        if not name:
            raise BadRequestException("Invalid REST API name specified")
        api: dict[str, Any] = {
            "id": self.new_id(),
            "name": name,
            "createdDate": self.now(),
            "apiKeySource": params.get("apiKeySource") or "HEADER",
            "endpointConfiguration": params.get("endpointConfiguration")
            or {"types": ["EDGE"], "ipAddressType": "ipv4"},
            "disableExecuteApiEndpoint": bool(params.get("disableExecuteApiEndpoint", False)),
            "tags": dict(params.get("tags") or {}),
            "rootResourceId": "",
        }
        copy_given(
            params,
            ("description", "version", "binaryMediaTypes", "minimumCompressionSize", "policy"),
            api,
        )
        doc = new_api_doc(api, self.new_id(10))
        doc["models"] = default_models(lambda: self.new_id(6))
        self.state.put_api(ctx.account_id, ctx.region, doc)
        return _api_out(doc)

    def get_rest_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return _api_out(self.load(ctx, params.get("restApiId", "")))

    def get_rest_apis(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        apis = [_api_out(d) for d in self.state.list_apis(ctx.account_id, ctx.region)]
        return page(apis, params)

    def update_rest_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            patch.apply(doc["api"], params.get("patchOperations") or [], allowed=_API_PATCHABLE)
        return _api_out(doc)

    def delete_rest_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.load(ctx, params.get("restApiId", ""))
        self.state.delete_api(ctx.account_id, ctx.region, params["restApiId"])
        return {}

    # -- OpenAPI in ------------------------------------------------------------------------------

    def import_rest_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = self.new_id()
        definition = self._definition(params.get("body") or b"", api_id, params)
        api: dict[str, Any] = {
            "id": api_id,
            "name": definition.name or "",
            "createdDate": self.now(),
            "apiKeySource": "HEADER",
            "endpointConfiguration": {"types": ["EDGE"], "ipAddressType": "ipv4"},
            "disableExecuteApiEndpoint": False,
            "tags": {},
        }
        endpoint_type = (params.get("parameters") or {}).get("endpointConfigurationTypes")
        if endpoint_type:
            api["endpointConfiguration"]["types"] = [endpoint_type]
        doc = new_api_doc(api, self.new_id(10))
        self._apply_definition(doc, definition, overwrite=True)
        self.state.put_api(ctx.account_id, ctx.region, doc)
        return _api_out(doc, definition.warnings)

    def put_rest_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id = params.get("restApiId", "")
        mode = (params.get("mode") or "merge").lower()
        if mode not in ("merge", "overwrite"):
            raise BadRequestException("Invalid mode: must be merge or overwrite")
        self.load(ctx, api_id)
        definition = self._definition(params.get("body") or b"", api_id, params)
        with self.edit(ctx, api_id) as doc:
            if mode == "overwrite":
                root = doc["api"]["rootResourceId"]
                doc["resources"] = {root: {"id": root, "path": "/", "resourceMethods": {}}}
                doc["models"] = {}
                doc["validators"] = {}
                doc["authorizers"] = {}
                doc["gatewayResponses"] = {}
            self._apply_definition(doc, definition, overwrite=mode == "overwrite")
        return _api_out(doc, definition.warnings)

    def _definition(self, body: bytes, api_id: str, params: dict[str, Any]) -> RestApiDefinition:
        try:
            spec = load_document(body)
            definition = import_openapi(spec, api_id, lambda: self.new_id(6))
        except OpenApiError as exc:
            raise BadRequestException(str(exc))
        if not definition.name and not params.get("restApiId"):
            raise BadRequestException("Invalid OpenAPI input: info.title is required")
        return definition

    def _apply_definition(
        self, doc: dict[str, Any], d: RestApiDefinition, *, overwrite: bool
    ) -> None:
        api = doc["api"]
        if d.name and (overwrite or not api.get("name")):
            api["name"] = d.name
        for key, value in (
            ("description", d.description),
            ("version", d.version),
            ("binaryMediaTypes", d.binary_media_types),
            ("apiKeySource", d.api_key_source),
            ("policy", d.policy),
            ("minimumCompressionSize", d.minimum_compression_size),
        ):
            if value is not None:
                api[key] = value
            elif overwrite and key in ("description", "binaryMediaTypes", "policy"):
                api.pop(key, None)
        if overwrite and d.api_key_source is None:
            api["apiKeySource"] = "HEADER"
        # Validators and authorizers are matched by name, so merged methods keep pointing right.
        remap: dict[str, str] = {}
        for kind, given in (("validators", d.validators), ("authorizers", d.authorizers)):
            known = {rec["name"]: rec["id"] for rec in doc[kind].values()}
            for name, rec in given.items():
                if name in known:
                    remap[rec["id"]] = known[name]
                    rec["id"] = known[name]
                doc[kind][rec["id"]] = rec
        doc["models"].update(d.models)
        doc["gatewayResponses"].update(d.gateway_responses)
        for path, methods in d.paths.items():
            res = ensure_path(doc, path, self.new_id)
            for verb, m in methods.items():
                for key in ("requestValidatorId", "authorizerId"):
                    if m.get(key) in remap:
                        m[key] = remap[m[key]]
                res.setdefault("resourceMethods", {})[verb] = m

    # -- OpenAPI out -----------------------------------------------------------------------------

    def get_export(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("restApiId", ""))
        stage_name = params.get("stageName", "")
        stage = doc["stages"].get(stage_name)
        if stage is None:
            raise NotFoundException("Invalid Stage identifier specified")
        export_type = (params.get("exportType") or "").lower()
        if export_type not in ("oas30", "swagger"):
            raise BadRequestException("No API exporter for type '" + export_type + "'")
        deployment = doc["deployments"].get(stage.get("deploymentId", ""), {})
        snap = deployment.get("snapshot") or doc
        ext = (params.get("parameters") or {}).get("extensions", "")
        api_id = doc["api"]["id"]
        out = export_openapi(
            {**doc["api"], **(snap.get("api") or {})},
            list(snap["resources"].values()),
            list(snap["models"].values()),
            list(snap["authorizers"].values()),
            list(snap["validators"].values()),
            list(snap["gatewayResponses"].values()),
            stage=stage_name,
            base_url=f"{ctx.endpoint}/_aws/execute-api/{api_id}/{stage_name}",
            swagger=export_type == "swagger",
            extensions=any(e in ext for e in ("integrations", "apigateway", "authorizers")),
        )
        accepts = params.get("accepts") or "application/json"
        if "yaml" in accepts:
            body = yaml.safe_dump(out, sort_keys=False).encode()
            ctype = "application/yaml"
        else:
            body = json.dumps(out, indent=2).encode()
            ctype = "application/json"
        suffix = "yaml" if "yaml" in accepts else "json"
        return {
            "contentType": ctype,
            "contentDisposition": f'attachment; filename="{export_type}_{stage_name}.{suffix}"',
            "body": body,
        }
