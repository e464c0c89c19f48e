"""OpenAPI 3 / Swagger 2 → an API Gateway REST API definition (resources, methods, models...).

The result is a `RestApiDefinition` holding AWS-shaped dicts (the same members GetResource,
GetModel, GetAuthorizer... return), so the service can store and serve them directly. Ids come
from the `new_id` callable the caller passes in: this module has no randomness of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
ANY_METHOD = "x-amazon-apigateway-any-method"
MODEL_REF_PREFIX = "https://apigateway.amazonaws.com/restapis/{api_id}/models/"


class OpenApiError(ValueError):
    """The document cannot be imported (API Gateway answers BadRequestException)."""


@dataclass
class RestApiDefinition:
    """What an OpenAPI document defines, in API Gateway's shapes."""

    name: str | None = None
    description: str | None = None
    version: str | None = None
    binary_media_types: list[str] | None = None
    api_key_source: str | None = None
    policy: str | None = None
    minimum_compression_size: int | None = None
    endpoint_types: list[str] | None = None
    # path ("/a/{b}") → {http method → Method dict}
    paths: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    validators: dict[str, dict[str, Any]] = field(default_factory=dict)  # by name
    authorizers: dict[str, dict[str, Any]] = field(default_factory=dict)  # by name
    gateway_responses: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def load_document(body: bytes | str | dict[str, Any]) -> dict[str, Any]:
    """Parse a JSON or YAML OpenAPI document (an already parsed one passes through, as
    CloudFormation's RestApi Body arrives)."""
    if isinstance(body, dict):
        doc0 = body
        if not ("openapi" in doc0 or "swagger" in doc0):
            raise OpenApiError("Invalid OpenAPI input: not an OpenAPI 3 or Swagger 2 document")
        return doc0
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    try:
        doc = json.loads(text)
    except ValueError:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise OpenApiError(f"Invalid OpenAPI input: {exc}") from exc
    if not isinstance(doc, dict) or not ("openapi" in doc or "swagger" in doc):
        raise OpenApiError("Invalid OpenAPI input: not an OpenAPI 3 or Swagger 2 document")
    return doc


def _resolve(doc: dict[str, Any], node: Any) -> Any:
    """Follow a local $ref (#/components/..., #/definitions/...) once."""
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref.startswith("#/"):
            cur: Any = doc
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(cur, dict) or part not in cur:
                    raise OpenApiError(f"Invalid reference {ref}")
                cur = cur[part]
            return cur
    return node


def _model_name_of_ref(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _rewrite_refs(schema: Any, api_id: str) -> Any:
    """Model schemas refer to other models by their AWS URL."""
    if isinstance(schema, dict):
        out = {}
        for k, v in schema.items():
            if k == "$ref" and isinstance(v, str) and v.startswith("#/"):
                out[k] = MODEL_REF_PREFIX.format(api_id=api_id) + _model_name_of_ref(v)
            else:
                out[k] = _rewrite_refs(v, api_id)
        return out
    if isinstance(schema, list):
        return [_rewrite_refs(v, api_id) for v in schema]
    return schema


def import_openapi(
    doc: dict[str, Any], api_id: str, new_id: Callable[[], str]
) -> RestApiDefinition:
    """Translate an OpenAPI/Swagger document into API Gateway resources."""
    oas3 = "openapi" in doc
    info = doc.get("info") or {}
    d = RestApiDefinition(
        name=info.get("title"),
        description=info.get("description"),
        version=str(info["version"]) if info.get("version") is not None else None,
        binary_media_types=doc.get("x-amazon-apigateway-binary-media-types"),
        api_key_source=doc.get("x-amazon-apigateway-api-key-source"),
        minimum_compression_size=doc.get("x-amazon-apigateway-minimum-compression-size"),
    )
    policy = doc.get("x-amazon-apigateway-policy")
    if policy is not None:
        d.policy = policy if isinstance(policy, str) else json.dumps(policy)
    endpoint = doc.get("x-amazon-apigateway-endpoint-configuration") or {}
    if endpoint.get("types"):
        d.endpoint_types = list(endpoint["types"])

    schemas = (doc.get("components") or {}).get("schemas") if oas3 else doc.get("definitions")
    for name, schema in (schemas or {}).items():
        d.models[name] = _model(name, schema, api_id, new_id)

    for name, v in (doc.get("x-amazon-apigateway-request-validators") or {}).items():
        d.validators[name] = {
            "id": new_id(),
            "name": name,
            "validateRequestBody": bool(v.get("validateRequestBody", False)),
            "validateRequestParameters": bool(v.get("validateRequestParameters", False)),
        }
    default_validator = doc.get("x-amazon-apigateway-request-validator")

    for rtype, gr in (doc.get("x-amazon-apigateway-gateway-responses") or {}).items():
        resp: dict[str, Any] = {"responseType": rtype, "defaultResponse": False}
        if gr.get("statusCode") is not None:
            resp["statusCode"] = str(gr["statusCode"])
        resp["responseParameters"] = dict(gr.get("responseParameters") or {})
        resp["responseTemplates"] = dict(gr.get("responseTemplates") or {})
        d.gateway_responses[rtype] = resp

    schemes = (
        (doc.get("components") or {}).get("securitySchemes")
        if oas3
        else doc.get("securityDefinitions")
    ) or {}
    api_key_schemes: set[str] = set()
    iam_schemes: set[str] = set()
    for name, scheme in schemes.items():
        auth = scheme.get("x-amazon-apigateway-authorizer")
        if auth:
            d.authorizers[name] = _authorizer(name, scheme, auth, new_id)
        elif scheme.get("x-amazon-apigateway-authtype") in ("awsSigv4", "aws_iam"):
            iam_schemes.add(name)
        elif scheme.get("type") == "apiKey":
            api_key_schemes.add(name)

    top_security = doc.get("security")
    for path, item in (doc.get("paths") or {}).items():
        item = _resolve(doc, item) or {}
        if not path.startswith("/"):
            raise OpenApiError(f"Invalid path {path}")
        methods = d.paths.setdefault(path, {})
        common = item.get("parameters") or []
        for key, op in item.items():
            if key not in HTTP_METHODS and key != ANY_METHOD:
                continue
            http_method = "ANY" if key == ANY_METHOD else key.upper()
            methods[http_method] = _method(
                doc,
                oas3,
                http_method,
                op or {},
                common,
                d,
                top_security,
                api_key_schemes,
                iam_schemes,
                default_validator,
                api_id,
                new_id,
            )
    return d


def _model(name: str, schema: Any, api_id: str, new_id: Callable[[], str]) -> dict[str, Any]:
    schema = dict(schema) if isinstance(schema, dict) else {}
    schema.setdefault("$schema", "http://json-schema.org/draft-04/schema#")
    schema.setdefault("title", name)
    return {
        "id": new_id(),
        "name": name,
        "contentType": "application/json",
        "schema": json.dumps(_rewrite_refs(schema, api_id)),
        **({"description": schema["description"]} if schema.get("description") else {}),
    }


def _authorizer(
    name: str, scheme: dict[str, Any], auth: dict[str, Any], new_id: Callable[[], str]
) -> dict[str, Any]:
    kind = str(auth.get("type", "token")).upper()
    out: dict[str, Any] = {"id": new_id(), "name": name, "type": kind}
    if kind == "COGNITO_USER_POOLS":
        out["providerARNs"] = list(auth.get("providerARNs") or [])
    if auth.get("authorizerUri"):
        out["authorizerUri"] = auth["authorizerUri"]
    if auth.get("authorizerCredentials"):
        out["authorizerCredentials"] = auth["authorizerCredentials"]
    source = auth.get("identitySource")
    if not source and scheme.get("in") == "header" and scheme.get("name"):
        source = f"method.request.header.{scheme['name']}"
    if source:
        out["identitySource"] = source
    if auth.get("identityValidationExpression"):
        out["identityValidationExpression"] = auth["identityValidationExpression"]
    out["authorizerResultTtlInSeconds"] = int(auth.get("authorizerResultTtlInSeconds", 300))
    out["authType"] = scheme.get("x-amazon-apigateway-authtype", "custom")
    return out


def _method(
    doc: dict[str, Any],
    oas3: bool,
    http_method: str,
    op: dict[str, Any],
    common: list[Any],
    d: RestApiDefinition,
    top_security: Any,
    api_key_schemes: set[str],
    iam_schemes: set[str],
    default_validator: str | None,
    api_id: str,
    new_id: Callable[[], str],
) -> dict[str, Any]:
    m: dict[str, Any] = {
        "httpMethod": http_method,
        "authorizationType": "NONE",
        "apiKeyRequired": False,
    }
    if op.get("operationId"):
        m["operationName"] = op["operationId"]
    params: dict[str, bool] = {}
    models: dict[str, str] = {}
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for p in [*common, *(op.get("parameters") or [])]:
        p = _resolve(doc, p)
        by_key[(p.get("in", ""), p.get("name", ""))] = p
    for (where, pname), p in by_key.items():
        loc = {"path": "path", "query": "querystring", "header": "header"}.get(where)
        if loc:
            params[f"method.request.{loc}.{pname}"] = bool(p.get("required", where == "path"))
        elif where == "body" and not oas3 and p.get("schema"):
            name = _body_model(p["schema"], op, http_method, d, api_id, new_id)
            for ctype in op.get("consumes") or doc.get("consumes") or ["application/json"]:
                models[ctype] = name
    if oas3 and op.get("requestBody"):
        body = _resolve(doc, op["requestBody"])
        for ctype, media in (body.get("content") or {}).items():
            if media.get("schema"):
                models[ctype] = _body_model(media["schema"], op, http_method, d, api_id, new_id)
    if params:
        m["requestParameters"] = params
    if models:
        m["requestModels"] = models
    validator = op.get("x-amazon-apigateway-request-validator", default_validator)
    if validator:
        if validator not in d.validators:
            raise OpenApiError(f"Invalid request validator {validator}")
        m["requestValidatorId"] = d.validators[validator]["id"]

    security = op.get("security", top_security)
    for requirement in security or []:
        for scheme_name, scopes in requirement.items():
            if scheme_name in d.authorizers:
                a = d.authorizers[scheme_name]
                m["authorizationType"] = (
                    "COGNITO_USER_POOLS" if a["type"] == "COGNITO_USER_POOLS" else "CUSTOM"
                )
                m["authorizerId"] = a["id"]
                if scopes:
                    m["authorizationScopes"] = list(scopes)
            elif scheme_name in iam_schemes:
                m["authorizationType"] = "AWS_IAM"
            elif scheme_name in api_key_schemes:
                m["apiKeyRequired"] = True

    responses: dict[str, Any] = {}
    for code, resp in (op.get("responses") or {}).items():
        if code == "default":
            continue
        resp = _resolve(doc, resp) or {}
        mr: dict[str, Any] = {"statusCode": str(code)}
        headers = resp.get("headers") or {}
        if headers:
            mr["responseParameters"] = {f"method.response.header.{h}": False for h in headers}
        rmodels: dict[str, str] = {}
        if oas3:
            for ctype, media in (resp.get("content") or {}).items():
                ref = (media.get("schema") or {}).get("$ref")
                if ref:
                    rmodels[ctype] = _model_name_of_ref(ref)
        elif isinstance(resp.get("schema"), dict) and resp["schema"].get("$ref"):
            rmodels["application/json"] = _model_name_of_ref(resp["schema"]["$ref"])
        if rmodels:
            mr["responseModels"] = rmodels
        responses[str(code)] = mr
    if responses:
        m["methodResponses"] = responses

    integ = op.get("x-amazon-apigateway-integration")
    if integ:
        m["methodIntegration"] = integration_from_extension(integ)
    return m


def _body_model(
    schema: dict[str, Any],
    op: dict[str, Any],
    http_method: str,
    d: RestApiDefinition,
    api_id: str,
    new_id: Callable[[], str],
) -> str:
    if "$ref" in schema:
        return _model_name_of_ref(schema["$ref"])
    base = op.get("operationId") or f"{http_method.capitalize()}Body"
    name = "".join(ch for ch in base if ch.isalnum()) + "Model"
    n = 2
    while name in d.models:
        name = f"{base}Model{n}"
        n += 1
    d.models[name] = _model(name, schema, api_id, new_id)
    return name


def integration_from_extension(integ: dict[str, Any]) -> dict[str, Any]:
    """x-amazon-apigateway-integration → an Integration dict."""
    kind = str(integ.get("type", "")).upper()
    if kind not in ("AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK"):
        raise OpenApiError(f"Invalid integration type {integ.get('type')}")
    out: dict[str, Any] = {"type": kind}
    if integ.get("httpMethod"):
        out["httpMethod"] = str(integ["httpMethod"]).upper()
    for src, dst in (
        ("uri", "uri"),
        ("credentials", "credentials"),
        ("connectionType", "connectionType"),
        ("connectionId", "connectionId"),
        ("contentHandling", "contentHandling"),
        ("cacheNamespace", "cacheNamespace"),
    ):
        if integ.get(src) is not None:
            out[dst] = integ[src]
    out["passthroughBehavior"] = str(integ.get("passthroughBehavior", "when_no_match")).upper()
    out["timeoutInMillis"] = int(integ.get("timeoutInMillis", 29000))
    if integ.get("requestTemplates"):
        out["requestTemplates"] = dict(integ["requestTemplates"])
    if integ.get("requestParameters"):
        out["requestParameters"] = dict(integ["requestParameters"])
    if integ.get("cacheKeyParameters"):
        out["cacheKeyParameters"] = list(integ["cacheKeyParameters"])
    responses: dict[str, Any] = {}
    for pattern, r in (integ.get("responses") or {}).items():
        code = str(r.get("statusCode", "200"))
        ir: dict[str, Any] = {"statusCode": code}
        if pattern != "default":
            ir["selectionPattern"] = pattern
        if r.get("responseParameters"):
            ir["responseParameters"] = dict(r["responseParameters"])
        if r.get("responseTemplates"):
            ir["responseTemplates"] = dict(r["responseTemplates"])
        if r.get("contentHandling"):
            ir["contentHandling"] = r["contentHandling"]
        responses[code] = ir
    if responses:
        out["integrationResponses"] = responses
    return out
