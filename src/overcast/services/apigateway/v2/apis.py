"""HTTP API operations: create (including quick create), read, update, delete, import, reimport,
export, CORS and tags."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from overcast.core.context import RequestContext
from overcast.engines.apigw.address import invoke_url
from overcast.engines.openapi import OpenApiError, export_http_api, import_http_api, load_document
from overcast.services.apigateway.common import copy_given
from overcast.services.apigateway.errors import BadRequestException, NotFoundException
from overcast.services.apigateway.v2.base import Base, page

_UPDATABLE = (
    "Name",
    "Description",
    "Version",
    "CorsConfiguration",
    "DisableExecuteApiEndpoint",
    "ApiKeySelectionExpression",
    "RouteSelectionExpression",
    "DisableSchemaValidation",
    "IpAddressType",
)


def new_http_api_doc(api: dict[str, Any]) -> dict[str, Any]:
    """A fresh HTTP API document: the API and no routes, integrations, stages or deployments."""
    return {
        "api": api,
        "routes": {},
        "integrations": {},
        "authorizers": {},
        "stages": {},
        "deployments": {},
    }


def quick_integration(target: str, new_id: str, credentials: str | None) -> dict[str, Any]:
    """The integration quick create makes for a Target (a function ARN or a URL)."""
    is_lambda = ":lambda:" in target or target.startswith("arn:")
    integ: dict[str, Any] = {
        "IntegrationId": new_id,
        "ApiGatewayManaged": True,
        "ConnectionType": "INTERNET",
        "IntegrationType": "AWS_PROXY" if is_lambda else "HTTP_PROXY",
        "IntegrationUri": target,
        "IntegrationMethod": "POST" if is_lambda else "ANY",
        "PayloadFormatVersion": "2.0" if is_lambda else "1.0",
        "TimeoutInMillis": 30000,
        "IntegrationResponseSelectionExpression": "${integration.response.statuscode}",
    }
    if credentials:
        integ["CredentialsArn"] = credentials
    return integ


class Apis(Base):
    """CreateApi ... GetTags."""

    def create_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("Name")
        if not name:
            raise BadRequestException("Name is required")
        protocol = params.get("ProtocolType") or ""
        if protocol not in ("HTTP", "WEBSOCKET"):
            raise BadRequestException("ProtocolType must be HTTP or WEBSOCKET")
        api: dict[str, Any] = {
            "ApiId": self.new_id(10),
            "Name": name,
            "ProtocolType": protocol,
            "CreatedDate": self.now(),
            "ApiKeySelectionExpression": params.get("ApiKeySelectionExpression")
            or "$request.header.x-api-key",
            "RouteSelectionExpression": params.get("RouteSelectionExpression")
            or "$request.method $request.path",
            "DisableExecuteApiEndpoint": bool(params.get("DisableExecuteApiEndpoint", False)),
            "Tags": dict(params.get("Tags") or {}),
            "IpAddressType": params.get("IpAddressType") or "ipv4",
        }
        copy_given(
            params, ("Description", "Version", "CorsConfiguration", "DisableSchemaValidation"), api
        )
        doc = new_http_api_doc(api)
        if params.get("Target"):
            if protocol != "HTTP":
                raise BadRequestException("Target is only supported for HTTP APIs")
            self._quick_create(doc, params)
        self.state.put_api(ctx.account_id, ctx.region, doc)
        return self.api_out(ctx, doc)

    def _quick_create(self, doc: dict[str, Any], params: dict[str, Any]) -> None:
        integ = quick_integration(params["Target"], self.new_id(7), params.get("CredentialsArn"))
        doc["integrations"][integ["IntegrationId"]] = integ
        route_id = self.new_id(7)
        doc["routes"][route_id] = {
            "RouteId": route_id,
            "RouteKey": params.get("RouteKey") or "$default",
            "ApiGatewayManaged": True,
            "ApiKeyRequired": False,
            "AuthorizationType": "NONE",
            "Target": f"integrations/{integ['IntegrationId']}",
        }
        doc["stages"]["$default"] = {
            "StageName": "$default",
            "AutoDeploy": True,
            "ApiGatewayManaged": True,
            "CreatedDate": self.now(),
            "LastUpdatedDate": self.now(),
            "DefaultRouteSettings": {"DetailedMetricsEnabled": False},
            "RouteSettings": {},
            "StageVariables": {},
            "Tags": {},
        }
        self.auto_deploy(doc)

    def get_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.api_out(ctx, self.load(ctx, params.get("ApiId", "")))

    def get_apis(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return page(
            [self.api_out(ctx, d) for d in self.state.list_apis(ctx.account_id, ctx.region)], params
        )

    def update_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            copy_given(params, _UPDATABLE, doc["api"])
            if params.get("Target"):
                self._quick_create(doc, params)
        return self.api_out(ctx, doc)

    def delete_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.load(ctx, params.get("ApiId", ""))
        self.state.delete_api(ctx.account_id, ctx.region, params["ApiId"])
        return {}

    def delete_cors_configuration(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            doc["api"].pop("CorsConfiguration", None)
        return {}

    # -- OpenAPI ---------------------------------------------------------------------------------

    def _definition(self, body: Any) -> Any:
        try:
            return import_http_api(load_document(body or b""), lambda: self.new_id(7))
        except OpenApiError as exc:
            raise BadRequestException(str(exc))

    def _apply(self, doc: dict[str, Any], d: Any) -> None:
        doc["api"]["Name"] = d.name or doc["api"].get("Name", "")
        for key, value in (
            ("Description", d.description),
            ("Version", d.version),
            ("CorsConfiguration", d.cors),
        ):
            if value is not None:
                doc["api"][key] = value
            else:
                doc["api"].pop(key, None)
        doc["routes"] = {r["RouteId"]: r for r in d.routes}
        doc["integrations"] = dict(d.integrations)
        doc["authorizers"] = {a["AuthorizerId"]: a for a in d.authorizers.values()}
        if d.warnings:
            doc["api"]["Warnings"] = list(d.warnings)

    def import_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        d = self._definition(params.get("Body"))
        if not d.name:
            raise BadRequestException("Invalid OpenAPI input: info.title is required")
        api: dict[str, Any] = {
            "ApiId": self.new_id(10),
            "Name": d.name,
            "ProtocolType": "HTTP",
            "CreatedDate": self.now(),
            "ApiKeySelectionExpression": "$request.header.x-api-key",
            "RouteSelectionExpression": "$request.method $request.path",
            "DisableExecuteApiEndpoint": False,
            "Tags": {},
            "IpAddressType": "ipv4",
        }
        doc = new_http_api_doc(api)
        self._apply(doc, d)
        self.state.put_api(ctx.account_id, ctx.region, doc)
        return self.api_out(ctx, doc)

    def reimport_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        d = self._definition(params.get("Body"))
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            self._apply(doc, d)
        return self.api_out(ctx, doc)

    def export_api(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("ApiId", ""))
        if (params.get("Specification") or "").upper() != "OAS30":
            raise BadRequestException("Only OAS30 is supported")
        stage = params.get("StageName")
        routes, integrations, authorizers = doc["routes"], doc["integrations"], doc["authorizers"]
        if stage:
            st = doc["stages"].get(stage)
            if st is None:
                raise NotFoundException(f"Invalid stage identifier specified {stage}")
            snap = (doc["deployments"].get(st.get("DeploymentId") or "") or {}).get("snapshot")
            if snap:
                routes, integrations = snap["routes"], snap["integrations"]
                authorizers = snap["authorizers"]
        out = export_http_api(
            doc["api"],
            list(routes.values()),
            integrations,
            authorizers,
            server_url=invoke_url(ctx.endpoint, doc["api"]["ApiId"], stage or "$default"),
            extensions=params.get("IncludeExtensions", True) is not False,
        )
        if (params.get("OutputType") or "JSON").upper() == "YAML":
            return {"body": yaml.safe_dump(out, sort_keys=False).encode()}
        return {"body": json.dumps(out, indent=2).encode()}

    # -- tags ----------------------------------------------------------------------------------

    _ARN = re.compile(r"^arn:aws[\w-]*:apigateway:[\w-]+::/apis/([^/]+)(?:/stages/([^/]+))?$")

    def _tag_holder(self, doc: dict[str, Any], stage: str | None) -> dict[str, Any]:
        if stage is None:
            return doc["api"]
        st = doc["stages"].get(stage)
        if st is None:
            raise NotFoundException(f"Invalid stage identifier specified {stage}")
        return st

    def _tag_target(self, arn: str) -> tuple[str, str | None]:
        m = self._ARN.match(arn or "")
        if m is None:
            raise NotFoundException(f"Invalid resource ARN {arn}")
        return m.group(1), m.group(2)

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id, stage = self._tag_target(params.get("ResourceArn", ""))
        with self.edit(ctx, api_id) as doc:
            self._tag_holder(doc, stage).setdefault("Tags", {}).update(params.get("Tags") or {})
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id, stage = self._tag_target(params.get("ResourceArn", ""))
        with self.edit(ctx, api_id) as doc:
            tags = self._tag_holder(doc, stage).setdefault("Tags", {})
            for k in params.get("TagKeys") or []:
                tags.pop(k, None)
        return {}

    def get_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id, stage = self._tag_target(params.get("ResourceArn", ""))
        doc = self.load(ctx, api_id)
        return {"Tags": dict(self._tag_holder(doc, stage).get("Tags") or {})}
