"""AWS::ApiGateway::* (REST APIs) through the apigateway API (lower-camel parameters)."""

from __future__ import annotations

import json
from typing import Any

from overcast.services.cloudformation.resources.base import (
    ResourceContext,
    ResourceHandler,
    Result,
    as_bool,
    as_int,
    as_json_text,
    changed,
    ignore_missing,
    tags_map,
)
from overcast.services.cloudformation.resources.generic import (
    Name,
    Param,
    Spec,
    SpecHandler,
    build,
    camel,
    camel_params,
    flag,
    key,
    member,
    patch_ops,
    str_map,
    text,
    the_name,
)
from overcast.services.cloudformation.s3urls import fetch_url

_MISSING = ("NotFoundException",)
_API = key("RestApiId", "restApiId")


def _camel_keys(value: dict[str, Any]) -> dict[str, Any]:
    return {camel(k): v for k, v in value.items()}


def _flags(value: dict[str, Any]) -> dict[str, bool]:
    return {k: bool(as_bool(v)) for k, v in value.items()}


_REST_API_PARAMS = (
    *camel_params("Description", "BinaryMediaTypes", "DisableExecuteApiEndpoint"),
    Param("EndpointConfiguration", "endpointConfiguration", _camel_keys),
    Param("ApiKeySourceType", "apiKeySource", truthy=True),
    Param("MinimumCompressionSize", "minimumCompressionSize", as_int),
    Param("Policy", "policy", as_json_text, truthy=True),
)
_METHOD_PARAMS = (
    *camel_params(
        "AuthorizerId",
        "OperationName",
        "RequestModels",
        "RequestValidatorId",
        "AuthorizationScopes",
    ),
    Param("RequestParameters", "requestParameters", _flags),
    Param("ApiKeyRequired", "apiKeyRequired", flag),
)
_METHOD_RESPONSE_PARAMS = (
    key("StatusCode", "statusCode"),
    Param("ResponseModels", "responseModels", truthy=True),
    Param("ResponseParameters", "responseParameters", _flags, truthy=True),
)
_INTEGRATION_PARAMS = (
    *camel_params(
        "Uri",
        "ConnectionType",
        "ConnectionId",
        "Credentials",
        "RequestParameters",
        "RequestTemplates",
        "PassthroughBehavior",
        "CacheNamespace",
        "CacheKeyParameters",
        "ContentHandling",
    ),
    Param("IntegrationHttpMethod", "integrationHttpMethod", truthy=True),
    Param("TimeoutInMillis", "timeoutInMillis", as_int),
)
_INTEGRATION_RESPONSE_PARAMS = (
    key("StatusCode", "statusCode"),
    *camel_params("SelectionPattern", "ResponseParameters", "ResponseTemplates", "ContentHandling"),
)


async def _body(rc: ResourceContext, props: dict[str, Any]) -> bytes | None:
    if props.get("Body") is not None:
        body = props["Body"]
        return (body if isinstance(body, str) else json.dumps(body)).encode()
    loc = props.get("BodyS3Location")
    if loc:
        url = f"s3://{loc['Bucket']}/{loc['Key']}"
        return (await fetch_url(rc.call, url)).encode()
    return None


class RestApi(ResourceHandler):
    """Ref: the API id. GetAtt: RestApiId, RootResourceId."""

    TYPE = "AWS::ApiGateway::RestApi"

    async def _root(self, rc: ResourceContext, api_id: str) -> str:
        out = await rc.call("apigateway", "GetResources", {"restApiId": api_id, "limit": 500})
        for item in out.get("items", []):
            if item.get("path") == "/":
                return str(item["id"])
        return ""

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        body = await _body(rc, props)
        if body is not None:
            params: dict[str, Any] = {
                "body": body,
                "failOnWarnings": bool(as_bool(props.get("FailOnWarnings"))),
            }
            if props.get("Parameters"):
                params["parameters"] = {k: str(v) for k, v in props["Parameters"].items()}
            out = await rc.call("apigateway", "ImportRestApi", params)
            api_id = out["id"]
            ops = []
            if props.get("Name") and props["Name"] != out.get("name"):
                ops.append({"op": "replace", "path": "/name", "value": str(props["Name"])})
            if props.get("Description"):
                ops.append(
                    {"op": "replace", "path": "/description", "value": str(props["Description"])}
                )
            if ops:
                await rc.call(
                    "apigateway", "UpdateRestApi", {"restApiId": api_id, "patchOperations": ops}
                )
        else:
            params = {
                "name": str(props.get("Name") or rc.logical_id),
                **build(props, _REST_API_PARAMS),
            }
            tags = tags_map(props)
            if tags:
                params["tags"] = tags
            out = await rc.call("apigateway", "CreateRestApi", params)
            api_id = out["id"]
        root = await self._root(rc, api_id)
        return Result(api_id, {"RestApiId": api_id, "RootResourceId": root})

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        if changed(old, new, "Body", "BodyS3Location"):
            body = await _body(rc, new)
            if body is not None:
                await rc.call(
                    "apigateway",
                    "PutRestApi",
                    {
                        "restApiId": physical_id,
                        "mode": new.get("Mode", "overwrite"),
                        "body": body,
                        "failOnWarnings": bool(as_bool(new.get("FailOnWarnings"))),
                    },
                )
        ops = patch_ops(old, new, {"Name": "/name", "Description": "/description"})
        ops = [o for o in ops if not (o["path"] == "/name" and o["value"] == "")]
        if ops:
            await rc.call(
                "apigateway", "UpdateRestApi", {"restApiId": physical_id, "patchOperations": ops}
            )
        root = await self._root(rc, physical_id)
        return Result(physical_id, {"RestApiId": physical_id, "RootResourceId": root})

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call("apigateway", "DeleteRestApi", {"restApiId": physical_id}), *_MISSING
        )


class Method(ResourceHandler):
    """A method with its integration and responses. Update re-puts it whole."""

    TYPE = "AWS::ApiGateway::Method"

    def _key(self, props: dict[str, Any]) -> dict[str, str]:
        return {
            "restApiId": str(props["RestApiId"]),
            "resourceId": str(props["ResourceId"]),
            "httpMethod": str(props["HttpMethod"]).upper(),
        }

    async def _put(self, rc: ResourceContext, props: dict[str, Any]) -> None:
        key = self._key(props)
        method: dict[str, Any] = {
            **key,
            "authorizationType": props.get("AuthorizationType", "NONE"),
            **build(props, _METHOD_PARAMS),
        }
        await rc.call("apigateway", "PutMethod", method)
        for resp in props.get("MethodResponses") or []:
            params = {**key, **build(resp, _METHOD_RESPONSE_PARAMS)}
            await rc.call("apigateway", "PutMethodResponse", params)
        integ = props.get("Integration")
        if integ:
            params = {**key, "type": integ["Type"], **build(integ, _INTEGRATION_PARAMS)}
            await rc.call("apigateway", "PutIntegration", params)
            for resp in integ.get("IntegrationResponses") or []:
                rparams = {**key, **build(resp, _INTEGRATION_RESPONSE_PARAMS)}
                await rc.call("apigateway", "PutIntegrationResponse", rparams)

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        await self._put(rc, props)
        key = self._key(props)
        return Result(f"{key['restApiId']}|{key['resourceId']}|{key['httpMethod']}", {})

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        await ignore_missing(rc.call("apigateway", "DeleteMethod", self._key(old)), *_MISSING)
        await self._put(rc, new)
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(rc.call("apigateway", "DeleteMethod", self._key(props)), *_MISSING)


class Deployment(ResourceHandler):
    """Ref: the deployment id. GetAtt: DeploymentId. With StageName it creates that stage."""

    TYPE = "AWS::ApiGateway::Deployment"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        params: dict[str, Any] = {"restApiId": str(props["RestApiId"])}
        if props.get("StageName"):
            params["stageName"] = str(props["StageName"])
        if props.get("Description"):
            params["description"] = str(props["Description"])
        desc = props.get("StageDescription") or {}
        if desc.get("Variables"):
            params["variables"] = desc["Variables"]
        out = await rc.call("apigateway", "CreateDeployment", params)
        return Result(out["id"], {"DeploymentId": out["id"]})

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        ops = patch_ops(old, new, {"Description": "/description"})
        if ops:
            await rc.call(
                "apigateway",
                "UpdateDeployment",
                {
                    "restApiId": str(new["RestApiId"]),
                    "deploymentId": physical_id,
                    "patchOperations": ops,
                },
            )
        if new.get("StageName") and old.get("StageName") != new.get("StageName"):
            await rc.call(
                "apigateway",
                "CreateStage",
                {
                    "restApiId": str(new["RestApiId"]),
                    "stageName": str(new["StageName"]),
                    "deploymentId": physical_id,
                },
            )
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        api = str(props["RestApiId"])
        stage = props.get("StageName")
        if stage:
            # The stage this deployment created goes with it, unless a newer deployment took it.
            try:
                got = await rc.call(
                    "apigateway", "GetStage", {"restApiId": api, "stageName": str(stage)}
                )
            except Exception as exc:
                if getattr(exc, "code", "") not in _MISSING:
                    raise
                got = {}
            if got.get("deploymentId") == physical_id:
                await ignore_missing(
                    rc.call(
                        "apigateway", "DeleteStage", {"restApiId": api, "stageName": str(stage)}
                    ),
                    *_MISSING,
                )
        await ignore_missing(
            rc.call(
                "apigateway", "DeleteDeployment", {"restApiId": api, "deploymentId": physical_id}
            ),
            *_MISSING,
        )


def _settings(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, str]]:
    """Patch operations for the method settings that are new or changed."""
    ops = []
    for s in new.get("MethodSettings") or []:
        if s in (old.get("MethodSettings") or []):
            continue
        prefix = f"/{s.get('ResourcePath', '/*').lstrip('/').replace('/', '~1') or '*'}/{s.get('HttpMethod', '*')}"
        if s.get("ResourcePath", "/*") == "/*":
            prefix = f"/*/{s.get('HttpMethod', '*')}"
        for prop, path in (
            ("ThrottlingRateLimit", "throttling/rateLimit"),
            ("ThrottlingBurstLimit", "throttling/burstLimit"),
            ("MetricsEnabled", "metrics/enabled"),
            ("LoggingLevel", "logging/loglevel"),
            ("DataTraceEnabled", "logging/dataTrace"),
            ("CachingEnabled", "caching/enabled"),
        ):
            if s.get(prop) is not None:
                value = s[prop]
                ops.append(
                    {
                        "op": "replace",
                        "path": f"{prefix}/{path}",
                        "value": str(value).lower() if isinstance(value, bool) else str(value),
                    }
                )
    return ops


class Stage(SpecHandler):
    """Ref: the stage name. Variables and method settings patch one field at a time."""

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        result = await super().create(rc, props)
        ops = _settings({}, props)
        if ops:
            await rc.call(
                "apigateway",
                "UpdateStage",
                {
                    "restApiId": str(props["RestApiId"]),
                    "stageName": result.physical_id,
                    "patchOperations": ops,
                },
            )
        return result

    def patch_ops(self, old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, str]]:
        ops = super().patch_ops(old, new)
        old_vars, new_vars = old.get("Variables") or {}, new.get("Variables") or {}
        for k, v in new_vars.items():
            if old_vars.get(k) != v:
                ops.append({"op": "replace", "path": f"/variables/{k}", "value": str(v)})
        for k in old_vars.keys() - new_vars.keys():
            ops.append({"op": "remove", "path": f"/variables/{k}"})
        return ops + _settings(old, new)


HANDLERS: list[ResourceHandler] = [
    RestApi(),
    SpecHandler(
        Spec(
            "AWS::ApiGateway::Resource",
            "apigateway",
            "CreateResource",
            "DeleteResource",
            _MISSING,
            keys=(_API,),
            params=(key("ParentId", "parentId"), key("PathPart", "pathPart")),
            attributes={"ResourceId": member("id")},
            id_param="resourceId",
        )
    ),
    Method(),
    Deployment(),
    Stage(
        Spec(
            "AWS::ApiGateway::Stage",
            "apigateway",
            "CreateStage",
            "DeleteStage",
            _MISSING,
            keys=(_API,),
            name=Name("stageName", "StageName", lambda rc: rc.physical_name(64)),
            params=(
                key("DeploymentId", "deploymentId"),
                Param("Description", "description", text, truthy=True),
                Param("Variables", "variables", str_map, truthy=True),
                Param("TracingEnabled", "tracingEnabled", flag),
            ),
            tags="tags",
            physical=the_name,
            id_param="stageName",
            update="UpdateStage",
            patch={
                "DeploymentId": "/deploymentId",
                "Description": "/description",
                "TracingEnabled": "/tracingEnabled",
            },
        )
    ),
]
