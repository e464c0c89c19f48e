"""AWS::ApiGatewayV2::Api, ::Route, ::Integration, ::Stage and ::Authorizer through the
apigatewayv2 API (whose parameters are named as the properties are)."""

from __future__ import annotations

import json
from typing import Any

from overcast.services.cloudformation.resources.base import (
    ResourceContext,
    ResourceHandler,
    Result,
    as_bool,
    as_int,
    ignore_missing,
    pick,
    tags_map,
)
from overcast.services.cloudformation.s3urls import fetch_url

_MISSING = ("NotFoundException",)
_INTS = ("TimeoutInMillis", "AuthorizerResultTtlInSeconds")
_BOOLS = (
    "ApiKeyRequired",
    "AutoDeploy",
    "DisableExecuteApiEndpoint",
    "EnableSimpleResponses",
    "DisableSchemaValidation",
)


def _typed(params: dict[str, Any]) -> dict[str, Any]:
    for key in _INTS:
        if key in params:
            params[key] = as_int(params[key])
    for key in _BOOLS:
        if key in params:
            params[key] = bool(as_bool(params[key]))
    return params


async def _body(rc: ResourceContext, props: dict[str, Any]) -> str | None:
    if props.get("Body") is not None:
        body = props["Body"]
        return body if isinstance(body, str) else json.dumps(body)
    loc = props.get("BodyS3Location")
    if loc:
        return await fetch_url(rc.call, f"s3://{loc['Bucket']}/{loc['Key']}")
    return None


_API_FIELDS = (
    "Name",
    "ProtocolType",
    "Description",
    "CorsConfiguration",
    "CredentialsArn",
    "DisableExecuteApiEndpoint",
    "DisableSchemaValidation",
    "RouteKey",
    "RouteSelectionExpression",
    "Target",
    "Version",
    "ApiKeySelectionExpression",
)


class Api(ResourceHandler):
    """Ref: the API id. GetAtt: ApiId, ApiEndpoint."""

    TYPE = "AWS::ApiGatewayV2::Api"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        body = await _body(rc, props)
        if body is not None:
            params: dict[str, Any] = {"Body": body}
            if props.get("FailOnWarnings") is not None:
                params["FailOnWarnings"] = bool(as_bool(props["FailOnWarnings"]))
            if props.get("Basepath"):
                params["Basepath"] = props["Basepath"]
            out = await rc.call("apigatewayv2", "ImportApi", params)
            extra = _typed(
                pick(props, "Name", "Description", "CorsConfiguration", "DisableExecuteApiEndpoint")
            )
            if extra:
                out = await rc.call("apigatewayv2", "UpdateApi", {"ApiId": out["ApiId"], **extra})
        else:
            params = _typed(pick(props, *_API_FIELDS))
            params.setdefault("Name", rc.physical_name(128))
            tags = tags_map(props)
            if tags:
                params["Tags"] = tags
            out = await rc.call("apigatewayv2", "CreateApi", params)
        api_id = out["ApiId"]
        return Result(api_id, {"ApiId": api_id, "ApiEndpoint": out.get("ApiEndpoint", "")})

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        out: dict[str, Any] = {}
        if old.get("Body") != new.get("Body") or old.get("BodyS3Location") != new.get(
            "BodyS3Location"
        ):
            body = await _body(rc, new)
            if body is not None:
                out = await rc.call(
                    "apigatewayv2", "ReimportApi", {"ApiId": physical_id, "Body": body}
                )
        fields = [
            f
            for f in _API_FIELDS
            if f not in ("ProtocolType", "Target", "RouteKey", "CredentialsArn")
        ]
        changed = {
            f: new.get(f) for f in fields if old.get(f) != new.get(f) and new.get(f) is not None
        }
        if changed:
            out = await rc.call(
                "apigatewayv2", "UpdateApi", {"ApiId": physical_id, **_typed(changed)}
            )
        if "CorsConfiguration" in old and "CorsConfiguration" not in new:
            await rc.call("apigatewayv2", "DeleteCorsConfiguration", {"ApiId": physical_id})
        endpoint = out.get("ApiEndpoint") or attributes.get("ApiEndpoint", "")
        return Result(physical_id, {"ApiId": physical_id, "ApiEndpoint": endpoint})

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call("apigatewayv2", "DeleteApi", {"ApiId": physical_id}), *_MISSING
        )


class _Child(ResourceHandler):
    """A sub-resource of an API: create/update/delete by operation name and id field."""

    NOUN = ""
    ID = ""
    FIELDS: tuple[str, ...] = ()

    def _params(self, props: dict[str, Any]) -> dict[str, Any]:
        return _typed({"ApiId": str(props["ApiId"]), **pick(props, *self.FIELDS)})

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        out = await rc.call("apigatewayv2", f"Create{self.NOUN}", self._params(props))
        return Result(str(out[self.ID]), {self.ID: out[self.ID]})

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        params = self._params(new)
        params[self.ID] = physical_id
        await rc.call("apigatewayv2", f"Update{self.NOUN}", params)
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call(
                "apigatewayv2",
                f"Delete{self.NOUN}",
                {"ApiId": str(props["ApiId"]), self.ID: physical_id},
            ),
            *_MISSING,
        )


class Route(_Child):
    TYPE = "AWS::ApiGatewayV2::Route"
    NOUN, ID = "Route", "RouteId"
    FIELDS = (
        "RouteKey",
        "Target",
        "AuthorizationType",
        "AuthorizerId",
        "AuthorizationScopes",
        "ApiKeyRequired",
        "OperationName",
        "RouteResponseSelectionExpression",
        "RequestModels",
        "RequestParameters",
        "ModelSelectionExpression",
    )


class Integration(_Child):
    TYPE = "AWS::ApiGatewayV2::Integration"
    NOUN, ID = "Integration", "IntegrationId"
    FIELDS = (
        "IntegrationType",
        "IntegrationUri",
        "IntegrationMethod",
        "IntegrationSubtype",
        "PayloadFormatVersion",
        "TimeoutInMillis",
        "ConnectionType",
        "ConnectionId",
        "CredentialsArn",
        "Description",
        "RequestParameters",
        "RequestTemplates",
        "ResponseParameters",
        "TemplateSelectionExpression",
        "PassthroughBehavior",
        "ContentHandlingStrategy",
        "TlsConfig",
    )


class Authorizer(_Child):
    TYPE = "AWS::ApiGatewayV2::Authorizer"
    NOUN, ID = "Authorizer", "AuthorizerId"
    FIELDS = (
        "AuthorizerType",
        "Name",
        "IdentitySource",
        "JwtConfiguration",
        "AuthorizerUri",
        "AuthorizerPayloadFormatVersion",
        "EnableSimpleResponses",
        "AuthorizerResultTtlInSeconds",
        "AuthorizerCredentialsArn",
        "IdentityValidationExpression",
    )


class Stage(ResourceHandler):
    """Ref: the stage name."""

    TYPE = "AWS::ApiGatewayV2::Stage"
    FIELDS = (
        "StageName",
        "AutoDeploy",
        "DeploymentId",
        "Description",
        "StageVariables",
        "DefaultRouteSettings",
        "RouteSettings",
        "AccessLogSettings",
        "ClientCertificateId",
    )

    def _params(self, props: dict[str, Any]) -> dict[str, Any]:
        params = _typed({"ApiId": str(props["ApiId"]), **pick(props, *self.FIELDS)})
        if "StageVariables" in params:
            params["StageVariables"] = {k: str(v) for k, v in params["StageVariables"].items()}
        return params

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        params = self._params(props)
        tags = tags_map(props)
        if tags:
            params["Tags"] = tags
        out = await rc.call("apigatewayv2", "CreateStage", params)
        return Result(str(out["StageName"]), {})

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        params = self._params(new)
        params["StageName"] = physical_id
        await rc.call("apigatewayv2", "UpdateStage", params)
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call(
                "apigatewayv2",
                "DeleteStage",
                {"ApiId": str(props["ApiId"]), "StageName": physical_id},
            ),
            *_MISSING,
        )


HANDLERS: list[ResourceHandler] = [Api(), Route(), Integration(), Authorizer(), Stage()]
