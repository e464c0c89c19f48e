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
    changed,
    ignore_missing,
    pick,
    tags_map,
)
from overcast.services.cloudformation.resources.generic import (
    Param,
    Spec,
    SpecHandler,
    flag,
    key,
    member,
    same,
    str_map,
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
    for name in _INTS:
        if name in params:
            params[name] = as_int(params[name])
    for name in _BOOLS:
        if name in params:
            params[name] = bool(as_bool(params[name]))
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
        if changed(old, new, "Body", "BodyS3Location"):
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
        updates = {
            f: new.get(f) for f in fields if old.get(f) != new.get(f) and new.get(f) is not None
        }
        if updates:
            out = await rc.call(
                "apigatewayv2", "UpdateApi", {"ApiId": physical_id, **_typed(updates)}
            )
        if "CorsConfiguration" in old and "CorsConfiguration" not in new:
            await rc.call("apigatewayv2", "DeleteCorsConfiguration", {"ApiId": physical_id})
        endpoint = out.get("ApiEndpoint") or attributes.get("ApiEndpoint", "")
        return Result(physical_id, {"ApiId": physical_id, "ApiEndpoint": endpoint})

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call("apigatewayv2", "DeleteApi", {"ApiId": physical_id}), *_MISSING
        )


def _typed_params(*props: str) -> tuple[Param, ...]:
    """Properties sent under their own names, numbers and flags converted."""
    return tuple(
        Param(p, p, as_int if p in _INTS else flag if p in _BOOLS else same) for p in props
    )


def _child(noun: str, id_member: str, *fields: str) -> SpecHandler:
    """A sub-resource of an API: create/update/delete by operation name and id member."""
    return SpecHandler(
        Spec(
            f"AWS::ApiGatewayV2::{noun}",
            "apigatewayv2",
            f"Create{noun}",
            f"Delete{noun}",
            _MISSING,
            keys=(key("ApiId"),),
            params=_typed_params(*fields),
            physical=member(id_member),
            attributes={id_member: member(id_member)},
            id_param=id_member,
            update=f"Update{noun}",
        )
    )


HANDLERS: list[ResourceHandler] = [
    Api(),
    _child(
        "Route",
        "RouteId",
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
    ),
    _child(
        "Integration",
        "IntegrationId",
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
    ),
    _child(
        "Authorizer",
        "AuthorizerId",
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
    ),
    # Ref: the stage name.
    SpecHandler(
        Spec(
            "AWS::ApiGatewayV2::Stage",
            "apigatewayv2",
            "CreateStage",
            "DeleteStage",
            _MISSING,
            keys=(key("ApiId"),),
            params=(
                *_typed_params(
                    "StageName",
                    "AutoDeploy",
                    "DeploymentId",
                    "Description",
                    "DefaultRouteSettings",
                    "RouteSettings",
                    "AccessLogSettings",
                    "ClientCertificateId",
                ),
                Param("StageVariables", "StageVariables", str_map),
            ),
            tags="Tags",
            physical=member("StageName"),
            id_param="StageName",
            update="UpdateStage",
        )
    ),
]
