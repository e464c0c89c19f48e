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
    ignore_missing,
    tags_map,
)
from overcast.services.cloudformation.s3urls import fetch_url

_MISSING = ("NotFoundException",)


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _patch(
    old: dict[str, Any], new: dict[str, Any], fields: dict[str, str]
) -> list[dict[str, str]]:
    """Replace operations for the changed top-level fields (property → patch path)."""
    ops = []
    for prop, path in fields.items():
        if old.get(prop) != new.get(prop):
            value = new.get(prop)
            ops.append(
                {
                    "op": "replace",
                    "path": path,
                    "value": ""
                    if value is None
                    else str(value).lower()
                    if isinstance(value, bool)
                    else str(value),
                }
            )
    return ops


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
            params = {"name": str(props.get("Name") or rc.logical_id)}
            for prop in (
                "Description",
                "BinaryMediaTypes",
                "EndpointConfiguration",
                "DisableExecuteApiEndpoint",
            ):
                if props.get(prop) is not None:
                    params[_camel(prop)] = props[prop]
            if props.get("ApiKeySourceType"):
                params["apiKeySource"] = props["ApiKeySourceType"]
            if props.get("MinimumCompressionSize") is not None:
                params["minimumCompressionSize"] = as_int(props["MinimumCompressionSize"])
            if props.get("Policy"):
                params["policy"] = as_json_text(props["Policy"])
            if "endpointConfiguration" in params:
                params["endpointConfiguration"] = {
                    _camel(k): v for k, v in params["endpointConfiguration"].items()
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
        if old.get("Body") != new.get("Body") or old.get("BodyS3Location") != new.get(
            "BodyS3Location"
        ):
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
        ops = _patch(old, new, {"Name": "/name", "Description": "/description"})
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


class Resource(ResourceHandler):
    """Ref: the resource id. GetAtt: ResourceId."""

    TYPE = "AWS::ApiGateway::Resource"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        out = await rc.call(
            "apigateway",
            "CreateResource",
            {
                "restApiId": str(props["RestApiId"]),
                "parentId": str(props["ParentId"]),
                "pathPart": str(props["PathPart"]),
            },
        )
        return Result(out["id"], {"ResourceId": out["id"]})

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call(
                "apigateway",
                "DeleteResource",
                {"restApiId": str(props["RestApiId"]), "resourceId": physical_id},
            ),
            *_MISSING,
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
        }
        for prop in (
            "AuthorizerId",
            "OperationName",
            "RequestParameters",
            "RequestModels",
            "RequestValidatorId",
            "AuthorizationScopes",
        ):
            if props.get(prop) is not None:
                method[_camel(prop)] = props[prop]
        if props.get("ApiKeyRequired") is not None:
            method["apiKeyRequired"] = bool(as_bool(props["ApiKeyRequired"]))
        if "requestParameters" in method:
            method["requestParameters"] = {
                k: bool(as_bool(v)) for k, v in method["requestParameters"].items()
            }
        await rc.call("apigateway", "PutMethod", method)
        for resp in props.get("MethodResponses") or []:
            params: dict[str, Any] = {**key, "statusCode": str(resp["StatusCode"])}
            if resp.get("ResponseModels"):
                params["responseModels"] = resp["ResponseModels"]
            if resp.get("ResponseParameters"):
                params["responseParameters"] = {
                    k: bool(as_bool(v)) for k, v in resp["ResponseParameters"].items()
                }
            await rc.call("apigateway", "PutMethodResponse", params)
        integ = props.get("Integration")
        if integ:
            params = {**key, "type": integ["Type"]}
            for prop in (
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
            ):
                if integ.get(prop) is not None:
                    params[_camel(prop)] = integ[prop]
            if integ.get("IntegrationHttpMethod"):
                params["integrationHttpMethod"] = integ["IntegrationHttpMethod"]
            if integ.get("TimeoutInMillis") is not None:
                params["timeoutInMillis"] = as_int(integ["TimeoutInMillis"])
            await rc.call("apigateway", "PutIntegration", params)
            for resp in integ.get("IntegrationResponses") or []:
                rparams: dict[str, Any] = {**key, "statusCode": str(resp["StatusCode"])}
                for prop in (
                    "SelectionPattern",
                    "ResponseParameters",
                    "ResponseTemplates",
                    "ContentHandling",
                ):
                    if resp.get(prop) is not None:
                        rparams[_camel(prop)] = resp[prop]
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
        ops = _patch(old, new, {"Description": "/description"})
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


class Stage(ResourceHandler):
    """Ref: the stage name."""

    TYPE = "AWS::ApiGateway::Stage"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        name = str(props.get("StageName") or rc.physical_name(64))
        params: dict[str, Any] = {
            "restApiId": str(props["RestApiId"]),
            "stageName": name,
            "deploymentId": str(props["DeploymentId"]),
        }
        if props.get("Description"):
            params["description"] = str(props["Description"])
        if props.get("Variables"):
            params["variables"] = {k: str(v) for k, v in props["Variables"].items()}
        if props.get("TracingEnabled") is not None:
            params["tracingEnabled"] = bool(as_bool(props["TracingEnabled"]))
        tags = tags_map(props)
        if tags:
            params["tags"] = tags
        await rc.call("apigateway", "CreateStage", params)
        ops = self._settings({}, props)
        if ops:
            await rc.call(
                "apigateway",
                "UpdateStage",
                {"restApiId": params["restApiId"], "stageName": name, "patchOperations": ops},
            )
        return Result(name, {})

    def _settings(self, old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, str]]:
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
                "DeploymentId": "/deploymentId",
                "Description": "/description",
                "TracingEnabled": "/tracingEnabled",
            },
        )
        old_vars, new_vars = old.get("Variables") or {}, new.get("Variables") or {}
        for k, v in new_vars.items():
            if old_vars.get(k) != v:
                ops.append({"op": "replace", "path": f"/variables/{k}", "value": str(v)})
        for k in old_vars.keys() - new_vars.keys():
            ops.append({"op": "remove", "path": f"/variables/{k}"})
        ops += self._settings(old, new)
        if ops:
            await rc.call(
                "apigateway",
                "UpdateStage",
                {
                    "restApiId": str(new["RestApiId"]),
                    "stageName": physical_id,
                    "patchOperations": ops,
                },
            )
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call(
                "apigateway",
                "DeleteStage",
                {"restApiId": str(props["RestApiId"]), "stageName": physical_id},
            ),
            *_MISSING,
        )


HANDLERS: list[ResourceHandler] = [RestApi(), Resource(), Method(), Deployment(), Stage()]
