"""AWS::ApiGateway::Authorizer, ::ApiKey, ::UsagePlan, ::UsagePlanKey, ::Model,
::RequestValidator and ::GatewayResponse: who may call a REST API and what it accepts. Each is a
`Spec` row; UsagePlan and Model add the nested fields their patch operations need."""

from __future__ import annotations

from typing import Any

from overcast.services.cloudformation.resources.base import (
    ResourceHandler,
    as_int,
    as_json_text,
)
from overcast.services.cloudformation.resources.generic import (
    Name,
    Param,
    Spec,
    SpecHandler,
    camel,
    flag,
    key,
    member,
    str_map,
    text,
    the_name,
)

_MISSING = ("NotFoundException",)
_API = key("RestApiId", "restApiId")

_AUTHORIZER_PARAMS = (
    *(
        Param(p, "providerARNs" if p == "ProviderARNs" else camel(p))
        for p in (
            "Name",
            "Type",
            "ProviderARNs",
            "AuthType",
            "AuthorizerUri",
            "AuthorizerCredentials",
            "IdentitySource",
            "IdentityValidationExpression",
        )
    ),
    Param("AuthorizerResultTtlInSeconds", "authorizerResultTtlInSeconds", as_int),
)


def _stage_keys(keys: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"restApiId": str(k["RestApiId"]), "stageName": str(k["StageName"])} for k in keys]


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


def _api_stages(stages: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [{"apiId": str(s["ApiId"]), "stage": str(s["Stage"])} for s in stages or []]


def _rest(noun: str, **spec: Any) -> Spec:
    """A REST API resource type whose operations are Create/Update/Delete<noun>; it updates by
    patch operations when it names the fields to patch."""
    update = f"Update{noun}" if spec.get("patch") is not None else ""
    return Spec(
        f"AWS::ApiGateway::{noun}",
        "apigateway",
        f"Create{noun}",
        f"Delete{noun}",
        _MISSING,
        update=update,
        **spec,
    )


class UsagePlan(SpecHandler):
    """Ref: the usage plan id. GetAtt: Id. Limits and stages patch field by field."""

    def params(self, props: dict[str, Any]) -> dict[str, Any]:
        return {**super().params(props), **_usage_limits(props)}

    def patch_ops(self, old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, str]]:
        ops = super().patch_ops(old, new)
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
        old_s = {f"{s['apiId']}:{s['stage']}" for s in _api_stages(old.get("ApiStages"))}
        new_s = {f"{s['apiId']}:{s['stage']}" for s in _api_stages(new.get("ApiStages"))}
        ops += [{"op": "add", "path": "/apiStages", "value": s} for s in sorted(new_s - old_s)]
        ops += [{"op": "remove", "path": "/apiStages", "value": s} for s in sorted(old_s - new_s)]
        return ops


class Model(SpecHandler):
    """Ref: the model name. The schema patches as JSON text."""

    def patch_ops(self, old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, str]]:
        ops = super().patch_ops(old, new)
        if old.get("Schema") != new.get("Schema"):
            ops.append(
                {"op": "replace", "path": "/schema", "value": as_json_text(new.get("Schema") or {})}
            )
        return ops


HANDLERS: list[ResourceHandler] = [
    SpecHandler(
        _rest(
            "Authorizer",
            keys=(_API,),
            params=_AUTHORIZER_PARAMS,
            attributes={"AuthorizerId": member("id")},
            id_param="authorizerId",
            patch={p.prop: "/" + p.name for p in _AUTHORIZER_PARAMS},
        )
    ),
    SpecHandler(
        _rest(
            "ApiKey",
            name=Name("name", "Name", lambda rc: rc.physical_name(128)),
            params=(
                Param("Enabled", "enabled", flag, default=False),
                Param("Description", "description", text),
                Param("Value", "value", text),
                Param("CustomerId", "customerId", text),
                Param("GenerateDistinctId", "generateDistinctId", flag),
                Param("StageKeys", "stageKeys", _stage_keys, truthy=True),
            ),
            tags="tags",
            attributes={"APIKeyId": member("id")},
            id_param="apiKey",
            patch={
                "Description": "/description",
                "Enabled": "/enabled",
                "CustomerId": "/customerId",
            },
        )
    ),
    UsagePlan(
        _rest(
            "UsagePlan",
            name=Name("name", "UsagePlanName", lambda rc: rc.physical_name(128)),
            params=(
                Param("Description", "description", text, truthy=True),
                Param("ApiStages", "apiStages", _api_stages, truthy=True),
            ),
            tags="tags",
            attributes={"Id": member("id")},
            id_param="usagePlanId",
            patch={"UsagePlanName": "/name", "Description": "/description"},
        )
    ),
    SpecHandler(
        _rest(
            "UsagePlanKey",
            keys=(key("UsagePlanId", "usagePlanId"),),
            params=(key("KeyId", "keyId"), Param("KeyType", "keyType", text, "API_KEY")),
            # Ref is the key id, as AWS returns it.
            physical=lambda m: str(m.props["KeyId"]),
            attributes={"Id": lambda m: f"{m.props['UsagePlanId']}:{m.props['KeyId']}"},
            id_param="keyId",
        )
    ),
    Model(
        _rest(
            "Model",
            keys=(_API,),
            name=Name("name", "Name", lambda rc: rc.physical_name(64).replace("-", "")),
            params=(
                Param("ContentType", "contentType", text, "application/json"),
                Param("Schema", "schema", as_json_text),
                Param("Description", "description", text, truthy=True),
            ),
            physical=the_name,
            id_param="modelName",
            patch={"Description": "/description"},
        )
    ),
    SpecHandler(
        _rest(
            "RequestValidator",
            keys=(_API,),
            name=Name("name", "Name", lambda rc: rc.logical_id),
            params=(
                Param("ValidateRequestBody", "validateRequestBody", flag, False),
                Param("ValidateRequestParameters", "validateRequestParameters", flag, False),
            ),
            attributes={"RequestValidatorId": member("id")},
            id_param="requestValidatorId",
            patch={
                "ValidateRequestBody": "/validateRequestBody",
                "ValidateRequestParameters": "/validateRequestParameters",
            },
        )
    ),
    SpecHandler(
        Spec(
            "AWS::ApiGateway::GatewayResponse",
            "apigateway",
            "PutGatewayResponse",
            "DeleteGatewayResponse",
            _MISSING,
            keys=(_API, key("ResponseType", "responseType")),
            params=(
                Param("StatusCode", "statusCode", text),
                Param("ResponseParameters", "responseParameters", str_map, truthy=True),
                Param("ResponseTemplates", "responseTemplates", str_map, truthy=True),
            ),
            physical=lambda m: f"{m.props['RestApiId']}|{m.props['ResponseType']}",
            # Put again, whole: the response is keyed by its type.
            update="PutGatewayResponse",
        )
    ),
]
