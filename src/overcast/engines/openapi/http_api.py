"""OpenAPI 3 ↔ API Gateway HTTP APIs (apigatewayv2): routes, integrations, authorizers, CORS.

Records use apigatewayv2's member names (RouteKey, IntegrationType, JwtConfiguration...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from overcast.engines.openapi.rest_import import ANY_METHOD, HTTP_METHODS, OpenApiError


@dataclass
class HttpApiDefinition:
    name: str = ""
    description: str | None = None
    version: str | None = None
    cors: dict[str, Any] | None = None
    routes: list[dict[str, Any]] = field(default_factory=list)
    integrations: dict[str, dict[str, Any]] = field(default_factory=dict)
    authorizers: dict[str, dict[str, Any]] = field(default_factory=dict)  # by name
    warnings: list[str] = field(default_factory=list)


_CORS_KEYS = {
    "allowOrigins": "AllowOrigins",
    "allowMethods": "AllowMethods",
    "allowHeaders": "AllowHeaders",
    "exposeHeaders": "ExposeHeaders",
    "allowCredentials": "AllowCredentials",
    "maxAge": "MaxAge",
}


def integration_from_extension(ext: dict[str, Any], new_id: Callable[[], str]) -> dict[str, Any]:
    """x-amazon-apigateway-integration → an apigatewayv2 Integration."""
    kind = str(ext.get("type", "")).upper()
    if kind not in ("AWS_PROXY", "HTTP_PROXY", "MOCK", "AWS", "HTTP"):
        raise OpenApiError(f"Invalid integration type {ext.get('type')}")
    out: dict[str, Any] = {
        "IntegrationId": new_id(),
        "IntegrationType": kind,
        "ConnectionType": ext.get("connectionType", "INTERNET"),
        "TimeoutInMillis": int(ext.get("timeoutInMillis", 30000)),
        "PayloadFormatVersion": str(
            ext.get("payloadFormatVersion", "2.0" if kind == "AWS_PROXY" else "1.0")
        ),
        "IntegrationResponseSelectionExpression": "${integration.response.statuscode}",
    }
    if ext.get("uri"):
        out["IntegrationUri"] = ext["uri"]
    if ext.get("httpMethod"):
        out["IntegrationMethod"] = str(ext["httpMethod"]).upper()
    if ext.get("credentials"):
        out["CredentialsArn"] = ext["credentials"]
    if ext.get("requestParameters"):
        out["RequestParameters"] = dict(ext["requestParameters"])
    return out


def import_http_api(doc: dict[str, Any], new_id: Callable[[], str]) -> HttpApiDefinition:
    """Translate an OpenAPI 3 document into HTTP API routes, integrations and authorizers."""
    if "openapi" not in doc:
        raise OpenApiError("HTTP APIs import OpenAPI 3 documents only")
    info = doc.get("info") or {}
    d = HttpApiDefinition(
        name=str(info.get("title") or ""),
        description=info.get("description"),
        version=str(info["version"]) if info.get("version") is not None else None,
    )
    cors = doc.get("x-amazon-apigateway-cors")
    if isinstance(cors, dict):
        d.cors = {_CORS_KEYS[k]: v for k, v in cors.items() if k in _CORS_KEYS}
    schemes = (doc.get("components") or {}).get("securitySchemes") or {}
    for name, scheme in schemes.items():
        ext = scheme.get("x-amazon-apigateway-authorizer")
        if not ext:
            continue
        kind = str(ext.get("type", "")).lower()
        a: dict[str, Any] = {"AuthorizerId": new_id(), "Name": name}
        source = ext.get("identitySource")
        if isinstance(source, str):
            source = [s.strip() for s in source.split(",") if s.strip()]
        if kind == "jwt":
            jwt = ext.get("jwtConfiguration") or {}
            a["AuthorizerType"] = "JWT"
            a["JwtConfiguration"] = {
                "Issuer": jwt.get("issuer", ""),
                "Audience": list(jwt.get("audience") or []),
            }
            a["IdentitySource"] = source or ["$request.header.Authorization"]
        elif kind == "request":
            a["AuthorizerType"] = "REQUEST"
            a["AuthorizerUri"] = ext.get("authorizerUri", "")
            a["AuthorizerPayloadFormatVersion"] = str(
                ext.get("authorizerPayloadFormatVersion", "2.0")
            )
            a["EnableSimpleResponses"] = bool(ext.get("enableSimpleResponses", False))
            a["AuthorizerResultTtlInSeconds"] = int(ext.get("authorizerResultTtlInSeconds", 0))
            a["IdentitySource"] = source or []
        else:
            d.warnings.append(f"Unsupported authorizer type {kind} for {name}")
            continue
        d.authorizers[name] = a
    top_security = doc.get("security")
    for path, item in (doc.get("paths") or {}).items():
        for key, op in (item or {}).items():
            if key not in HTTP_METHODS and key != ANY_METHOD:
                continue
            op = op or {}
            method = "ANY" if key == ANY_METHOD else key.upper()
            route_key = "$default" if path == "$default" else f"{method} {path}"
            route: dict[str, Any] = {
                "RouteId": new_id(),
                "RouteKey": route_key,
                "AuthorizationType": "NONE",
                "ApiKeyRequired": False,
            }
            if op.get("operationId"):
                route["OperationName"] = op["operationId"]
            ext = op.get("x-amazon-apigateway-integration")
            if ext:
                integ = integration_from_extension(ext, new_id)
                d.integrations[integ["IntegrationId"]] = integ
                route["Target"] = f"integrations/{integ['IntegrationId']}"
            for req in op.get("security", top_security) or []:
                for scheme_name, scopes in req.items():
                    auth = d.authorizers.get(scheme_name)
                    if auth is None:
                        continue
                    route["AuthorizationType"] = (
                        "JWT" if auth["AuthorizerType"] == "JWT" else "CUSTOM"
                    )
                    route["AuthorizerId"] = auth["AuthorizerId"]
                    if scopes:
                        route["AuthorizationScopes"] = list(scopes)
            d.routes.append(route)
    return d


def export_http_api(
    api: dict[str, Any],
    routes: list[dict[str, Any]],
    integrations: dict[str, dict[str, Any]],
    authorizers: dict[str, dict[str, Any]],
    *,
    server_url: str,
    extensions: bool,
) -> dict[str, Any]:
    """An HTTP API as an OpenAPI 3.0 document (ExportApi)."""
    info: dict[str, Any] = {"title": api.get("Name", ""), "version": api.get("Version") or "1.0"}
    if api.get("Description"):
        info["description"] = api["Description"]
    doc: dict[str, Any] = {"openapi": "3.0.1", "info": info, "servers": [{"url": server_url}]}
    paths: dict[str, Any] = {}
    schemes: dict[str, Any] = {}
    for r in sorted(routes, key=lambda r: r["RouteKey"]):
        if r["RouteKey"] == "$default":
            method, path = "ANY", "$default"
        else:
            method, _, path = r["RouteKey"].partition(" ")
        op: dict[str, Any] = {"responses": {"default": {"description": "Default response"}}}
        if r.get("OperationName"):
            op["operationId"] = r["OperationName"]
        params = [
            {
                "name": seg[1:-1].rstrip("+"),
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
            }
            for seg in path.split("/")
            if seg.startswith("{")
        ]
        if params:
            op["parameters"] = params
        a = authorizers.get(r.get("AuthorizerId") or "")
        if a is not None:
            op["security"] = [{a["Name"]: list(r.get("AuthorizationScopes") or [])}]
            schemes[a["Name"]] = _scheme(a, extensions)
        target = r.get("Target") or ""
        integ = integrations.get(target.split("/", 1)[-1]) if target else None
        if extensions and integ is not None:
            ext: dict[str, Any] = {
                "type": integ["IntegrationType"].lower(),
                "payloadFormatVersion": integ.get("PayloadFormatVersion", "1.0"),
                "connectionType": integ.get("ConnectionType", "INTERNET"),
                "timeoutInMillis": integ.get("TimeoutInMillis", 30000),
            }
            if integ.get("IntegrationUri"):
                ext["uri"] = integ["IntegrationUri"]
            if integ.get("IntegrationMethod"):
                ext["httpMethod"] = integ["IntegrationMethod"]
            op["x-amazon-apigateway-integration"] = ext
        key = ANY_METHOD if method == "ANY" else method.lower()
        paths.setdefault(path, {})[key] = op
    doc["paths"] = paths
    if schemes:
        doc["components"] = {"securitySchemes": schemes}
    if extensions and api.get("CorsConfiguration"):
        inverse = {v: k for k, v in _CORS_KEYS.items()}
        doc["x-amazon-apigateway-cors"] = {
            inverse[k]: v for k, v in api["CorsConfiguration"].items() if k in inverse
        }
    if extensions:
        doc["x-amazon-apigateway-importexport-version"] = "1.0"
    return doc


def _scheme(a: dict[str, Any], extensions: bool) -> dict[str, Any]:
    if a["AuthorizerType"] == "JWT":
        scheme: dict[str, Any] = {"type": "oauth2", "flows": {}}
        if extensions:
            jwt = a.get("JwtConfiguration") or {}
            scheme["x-amazon-apigateway-authorizer"] = {
                "type": "jwt",
                "identitySource": ",".join(a.get("IdentitySource") or []),
                "jwtConfiguration": {
                    "issuer": jwt.get("Issuer", ""),
                    "audience": list(jwt.get("Audience") or []),
                },
            }
        return scheme
    scheme = {"type": "apiKey", "name": "Authorization", "in": "header"}
    if extensions:
        scheme["x-amazon-apigateway-authorizer"] = {
            "type": "request",
            "identitySource": ",".join(a.get("IdentitySource") or []),
            "authorizerUri": a.get("AuthorizerUri", ""),
            "authorizerPayloadFormatVersion": a.get("AuthorizerPayloadFormatVersion", "2.0"),
            "enableSimpleResponses": bool(a.get("EnableSimpleResponses")),
            "authorizerResultTtlInSeconds": a.get("AuthorizerResultTtlInSeconds", 0),
        }
    return scheme
