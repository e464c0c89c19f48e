"""Pure API Gateway pieces: routing, policies, proxy responses, JWT, addresses, OpenAPI."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from overcast.engines.apigw import jwt
from overcast.engines.apigw.address import first_segment, split_address
from overcast.engines.apigw.policy import evaluate_policy
from overcast.engines.apigw.proxy import (
    MalformedProxyResponse,
    parse_http_response,
    parse_rest_response,
)
from overcast.engines.apigw.routing import build_router
from overcast.engines.apigw.throttle import TokenBucket
from overcast.engines.openapi import export_openapi, import_http_api, import_openapi, load_document

ROUTES = [
    ("/", "GET", "root"),
    ("/products", "GET", "list"),
    ("/products", "POST", "create"),
    ("/products/{id}", "GET", "one"),
    ("/products/special", "GET", "special"),
    ("/products/{id}/reviews", "ANY", "reviews"),
    ("/files/{proxy+}", "ANY", "files"),
]

MATCHES: list[tuple[str, str, str | None, dict[str, str]]] = [
    ("GET", "/", "root", {}),
    ("GET", "/products", "list", {}),
    ("POST", "/products", "create", {}),
    ("GET", "/products/7", "one", {"id": "7"}),
    ("GET", "/products/special", "special", {}),
    ("GET", "/products/a%20b", "one", {"id": "a b"}),
    ("DELETE", "/products/7/reviews", "reviews", {"id": "7"}),
    ("GET", "/files/a/b/c.txt", "files", {"proxy": "a/b/c.txt"}),
    ("GET", "/nothing", None, {}),
    ("GET", "/files", None, {}),
]


@pytest.mark.parametrize(("method", "path", "expected", "params"), MATCHES)
def test_routing(method: str, path: str, expected: str | None, params: dict[str, str]) -> None:
    m = build_router(ROUTES).match(path, method)
    if expected is None:
        assert m is None
    else:
        assert m is not None and m.method_found and (m.value, m.params) == (expected, params)


def test_routing_path_without_method_is_reported() -> None:
    m = build_router(ROUTES).match("/products", "DELETE")
    assert m is not None and not m.method_found


ARN = "arn:aws:execute-api:us-east-1:000000000000:abc/prod/GET/products/1"


def _policy(effect: str, resource: Any, action: Any = "execute-api:Invoke") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Action": action, "Resource": resource}],
    }


POLICIES: list[tuple[Any, bool]] = [
    (_policy("Allow", ARN), True),
    (_policy("Allow", "arn:aws:execute-api:us-east-1:000000000000:abc/*"), True),
    (_policy("Allow", "arn:aws:execute-api:*:*:abc/*/GET/*"), True),
    (_policy("Allow", "arn:aws:execute-api:us-east-1:000000000000:abc/prod/POST/*"), False),
    (_policy("Allow", [ARN, "x"]), True),
    (_policy("Allow", ARN, "execute-api:*"), True),
    (_policy("Allow", ARN, "s3:GetObject"), False),
    (_policy("Deny", ARN), False),
    (
        {"Statement": [*_policy("Allow", "*")["Statement"], *_policy("Deny", ARN)["Statement"]]},
        False,
    ),
    (json.dumps(_policy("Allow", "*")), True),
    ("not json", False),
    (None, False),
]


@pytest.mark.parametrize(("policy", "allowed"), POLICIES)
def test_policy(policy: Any, allowed: bool) -> None:
    assert evaluate_policy(policy, ARN) is allowed


REST_RESPONSES: list[tuple[Any, int, bytes]] = [
    ({"statusCode": 200, "body": "hi"}, 200, b"hi"),
    ({"statusCode": "201", "body": ""}, 201, b""),
    (
        {
            "statusCode": 200,
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        },
        200,
        b"\x00\x01",
    ),
    ({"statusCode": 204}, 204, b""),
]


@pytest.mark.parametrize(("payload", "status", "body"), REST_RESPONSES)
def test_rest_proxy_response(payload: Any, status: int, body: bytes) -> None:
    r = parse_rest_response(json.dumps(payload).encode())
    assert (r.status, r.body) == (status, body)


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"null",
        b'"text"',
        b'{"body": "x"}',
        b'{"statusCode": 200, "body": {"a": 1}}',
        b'{"statusCode": "abc"}',
        b'{"statusCode": 200, "headers": []}',
    ],
)
def test_malformed_rest_proxy_response(payload: bytes) -> None:
    with pytest.raises(MalformedProxyResponse):
        parse_rest_response(payload)


def test_rest_proxy_response_headers() -> None:
    r = parse_rest_response(
        json.dumps(
            {
                "statusCode": 200,
                "headers": {"a": "1", "b": "2"},
                "multiValueHeaders": {"b": ["3", "4"]},
            }
        ).encode()
    )
    assert sorted(r.headers) == [("a", "1"), ("b", "3"), ("b", "4")]


HTTP_RESPONSES: list[tuple[bytes, int, bytes]] = [
    (b'{"statusCode": 201, "body": "x"}', 201, b"x"),
    (b'{"hello": "world"}', 200, b'{"hello": "world"}'),
    (b'"just text"', 200, b"just text"),
    (b"42", 200, b"42"),
]


@pytest.mark.parametrize(("payload", "status", "body"), HTTP_RESPONSES)
def test_http_proxy_response(payload: bytes, status: int, body: bytes) -> None:
    r = parse_http_response(payload)
    assert (r.status, r.body) == (status, body)


def test_http_proxy_response_cookies() -> None:
    r = parse_http_response(b'{"statusCode": 200, "cookies": ["a=1", "b=2"]}')
    assert [v for k, v in r.headers if k == "set-cookie"] == ["a=1", "b=2"]


ADDRESSES: list[tuple[str, str, tuple[str, str] | None]] = [
    ("127.0.0.1:4566", "/_aws/execute-api/abc123/prod/x", ("abc123", "/prod/x")),
    ("127.0.0.1:4566", "/_aws/execute-api/abc123", ("abc123", "/")),
    ("abc123.execute-api.localhost:4566", "/prod/x", ("abc123", "/prod/x")),
    ("abc123.execute-api.us-east-1.amazonaws.com", "/", ("abc123", "/")),
    ("127.0.0.1:4566", "/2015-03-31/functions", None),
]


@pytest.mark.parametrize(("host", "path", "expected"), ADDRESSES)
def test_address(host: str, path: str, expected: tuple[str, str] | None) -> None:
    assert split_address(host, path) == expected


def test_first_segment() -> None:
    assert first_segment("/prod/a/b") == ("prod", "/a/b")
    assert first_segment("/prod") == ("prod", "/")


def test_token_bucket_burst_then_refill() -> None:
    b = TokenBucket(rate=1.0, burst=2)
    assert [b.take(0.0), b.take(0.0), b.take(0.0)] == [True, True, False]
    assert b.take(1.0) is True


# -- JWT -----------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64(n: int) -> str:
    return _b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def _jwks() -> dict[str, Any]:
    rn = RSA_KEY.public_key().public_numbers()
    en = EC_KEY.public_key().public_numbers()
    return {
        "keys": [
            {"kty": "RSA", "kid": "r1", "alg": "RS256", "n": _int_b64(rn.n), "e": _int_b64(rn.e)},
            {
                "kty": "EC",
                "kid": "e1",
                "crv": "P-256",
                "x": _b64(en.x.to_bytes(32, "big")),
                "y": _b64(en.y.to_bytes(32, "big")),
            },
        ]
    }


def make_token(claims: dict[str, Any], kid: str = "r1") -> str:
    header = {"alg": "RS256" if kid.startswith("r") else "ES256", "kid": kid, "typ": "JWT"}
    signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}".encode()
    if kid.startswith("r"):
        sig = RSA_KEY.sign(signing, padding.PKCS1v15(), hashes.SHA256())
    else:
        r, s = decode_dss_signature(EC_KEY.sign(signing, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{signing.decode()}.{_b64(sig)}"


NOW = time.time()
GOOD = {"iss": "https://issuer", "aud": "app", "exp": NOW + 60, "scope": "read write"}

JWT_CASES: list[tuple[str, list[str] | None, bool]] = [
    (make_token(GOOD), None, True),
    ("Bearer " + make_token(GOOD), None, True),
    (make_token(GOOD, kid="e1"), None, True),
    (make_token({**GOOD, "iss": "https://other"}), None, False),
    (make_token({**GOOD, "aud": "nope"}), None, False),
    (make_token({k: v for k, v in GOOD.items() if k != "aud"} | {"client_id": "app"}), None, True),
    (make_token({**GOOD, "exp": NOW - 1}), None, False),
    (make_token({**GOOD, "nbf": NOW + 100}), None, False),
    (make_token(GOOD), ["read"], True),
    (make_token(GOOD), ["admin"], False),
    (make_token(GOOD)[:-4] + "AAAA", None, False),
    (make_token(GOOD, kid="r9"), None, False),
    ("garbage", None, False),
]


@pytest.mark.parametrize(("token", "scopes", "ok"), JWT_CASES)
def test_jwt(token: str, scopes: list[str] | None, ok: bool) -> None:
    try:
        jwt.validate(
            token,
            _jwks(),
            issuer="https://issuer",
            audiences=["app"],
            now=NOW,
            required_scopes=scopes,
        )
    except jwt.JwtError:
        assert not ok
    else:
        assert ok


# -- OpenAPI --------------------------------------------------------------------------------------

SWAGGER = """
swagger: '2.0'
info: {title: pets, version: '2'}
securityDefinitions:
  api_key: {type: apiKey, name: x-api-key, in: header}
  tok:
    type: apiKey
    name: Authorization
    in: header
    x-amazon-apigateway-authtype: custom
    x-amazon-apigateway-authorizer:
      type: token
      authorizerUri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:auth/invocations
      authorizerResultTtlInSeconds: 60
definitions:
  Pet:
    type: object
    required: [name]
    properties: {name: {type: string}}
x-amazon-apigateway-request-validators:
  all: {validateRequestBody: true, validateRequestParameters: true}
x-amazon-apigateway-binary-media-types: [image/png]
paths:
  /pets:
    post:
      x-amazon-apigateway-request-validator: all
      security: [{api_key: []}, {tok: []}]
      parameters:
        - {in: body, name: body, required: true, schema: {$ref: '#/definitions/Pet'}}
        - {in: query, name: dry, required: true, type: string}
      responses: {'200': {description: ok}}
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: {application/json: '{"statusCode": 200}'}
        responses: {default: {statusCode: '200'}}
"""


def test_swagger_import() -> None:
    ids = iter(f"id{i}" for i in range(100))
    d = import_openapi(load_document(SWAGGER), "api1", lambda: next(ids))
    post = d.paths["/pets"]["POST"]
    assert post["apiKeyRequired"] is True
    assert post["authorizationType"] == "CUSTOM"
    assert d.authorizers["tok"]["identitySource"] == "method.request.header.Authorization"
    assert d.authorizers["tok"]["authorizerResultTtlInSeconds"] == 60
    assert post["requestModels"] == {"application/json": "Pet"}
    assert post["requestParameters"] == {"method.request.querystring.dry": True}
    assert post["requestValidatorId"] == d.validators["all"]["id"]
    assert d.binary_media_types == ["image/png"]
    assert post["methodIntegration"]["type"] == "MOCK"
    assert json.loads(d.models["Pet"]["schema"])["required"] == ["name"]


def test_export_round_trip() -> None:
    ids = iter(f"id{i}" for i in range(100))
    d = import_openapi(load_document(SWAGGER), "api1", lambda: next(ids))
    resources = [{"id": "r1", "path": "/pets", "resourceMethods": d.paths["/pets"]}]
    out = export_openapi(
        {"id": "api1", "name": "pets"},
        resources,
        list(d.models.values()),
        list(d.authorizers.values()),
        list(d.validators.values()),
        [],
        stage="prod",
        base_url="http://h/prod",
        extensions=True,
    )
    again = import_openapi(out, "api1", lambda: next(ids))
    post = again.paths["/pets"]["POST"]
    assert post["requestModels"] == {"application/json": "Pet"}
    assert post["apiKeyRequired"] is True
    assert post["methodIntegration"]["type"] == "MOCK"


def test_http_api_import() -> None:
    doc = {
        "openapi": "3.0.1",
        "info": {"title": "h", "version": "1"},
        "x-amazon-apigateway-cors": {"allowOrigins": ["*"], "allowMethods": ["GET"]},
        "components": {
            "securitySchemes": {
                "jwt": {
                    "type": "oauth2",
                    "x-amazon-apigateway-authorizer": {
                        "type": "jwt",
                        "jwtConfiguration": {"issuer": "https://i", "audience": ["a"]},
                        "identitySource": "$request.header.Authorization",
                    },
                }
            }
        },
        "paths": {
            "/items/{id}": {
                "get": {
                    "security": [{"jwt": ["read"]}],
                    "x-amazon-apigateway-integration": {
                        "type": "aws_proxy",
                        "payloadFormatVersion": "2.0",
                        "uri": "arn:aws:lambda:us-east-1:000000000000:function:f",
                    },
                }
            }
        },
    }
    ids = iter(f"id{i}" for i in range(100))
    d = import_http_api(doc, lambda: next(ids))
    assert d.cors == {"AllowOrigins": ["*"], "AllowMethods": ["GET"]}
    (route,) = d.routes
    assert route["RouteKey"] == "GET /items/{id}"
    assert route["AuthorizationType"] == "JWT" and route["AuthorizationScopes"] == ["read"]
    (integ,) = d.integrations.values()
    assert integ["IntegrationType"] == "AWS_PROXY" and integ["PayloadFormatVersion"] == "2.0"


ACCESS_LOGS: list[tuple[str, str]] = [
    ("$context.requestId $context.status", "r1 200"),
    (
        '{"id": "$context.requestId", "ip": "$context.identity.sourceIp"}',
        '{"id": "r1", "ip": "1.2.3.4"}',
    ),
    ('{"msg": "$context.error.message"}', '{"msg": "say \\"hi\\""}'),
    ("$context.missing", "-"),
    ("${context.status}!", "200!"),
]


@pytest.mark.parametrize(("fmt", "expected"), ACCESS_LOGS)
def test_access_log_format(fmt: str, expected: str) -> None:
    from overcast.engines.apigw.accesslog import render_access_log

    ctx = {"requestId": "r1", "status": 200, "identity": {"sourceIp": "1.2.3.4"},
           "error": {"message": 'say "hi"'}}  # fmt: skip
    assert render_access_log(fmt, ctx) == expected
