"""AWS::ApiGateway::Authorizer, ::ApiKey, ::UsagePlan, ::UsagePlanKey, ::Model,
::RequestValidator and ::GatewayResponse: who may call a REST API and what it accepts."""

from __future__ import annotations

from typing import Any

from overcast.services.cloudformation.resources.apigateway import _MISSING, _camel, _patch
from overcast.services.cloudformation.resources.base import (
    ResourceContext,
    ResourceHandler,
    Result,
    as_bool,
    as_int,
    as_json_text,
    ignore_missing,
    tags_map,
)


class Authorizer(ResourceHandler):
    """Ref: the authorizer id. GetAtt: AuthorizerId."""

    TYPE = "AWS::ApiGateway::Authorizer"
    _FIELDS = (
        "Name",
        "Type",
        "ProviderARNs",
        "AuthType",
        "AuthorizerUri",
        "AuthorizerCredentials",
        "IdentitySource",
        "IdentityValidationExpression",
    )

    def _params(self, props: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"restApiId": str(props["RestApiId"])}
        for prop in self._FIELDS:
            if props.get(prop) is not None:
                out["providerARNs" if prop == "ProviderARNs" else _camel(prop)] = props[prop]
        if props.get("AuthorizerResultTtlInSeconds") is not None:
            out["authorizerResultTtlInSeconds"] = as_int(props["AuthorizerResultTtlInSeconds"])
        return out

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        out = await rc.call("apigateway", "CreateAuthorizer", self._params(props))
        return Result(out["id"], {"AuthorizerId": out["id"]})

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        fields = {
            p: "/" + ("providerARNs" if p == "ProviderARNs" else _camel(p))
            for p in (*self._FIELDS, "AuthorizerResultTtlInSeconds")
        }
        ops = _patch(old, new, fields)
        if ops:
            await rc.call(
                "apigateway",
                "UpdateAuthorizer",
                {
                    "restApiId": str(new["RestApiId"]),
                    "authorizerId": physical_id,
                    "patchOperations": ops,
                },
            )
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call(
                "apigateway",
                "DeleteAuthorizer",
                {"restApiId": str(props["RestApiId"]), "authorizerId": physical_id},
            ),
            *_MISSING,
        )


class ApiKey(ResourceHandler):
    """Ref: the key id. GetAtt: APIKeyId."""

    TYPE = "AWS::ApiGateway::ApiKey"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        params: dict[str, Any] = {
            "name": str(props.get("Name") or rc.physical_name(128)),
            "enabled": bool(as_bool(props.get("Enabled", False))),
        }
        for prop in ("Description", "Value", "CustomerId"):
            if props.get(prop) is not None:
                params[_camel(prop)] = str(props[prop])
        if props.get("GenerateDistinctId") is not None:
            params["generateDistinctId"] = bool(as_bool(props["GenerateDistinctId"]))
        if props.get("StageKeys"):
            params["stageKeys"] = [
                {"restApiId": str(k["RestApiId"]), "stageName": str(k["StageName"])}
                for k in props["StageKeys"]
            ]
        tags = tags_map(props)
        if tags:
            params["tags"] = tags
        out = await rc.call("apigateway", "CreateApiKey", params)
        return Result(out["id"], {"APIKeyId": out["id"]})

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        ops = _patch(
            old,
            new,
            {"Description": "/description", "Enabled": "/enabled", "CustomerId": "/customerId"},
        )
        if ops:
            await rc.call(
                "apigateway", "UpdateApiKey", {"apiKey": physical_id, "patchOperations": ops}
            )
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call("apigateway", "DeleteApiKey", {"apiKey": physical_id}), *_MISSING
        )


def _usage_limits(props: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    throttle = props.get("Throttle")
    if throttle:
        out["throttle"] = {}
        if throttle.get("BurstLimit") is not None:
            out["throttle"]["burstLimit"] = as_int(throttle["BurstLimit"])
        if throttle.get("RateLimit") is not None:
            out["throttle"]["rateLimit"] = float(throttle["RateLimit"])
    quota = props.get("Quota")
    if quota:
        out["quota"] = {"limit": as_int(quota.get("Limit")), "period": quota.get("Period", "DAY")}
        if quota.get("Offset") is not None:
            out["quota"]["offset"] = as_int(quota["Offset"])
    return out


def _api_stages(props: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"apiId": str(s["ApiId"]), "stage": str(s["Stage"])} for s in props.get("ApiStages") or []
    ]


class UsagePlan(ResourceHandler):
    """Ref: the usage plan id. GetAtt: Id."""

    TYPE = "AWS::ApiGateway::UsagePlan"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        params: dict[str, Any] = {
            "name": str(props.get("UsagePlanName") or rc.physical_name(128)),
            **_usage_limits(props),
        }
        if props.get("Description"):
            params["description"] = str(props["Description"])
        if props.get("ApiStages"):
            params["apiStages"] = _api_stages(props)
        tags = tags_map(props)
        if tags:
            params["tags"] = tags
        out = await rc.call("apigateway", "CreateUsagePlan", params)
        return Result(out["id"], {"Id": out["id"]})

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        ops = _patch(old, new, {"UsagePlanName": "/name", "Description": "/description"})
        old_l, new_l = _usage_limits(old), _usage_limits(new)
        for section, fields in (
            ("throttle", ("burstLimit", "rateLimit")),
            ("quota", ("limit", "period", "offset")),
        ):
            for f in fields:
                before = (old_l.get(section) or {}).get(f)
                after = (new_l.get(section) or {}).get(f)
                if before != after:
                    if after is None:
                        ops.append({"op": "remove", "path": f"/{section}/{f}"})
                    else:
                        ops.append(
                            {"op": "replace", "path": f"/{section}/{f}", "value": str(after)}
                        )
        old_s = {f"{s['apiId']}:{s['stage']}" for s in _api_stages(old)}
        new_s = {f"{s['apiId']}:{s['stage']}" for s in _api_stages(new)}
        ops += [{"op": "add", "path": "/apiStages", "value": s} for s in sorted(new_s - old_s)]
        ops += [{"op": "remove", "path": "/apiStages", "value": s} for s in sorted(old_s - new_s)]
        if ops:
            await rc.call(
                "apigateway",
                "UpdateUsagePlan",
                {"usagePlanId": physical_id, "patchOperations": ops},
            )
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call("apigateway", "DeleteUsagePlan", {"usagePlanId": physical_id}), *_MISSING
        )


class UsagePlanKey(ResourceHandler):
    """Ref: the key id (as AWS returns it)."""

    TYPE = "AWS::ApiGateway::UsagePlanKey"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        await rc.call(
            "apigateway",
            "CreateUsagePlanKey",
            {
                "usagePlanId": str(props["UsagePlanId"]),
                "keyId": str(props["KeyId"]),
                "keyType": str(props.get("KeyType", "API_KEY")),
            },
        )
        return Result(str(props["KeyId"]), {"Id": f"{props['UsagePlanId']}:{props['KeyId']}"})

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call(
                "apigateway",
                "DeleteUsagePlanKey",
                {"usagePlanId": str(props["UsagePlanId"]), "keyId": physical_id},
            ),
            *_MISSING,
        )


class Model(ResourceHandler):
    """Ref: the model name."""

    TYPE = "AWS::ApiGateway::Model"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        name = str(props.get("Name") or rc.physical_name(64).replace("-", ""))
        params: dict[str, Any] = {
            "restApiId": str(props["RestApiId"]),
            "name": name,
            "contentType": str(props.get("ContentType", "application/json")),
        }
        if props.get("Schema") is not None:
            params["schema"] = as_json_text(props["Schema"])
        if props.get("Description"):
            params["description"] = str(props["Description"])
        await rc.call("apigateway", "CreateModel", params)
        return Result(name, {})

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        ops = _patch(old, new, {"Description": "/description"})
        if old.get("Schema") != new.get("Schema"):
            ops.append(
                {"op": "replace", "path": "/schema", "value": as_json_text(new.get("Schema") or {})}
            )
        if ops:
            await rc.call(
                "apigateway",
                "UpdateModel",
                {
                    "restApiId": str(new["RestApiId"]),
                    "modelName": physical_id,
                    "patchOperations": ops,
                },
            )
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call(
                "apigateway",
                "DeleteModel",
                {"restApiId": str(props["RestApiId"]), "modelName": physical_id},
            ),
            *_MISSING,
        )


class RequestValidator(ResourceHandler):
    """Ref: the validator id. GetAtt: RequestValidatorId."""

    TYPE = "AWS::ApiGateway::RequestValidator"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        out = await rc.call(
            "apigateway",
            "CreateRequestValidator",
            {
                "restApiId": str(props["RestApiId"]),
                "name": str(props.get("Name") or rc.logical_id),
                "validateRequestBody": bool(as_bool(props.get("ValidateRequestBody", False))),
                "validateRequestParameters": bool(
                    as_bool(props.get("ValidateRequestParameters", False))
                ),
            },
        )
        return Result(out["id"], {"RequestValidatorId": out["id"]})

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        ops = _patch(
            old,
            new,
            {
                "ValidateRequestBody": "/validateRequestBody",
                "ValidateRequestParameters": "/validateRequestParameters",
            },
        )
        if ops:
            await rc.call(
                "apigateway",
                "UpdateRequestValidator",
                {
                    "restApiId": str(new["RestApiId"]),
                    "requestValidatorId": physical_id,
                    "patchOperations": ops,
                },
            )
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call(
                "apigateway",
                "DeleteRequestValidator",
                {"restApiId": str(props["RestApiId"]), "requestValidatorId": physical_id},
            ),
            *_MISSING,
        )


class GatewayResponse(ResourceHandler):
    TYPE = "AWS::ApiGateway::GatewayResponse"

    async def _put(self, rc: ResourceContext, props: dict[str, Any]) -> None:
        params: dict[str, Any] = {
            "restApiId": str(props["RestApiId"]),
            "responseType": str(props["ResponseType"]),
        }
        if props.get("StatusCode") is not None:
            params["statusCode"] = str(props["StatusCode"])
        for prop in ("ResponseParameters", "ResponseTemplates"):
            if props.get(prop):
                params[_camel(prop)] = {k: str(v) for k, v in props[prop].items()}
        await rc.call("apigateway", "PutGatewayResponse", params)

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        await self._put(rc, props)
        return Result(f"{props['RestApiId']}|{props['ResponseType']}", {})

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        await self._put(rc, new)
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call(
                "apigateway",
                "DeleteGatewayResponse",
                {"restApiId": str(props["RestApiId"]), "responseType": str(props["ResponseType"])},
            ),
            *_MISSING,
        )


HANDLERS: list[ResourceHandler] = [
    Authorizer(),
    ApiKey(),
    UsagePlan(),
    UsagePlanKey(),
    Model(),
    RequestValidator(),
    GatewayResponse(),
]
