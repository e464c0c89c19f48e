"""An API Gateway REST API (AWS-shaped dicts) → an OpenAPI 3 or Swagger 2 document (GetExport)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

from overcast.engines.openapi.rest_import import ANY_METHOD, MODEL_REF_PREFIX


def _local_refs(schema: Any, prefix: str, target: str) -> Any:
    if isinstance(schema, dict):
        out = {}
        for k, v in schema.items():
            if k == "$ref" and isinstance(v, str) and v.startswith(prefix):
                out[k] = target + v[len(prefix) :]
            elif k not in ("$schema",):
                out[k] = _local_refs(v, prefix, target)
        return out
    if isinstance(schema, list):
        return [_local_refs(v, prefix, target) for v in schema]
    return schema


def export_openapi(
    api: dict[str, Any],
    resources: list[dict[str, Any]],
    models: list[dict[str, Any]],
    authorizers: list[dict[str, Any]],
    validators: list[dict[str, Any]],
    gateway_responses: list[dict[str, Any]],
    *,
    stage: str,
    base_url: str,
    swagger: bool = False,
    extensions: bool = False,
) -> dict[str, Any]:
    """The document GetExport returns for one stage."""
    ref_prefix = MODEL_REF_PREFIX.format(api_id=api["id"])
    ref_target = "#/definitions/" if swagger else "#/components/schemas/"
    info = {"title": api.get("name", ""), "version": api.get("version") or "1.0"}
    if api.get("description"):
        info["description"] = api["description"]
    doc: dict[str, Any]
    if swagger:
        parsed = urlparse(base_url)
        doc = {
            "swagger": "2.0",
            "info": info,
            "host": parsed.netloc,
            "basePath": parsed.path or "/",
            "schemes": [parsed.scheme or "http"],
        }
    else:
        doc = {"openapi": "3.0.1", "info": info, "servers": [{"url": base_url}]}
    auth_by_id = {a["id"]: a for a in authorizers}
    validator_by_id = {v["id"]: v for v in validators}
    schemes: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for res in sorted(resources, key=lambda r: r["path"]):
        methods = res.get("resourceMethods") or {}
        if not methods:
            continue
        item: dict[str, Any] = {}
        for verb, m in methods.items():
            op: dict[str, Any] = {}
            if m.get("operationName"):
                op["operationId"] = m["operationName"]
            params = []
            for key, required in (m.get("requestParameters") or {}).items():
                parts = key.split(".", 3)
                if len(parts) != 4:
                    continue
                where = {"path": "path", "querystring": "query", "header": "header"}[parts[2]]
                p: dict[str, Any] = {
                    "name": parts[3],
                    "in": where,
                    "required": bool(required) or where == "path",
                }
                if swagger:
                    p["type"] = "string"
                else:
                    p["schema"] = {"type": "string"}
                params.append(p)
            for ctype, model in (m.get("requestModels") or {}).items():
                if swagger:
                    params.append(
                        {
                            "in": "body",
                            "name": model,
                            "required": True,
                            "schema": {"$ref": ref_target + model},
                        }
                    )
                else:
                    op.setdefault("requestBody", {"content": {}, "required": True})
                    op["requestBody"]["content"][ctype] = {"schema": {"$ref": ref_target + model}}
            if params:
                op["parameters"] = params
            responses: dict[str, Any] = {}
            for code, mr in (m.get("methodResponses") or {}).items():
                r: dict[str, Any] = {"description": f"{code} response"}
                for ctype, model in (mr.get("responseModels") or {}).items():
                    if swagger:
                        r["schema"] = {"$ref": ref_target + model}
                    else:
                        r.setdefault("content", {})[ctype] = {
                            "schema": {"$ref": ref_target + model}
                        }
                headers = {
                    k.rsplit(".", 1)[-1]: {"type": "string"}
                    if swagger
                    else {"schema": {"type": "string"}}
                    for k in (mr.get("responseParameters") or {})
                }
                if headers:
                    r["headers"] = headers
                responses[code] = r
            op["responses"] = responses or {"200": {"description": "200 response"}}
            security: list[dict[str, list[str]]] = []
            if m.get("authorizationType") in ("CUSTOM", "COGNITO_USER_POOLS"):
                a = auth_by_id.get(m.get("authorizerId", ""))
                if a:
                    security.append({a["name"]: list(m.get("authorizationScopes") or [])})
                    schemes[a["name"]] = _auth_scheme(a, extensions)
            elif m.get("authorizationType") == "AWS_IAM":
                security.append({"sigv4": []})
                schemes["sigv4"] = {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "x-amazon-apigateway-authtype": "awsSigv4",
                }
            if m.get("apiKeyRequired"):
                security.append({"api_key": []})
                schemes["api_key"] = {"type": "apiKey", "name": "x-api-key", "in": "header"}
            if security:
                op["security"] = security
            if extensions:
                v = validator_by_id.get(m.get("requestValidatorId", ""))
                if v:
                    op["x-amazon-apigateway-request-validator"] = v["name"]
                if m.get("methodIntegration"):
                    op["x-amazon-apigateway-integration"] = integration_extension(
                        m["methodIntegration"]
                    )
            item[ANY_METHOD if verb == "ANY" else verb.lower()] = op
        paths[res["path"]] = item
    doc["paths"] = paths
    defs = {
        mdl["name"]: _local_refs(json.loads(mdl.get("schema") or "{}"), ref_prefix, ref_target)
        for mdl in models
    }
    if swagger:
        if defs:
            doc["definitions"] = defs
        if schemes:
            doc["securityDefinitions"] = schemes
    else:
        comps: dict[str, Any] = {}
        if defs:
            comps["schemas"] = defs
        if schemes:
            comps["securitySchemes"] = schemes
        if comps:
            doc["components"] = comps
    if extensions:
        if api.get("binaryMediaTypes"):
            doc["x-amazon-apigateway-binary-media-types"] = list(api["binaryMediaTypes"])
        if api.get("apiKeySource") and api["apiKeySource"] != "HEADER":
            doc["x-amazon-apigateway-api-key-source"] = api["apiKeySource"]
        if validators:
            doc["x-amazon-apigateway-request-validators"] = {
                v["name"]: {
                    "validateRequestBody": v.get("validateRequestBody", False),
                    "validateRequestParameters": v.get("validateRequestParameters", False),
                }
                for v in validators
            }
        custom = [g for g in gateway_responses if not g.get("defaultResponse", False)]
        if custom:
            doc["x-amazon-apigateway-gateway-responses"] = {
                g["responseType"]: {
                    k: g[k]
                    for k in ("statusCode", "responseParameters", "responseTemplates")
                    if g.get(k)
                }
                for g in custom
            }
    return doc


def _auth_scheme(a: dict[str, Any], extensions: bool) -> dict[str, Any]:
    source = a.get("identitySource") or "method.request.header.Authorization"
    header = source.split(",")[0].strip().rsplit(".", 1)[-1]
    scheme: dict[str, Any] = {"type": "apiKey", "name": header, "in": "header"}
    scheme["x-amazon-apigateway-authtype"] = (
        "cognito_user_pools" if a["type"] == "COGNITO_USER_POOLS" else "custom"
    )
    if extensions:
        ext: dict[str, Any] = {"type": a["type"].lower()}
        for k in (
            "authorizerUri",
            "authorizerCredentials",
            "identitySource",
            "identityValidationExpression",
            "authorizerResultTtlInSeconds",
            "providerARNs",
        ):
            if a.get(k) is not None:
                ext[k] = a[k]
        scheme["x-amazon-apigateway-authorizer"] = ext
    return scheme


def integration_extension(integ: dict[str, Any]) -> dict[str, Any]:
    """An Integration dict → x-amazon-apigateway-integration."""
    out: dict[str, Any] = {"type": integ["type"].lower()}
    for k in (
        "httpMethod",
        "uri",
        "credentials",
        "connectionType",
        "connectionId",
        "contentHandling",
        "requestTemplates",
        "requestParameters",
        "cacheKeyParameters",
        "cacheNamespace",
        "timeoutInMillis",
    ):
        if integ.get(k) not in (None, {}, []):
            out[k] = integ[k]
    out["passthroughBehavior"] = str(integ.get("passthroughBehavior", "WHEN_NO_MATCH")).lower()
    responses = {}
    for code, ir in (integ.get("integrationResponses") or {}).items():
        r: dict[str, Any] = {"statusCode": code}
        for k in ("responseParameters", "responseTemplates", "contentHandling"):
            if ir.get(k):
                r[k] = ir[k]
        responses[ir.get("selectionPattern") or "default"] = r
    if responses:
        out["responses"] = responses
    return out
