"""Routes, integrations, authorizers, stages and deployments of an HTTP API."""

from __future__ import annotations

import re
from typing import Any

from overcast.core.context import RequestContext
from overcast.services.apigateway.common import copy_given
from overcast.services.apigateway.errors import (
    BadRequestException,
    ConflictException,
    NotFoundException,
)
from overcast.services.apigateway.v2.base import Base, page, public

_ROUTE_KEY = re.compile(r"^(\$default|(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY) (/[^ ]*))$")
_STAGE_NAME = re.compile(r"^(\$default|[A-Za-z0-9_-]{1,128})$")

_ROUTE_FIELDS = (
    "ApiKeyRequired",
    "AuthorizationScopes",
    "AuthorizationType",
    "AuthorizerId",
    "ModelSelectionExpression",
    "OperationName",
    "RequestModels",
    "RequestParameters",
    "RouteKey",
    "RouteResponseSelectionExpression",
    "Target",
)
_INTEGRATION_FIELDS = (
    "ConnectionId",
    "ConnectionType",
    "ContentHandlingStrategy",
    "CredentialsArn",
    "Description",
    "IntegrationMethod",
    "IntegrationSubtype",
    "IntegrationType",
    "IntegrationUri",
    "PassthroughBehavior",
    "PayloadFormatVersion",
    "RequestParameters",
    "RequestTemplates",
    "ResponseParameters",
    "TemplateSelectionExpression",
    "TimeoutInMillis",
    "TlsConfig",
)
_AUTHORIZER_FIELDS = (
    "AuthorizerCredentialsArn",
    "AuthorizerPayloadFormatVersion",
    "AuthorizerResultTtlInSeconds",
    "AuthorizerType",
    "AuthorizerUri",
    "EnableSimpleResponses",
    "IdentitySource",
    "IdentityValidationExpression",
    "JwtConfiguration",
    "Name",
)
_STAGE_FIELDS = (
    "AccessLogSettings",
    "AutoDeploy",
    "ClientCertificateId",
    "DefaultRouteSettings",
    "DeploymentId",
    "Description",
    "RouteSettings",
    "StageVariables",
)


class Parts(Base):
    """CreateRoute ... DeleteDeployment."""

    # -- routes --------------------------------------------------------------------------------

    def _check_route(self, doc: dict[str, Any], route: dict[str, Any]) -> None:
        key = route.get("RouteKey") or ""
        if doc["api"]["ProtocolType"] == "HTTP" and not _ROUTE_KEY.match(key):
            raise BadRequestException(
                f"Unable to create route {key}: the route key must be "
                "'$default' or '<METHOD> /<path>'"
            )
        for other in doc["routes"].values():
            if other["RouteKey"] == key and other["RouteId"] != route.get("RouteId"):
                raise ConflictException(f"Route with key {key} already exists for this API")
        target = route.get("Target")
        if target and target.split("/", 1)[-1] not in doc["integrations"]:
            raise BadRequestException(f"Invalid integration target {target}")
        if route.get("AuthorizationType") in ("JWT", "CUSTOM"):
            if route.get("AuthorizerId") not in doc["authorizers"]:
                raise BadRequestException("Invalid authorizer ID specified")

    def create_route(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            route: dict[str, Any] = {
                "RouteId": self.new_id(7),
                "ApiKeyRequired": False,
                "AuthorizationType": "NONE",
            }
            copy_given(params, _ROUTE_FIELDS, route)
            self._check_route(doc, route)
            doc["routes"][route["RouteId"]] = route
        return dict(route)

    def get_route(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("ApiId", ""))
        return dict(self.part(doc, "routes", params.get("RouteId", ""), "Route"))

    def get_routes(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("ApiId", ""))
        return page([dict(r) for r in doc["routes"].values()], params)

    def update_route(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            route = self.part(doc, "routes", params.get("RouteId", ""), "Route")
            copy_given(params, _ROUTE_FIELDS, route)
            self._check_route(doc, route)
        return dict(route)

    def delete_route(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            self.part(doc, "routes", params.get("RouteId", ""), "Route")
            del doc["routes"][params["RouteId"]]
        return {}

    # -- integrations ----------------------------------------------------------------------------

    def create_integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        kind = params.get("IntegrationType") or ""
        if kind not in ("AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK"):
            raise BadRequestException(f"Invalid integration type {kind}")
        subtype = params.get("IntegrationSubtype")
        if kind in ("AWS_PROXY", "HTTP_PROXY") and not params.get("IntegrationUri") and not subtype:
            raise BadRequestException("IntegrationUri is required")
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            http_api = doc["api"]["ProtocolType"] == "HTTP"
            if (
                http_api
                and kind == "AWS_PROXY"
                and not subtype
                and not params.get("PayloadFormatVersion")
            ):
                raise BadRequestException(
                    "PayloadFormatVersion is required for AWS_PROXY integrations"
                )
            integ: dict[str, Any] = {
                "IntegrationId": self.new_id(7),
                "ConnectionType": "INTERNET",
                "TimeoutInMillis": 30000 if http_api else 29000,
                "PayloadFormatVersion": "1.0",
                "IntegrationResponseSelectionExpression": "${integration.response.statuscode}",
            }
            copy_given(params, _INTEGRATION_FIELDS, integ)
            if kind == "HTTP_PROXY" and not integ.get("IntegrationMethod"):
                integ["IntegrationMethod"] = "ANY"
            if not 50 <= int(integ["TimeoutInMillis"]) <= 30000:
                raise BadRequestException("Timeout must be between 50 and 30000 milliseconds")
            doc["integrations"][integ["IntegrationId"]] = integ
        return dict(integ)

    def get_integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("ApiId", ""))
        return dict(self.part(doc, "integrations", params.get("IntegrationId", ""), "Integration"))

    def get_integrations(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("ApiId", ""))
        return page([dict(i) for i in doc["integrations"].values()], params)

    def update_integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            integ = self.part(doc, "integrations", params.get("IntegrationId", ""), "Integration")
            copy_given(params, _INTEGRATION_FIELDS, integ)
        return dict(integ)

    def delete_integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            iid = params.get("IntegrationId", "")
            self.part(doc, "integrations", iid, "Integration")
            if any(r.get("Target") == f"integrations/{iid}" for r in doc["routes"].values()):
                raise ConflictException("Integration is in use by a route")
            del doc["integrations"][iid]
        return {}

    # -- authorizers ---------------------------------------------------------------------------

    def create_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        kind = params.get("AuthorizerType") or ""
        if kind not in ("JWT", "REQUEST"):
            raise BadRequestException("AuthorizerType must be JWT or REQUEST")
        if kind == "JWT" and not (params.get("JwtConfiguration") or {}).get("Issuer"):
            raise BadRequestException("JwtConfiguration.Issuer is required for JWT authorizers")
        if kind == "REQUEST" and not params.get("AuthorizerUri"):
            raise BadRequestException("AuthorizerUri is required for REQUEST authorizers")
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            a: dict[str, Any] = {"AuthorizerId": self.new_id(6)}
            copy_given(params, _AUTHORIZER_FIELDS, a)
            if kind == "REQUEST":
                a.setdefault("AuthorizerPayloadFormatVersion", "2.0")
                a.setdefault("AuthorizerResultTtlInSeconds", 0)
            doc["authorizers"][a["AuthorizerId"]] = a
        return dict(a)

    def get_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("ApiId", ""))
        return dict(self.part(doc, "authorizers", params.get("AuthorizerId", ""), "Authorizer"))

    def get_authorizers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("ApiId", ""))
        return page([dict(a) for a in doc["authorizers"].values()], params)

    def update_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            a = self.part(doc, "authorizers", params.get("AuthorizerId", ""), "Authorizer")
            copy_given(params, _AUTHORIZER_FIELDS, a)
        return dict(a)

    def delete_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            aid = params.get("AuthorizerId", "")
            self.part(doc, "authorizers", aid, "Authorizer")
            if any(r.get("AuthorizerId") == aid for r in doc["routes"].values()):
                raise ConflictException("Authorizer is in use by a route")
            del doc["authorizers"][aid]
        return {}

    # -- stages --------------------------------------------------------------------------------

    def create_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("StageName") or ""
        if not _STAGE_NAME.match(name):
            raise BadRequestException(f"Invalid stage name {name}")
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            if name in doc["stages"]:
                raise ConflictException(f"Stage {name} already exists")
            if params.get("DeploymentId") and params["DeploymentId"] not in doc["deployments"]:
                raise BadRequestException("Invalid deployment identifier specified")
            stage: dict[str, Any] = {
                "StageName": name,
                "AutoDeploy": False,
                "CreatedDate": self.now(),
                "LastUpdatedDate": self.now(),
                "DefaultRouteSettings": {"DetailedMetricsEnabled": False},
                "RouteSettings": {},
                "StageVariables": {},
                "Tags": dict(params.get("Tags") or {}),
            }
            copy_given(params, _STAGE_FIELDS, stage)
            doc["stages"][name] = stage
        return public(stage)

    def get_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("ApiId", ""))
        stage = doc["stages"].get(params.get("StageName", ""))
        if stage is None:
            raise NotFoundException(f"Invalid stage identifier specified {params.get('StageName')}")
        return public(stage)

    def get_stages(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("ApiId", ""))
        return page([public(s) for s in doc["stages"].values()], params)

    def update_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            stage = doc["stages"].get(params.get("StageName", ""))
            if stage is None:
                raise NotFoundException("Invalid stage identifier specified")
            copy_given(params, _STAGE_FIELDS, stage)
            stage["LastUpdatedDate"] = self.now()
        return public(stage)

    def delete_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            if params.get("StageName", "") not in doc["stages"]:
                raise NotFoundException("Invalid stage identifier specified")
            del doc["stages"][params["StageName"]]
        return {}

    # -- deployments ---------------------------------------------------------------------------

    def create_deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            stage_name = params.get("StageName")
            if stage_name:
                stage = doc["stages"].get(stage_name)
                if stage is None:
                    raise BadRequestException(f"Invalid stage identifier specified {stage_name}")
                if stage.get("AutoDeploy"):
                    raise BadRequestException(
                        "Stage with AutoDeploy enabled cannot be deployed manually"
                    )
            dep = self.deployment(doc, params.get("Description"), auto=False)
            if stage_name:
                doc["stages"][stage_name]["DeploymentId"] = dep["DeploymentId"]
                doc["stages"][stage_name]["LastUpdatedDate"] = self.now()
        return public(dep)

    def get_deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("ApiId", ""))
        return public(self.part(doc, "deployments", params.get("DeploymentId", ""), "Deployment"))

    def get_deployments(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("ApiId", ""))
        return page([public(d) for d in doc["deployments"].values()], params)

    def delete_deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            dep_id = params.get("DeploymentId", "")
            self.part(doc, "deployments", dep_id, "Deployment")
            if any(s.get("DeploymentId") == dep_id for s in doc["stages"].values()):
                raise BadRequestException("Deployment is in use by a stage")
            del doc["deployments"][dep_id]
        return {}
