"""HTTP API (apigatewayv2) data plane against the provider directly: payload 2.0 and 1.0
events, routing, CORS, JWT authorizers (local JWKS server), Lambda REQUEST authorizers."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from overcast.services.apigateway.v2.provider import ApiGatewayV2Provider
from tests.apigateway.helpers import CLOCK, FakeLambda, body_json, make_ctx, new_store, request, run
from tests.apigateway.test_engines import _jwks, make_token

CTX = make_ctx()


@pytest.fixture
def fake() -> FakeLambda:
    return FakeLambda()


@pytest.fixture
def v2(tmp_path: Path, fake: FakeLambda) -> ApiGatewayV2Provider:
    return ApiGatewayV2Provider(new_store(tmp_path), CLOCK, fake)  # type: ignore[arg-type]


def echo(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "body": json.dumps(event),
        "cookies": ["c=1"],
        "headers": {"content-type": "application/json"},
    }


def call(v2: ApiGatewayV2Provider, method: str, api_id: str, path: str, **kw: Any) -> Any:
    return run(v2.data_plane(request(method, f"/_aws/execute-api/{api_id}{path}", **kw)))


def test_quick_create_payload_v2(v2: ApiGatewayV2Provider, fake: FakeLambda) -> None:
    api = v2.create_api(CTX, {"Name": "q", "ProtocolType": "HTTP", "Target": fake.add("e", echo)})
    assert api["ApiEndpoint"] == f"http://{api['ApiId']}.execute-api.localhost:4566"
    r = call(
        v2,
        "POST",
        api["ApiId"],
        "/a/b?x=1&x=2",
        body='{"k":1}',
        headers={"Cookie": "s=1; t=2", "X-H": "v"},
    )
    assert r.status == 200 and r.header("set-cookie") == "c=1"
    ev = body_json(r)
    assert ev["version"] == "2.0" and ev["routeKey"] == "$default"
    assert ev["rawPath"] == "/a/b" and ev["rawQueryString"] == "x=1&x=2"
    assert ev["queryStringParameters"] == {"x": "1,2"}
    assert ev["cookies"] == ["s=1", "t=2"] and ev["headers"]["x-h"] == "v"
    assert ev["body"] == '{"k":1}' and ev["isBase64Encoded"] is False
    http = ev["requestContext"]["http"]
    assert http == {
        "method": "POST",
        "path": "/a/b",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "",
    }
    assert ev["requestContext"]["stage"] == "$default"
    assert v2.get_stage(CTX, {"ApiId": api["ApiId"], "StageName": "$default"})["AutoDeploy"]


def _api_with_routes(v2: ApiGatewayV2Provider, fake: FakeLambda, version: str = "2.0") -> str:
    api = v2.create_api(CTX, {"Name": "r", "ProtocolType": "HTTP"})["ApiId"]
    integ = v2.create_integration(
        CTX,
        {
            "ApiId": api,
            "IntegrationType": "AWS_PROXY",
            "IntegrationUri": fake.add("e", echo),
            "PayloadFormatVersion": version,
        },
    )
    for key in ("GET /items", "GET /items/{id}", "ANY /files/{proxy+}", "$default"):
        v2.create_route(
            CTX, {"ApiId": api, "RouteKey": key, "Target": f"integrations/{integ['IntegrationId']}"}
        )
    v2.create_stage(
        CTX, {"ApiId": api, "StageName": "prod", "AutoDeploy": True, "StageVariables": {"env": "p"}}
    )
    return api


@pytest.mark.parametrize(
    ("method", "path", "route", "params"),
    [
        ("GET", "/prod/items", "GET /items", None),
        ("GET", "/prod/items/7", "GET /items/{id}", {"id": "7"}),
        ("DELETE", "/prod/files/a/b", "ANY /files/{proxy+}", {"proxy": "a/b"}),
        ("POST", "/prod/items", "$default", None),
        ("GET", "/prod/other", "$default", None),
    ],
)
def test_route_selection(
    v2: ApiGatewayV2Provider,
    fake: FakeLambda,
    method: str,
    path: str,
    route: str,
    params: dict[str, str] | None,
) -> None:
    api = _api_with_routes(v2, fake)
    ev = body_json(call(v2, method, api, path))
    assert ev["routeKey"] == route and ev.get("pathParameters") == params
    assert ev["stageVariables"] == {"env": "p"}
    assert ev["rawPath"] == path


def test_http_api_decodes_the_path(v2: ApiGatewayV2Provider, fake: FakeLambda) -> None:
    api = _api_with_routes(v2, fake)
    ev = body_json(call(v2, "GET", api, "/prod/items/a%20b"))
    assert ev["rawPath"] == "/prod/items/a b" and ev["pathParameters"] == {"id": "a b"}


def test_payload_v1(v2: ApiGatewayV2Provider, fake: FakeLambda) -> None:
    api = _api_with_routes(v2, fake, version="1.0")
    ev = body_json(call(v2, "GET", api, "/prod/items/3?q=1"))
    assert ev["resource"] == "/items/{id}" and ev["path"] == "/items/3"
    assert ev["pathParameters"] == {"id": "3"} and ev["queryStringParameters"] == {"q": "1"}


def test_unknown_stage_and_errors(v2: ApiGatewayV2Provider, fake: FakeLambda) -> None:
    api = v2.create_api(CTX, {"Name": "x", "ProtocolType": "HTTP"})["ApiId"]
    assert body_json(call(v2, "GET", api, "/prod/x")) == {"message": "Not Found"}

    def bad(e: Any) -> Any:
        raise RuntimeError("x")

    api2 = v2.create_api(CTX, {"Name": "q", "ProtocolType": "HTTP", "Target": fake.add("b", bad)})
    r = call(v2, "GET", api2["ApiId"], "/")
    assert (r.status, body_json(r)) == (500, {"message": "Internal Server Error"})


def test_cors(v2: ApiGatewayV2Provider, fake: FakeLambda) -> None:
    api = v2.create_api(
        CTX,
        {
            "Name": "c",
            "ProtocolType": "HTTP",
            "Target": fake.add("e", echo),
            "CorsConfiguration": {
                "AllowOrigins": ["https://a.example"],
                "AllowMethods": ["GET", "POST"],
                "AllowHeaders": ["authorization"],
                "MaxAge": 60,
            },
        },
    )["ApiId"]
    pre = call(
        v2,
        "OPTIONS",
        api,
        "/x",
        headers={"Origin": "https://a.example", "Access-Control-Request-Method": "POST"},
    )
    assert pre.status == 204
    assert pre.header("access-control-allow-origin") == "https://a.example"
    assert pre.header("access-control-allow-methods") == "GET,POST"
    assert pre.header("access-control-max-age") == "60"
    r = call(v2, "GET", api, "/x", headers={"Origin": "https://a.example"})
    assert r.header("access-control-allow-origin") == "https://a.example"
    r = call(v2, "GET", api, "/x", headers={"Origin": "https://evil.example"})
    assert r.header("access-control-allow-origin") is None


def test_throttling(v2: ApiGatewayV2Provider, fake: FakeLambda) -> None:
    api = v2.create_api(CTX, {"Name": "t", "ProtocolType": "HTTP", "Target": fake.add("e", echo)})
    v2.update_stage(
        CTX,
        {
            "ApiId": api["ApiId"],
            "StageName": "$default",
            "DefaultRouteSettings": {"ThrottlingBurstLimit": 1, "ThrottlingRateLimit": 0.001},
        },
    )
    assert call(v2, "GET", api["ApiId"], "/").status == 200
    r = call(v2, "GET", api["ApiId"], "/")
    assert (r.status, body_json(r)) == (429, {"message": "Too Many Requests"})


class _Issuer(http.server.BaseHTTPRequestHandler):
    base = ""

    def do_GET(self) -> None:
        if self.path == "/.well-known/openid-configuration":
            out = {"issuer": self.base, "jwks_uri": self.base + "/keys"}
        elif self.path == "/keys":
            out = _jwks()
        else:
            self.send_response(404)
            self.end_headers()
            return
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Issuer)
    _Issuer.base = f"http://127.0.0.1:{srv.server_address[1]}"
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield _Issuer.base
    srv.shutdown()


def test_jwt_authorizer(v2: ApiGatewayV2Provider, fake: FakeLambda, issuer: str) -> None:
    api = v2.create_api(CTX, {"Name": "j", "ProtocolType": "HTTP"})["ApiId"]
    integ = v2.create_integration(
        CTX,
        {
            "ApiId": api,
            "IntegrationType": "AWS_PROXY",
            "IntegrationUri": fake.add("e", echo),
            "PayloadFormatVersion": "2.0",
        },
    )
    auth = v2.create_authorizer(
        CTX,
        {
            "ApiId": api,
            "AuthorizerType": "JWT",
            "Name": "j",
            "IdentitySource": ["$request.header.Authorization"],
            "JwtConfiguration": {"Issuer": issuer, "Audience": ["app"]},
        },
    )
    v2.create_route(
        CTX,
        {
            "ApiId": api,
            "RouteKey": "GET /me",
            "AuthorizationType": "JWT",
            "AuthorizerId": auth["AuthorizerId"],
            "AuthorizationScopes": ["read"],
            "Target": f"integrations/{integ['IntegrationId']}",
        },
    )
    v2.create_stage(CTX, {"ApiId": api, "StageName": "$default", "AutoDeploy": True})
    claims = {"iss": issuer, "aud": "app", "sub": "u1", "exp": time.time() + 60, "scope": "read"}
    assert call(v2, "GET", api, "/me").status == 401
    bad = make_token({**claims, "aud": "other"})
    assert call(v2, "GET", api, "/me", headers={"Authorization": f"Bearer {bad}"}).status == 401
    no_scope = make_token({**claims, "scope": "write"})
    assert call(v2, "GET", api, "/me", headers={"Authorization": no_scope}).status == 403
    r = call(v2, "GET", api, "/me", headers={"Authorization": f"Bearer {make_token(claims)}"})
    assert r.status == 200
    jwt_ctx = body_json(r)["requestContext"]["authorizer"]["jwt"]
    assert jwt_ctx["claims"]["sub"] == "u1" and jwt_ctx["scopes"] == ["read"]


@pytest.mark.parametrize("simple", [True, False])
def test_lambda_request_authorizer(
    v2: ApiGatewayV2Provider, fake: FakeLambda, simple: bool
) -> None:
    def authz(event: dict[str, Any]) -> dict[str, Any]:
        ok = event["headers"].get("x-token") == "yes"
        if simple:
            return {"isAuthorized": ok, "context": {"who": "me"}}
        return {
            "principalId": "p",
            "context": {"who": "me"},
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow" if ok else "Deny",
                        "Action": "execute-api:Invoke",
                        "Resource": event["routeArn"],
                    }
                ],
            },
        }

    api = v2.create_api(CTX, {"Name": "l", "ProtocolType": "HTTP"})["ApiId"]
    integ = v2.create_integration(
        CTX,
        {
            "ApiId": api,
            "IntegrationType": "AWS_PROXY",
            "IntegrationUri": fake.add("e", echo),
            "PayloadFormatVersion": "2.0",
        },
    )
    auth = v2.create_authorizer(
        CTX,
        {
            "ApiId": api,
            "AuthorizerType": "REQUEST",
            "Name": "l",
            "AuthorizerUri": fake.add("a", authz),
            "AuthorizerPayloadFormatVersion": "2.0",
            "EnableSimpleResponses": simple,
            "IdentitySource": ["$request.header.x-token"],
        },
    )
    v2.create_route(
        CTX,
        {
            "ApiId": api,
            "RouteKey": "GET /x",
            "AuthorizationType": "CUSTOM",
            "AuthorizerId": auth["AuthorizerId"],
            "Target": f"integrations/{integ['IntegrationId']}",
        },
    )
    v2.create_stage(CTX, {"ApiId": api, "StageName": "$default", "AutoDeploy": True})
    assert call(v2, "GET", api, "/x").status == 401
    assert call(v2, "GET", api, "/x", headers={"x-token": "no"}).status == 403
    r = call(v2, "GET", api, "/x", headers={"x-token": "yes"})
    assert r.status == 200
    assert body_json(r)["requestContext"]["authorizer"]["lambda"]["who"] == "me"


def test_import_export_reimport(v2: ApiGatewayV2Provider, fake: FakeLambda) -> None:
    arn = fake.add("e", echo)
    doc = {
        "openapi": "3.0.1",
        "info": {"title": "imp", "version": "1"},
        "paths": {
            "/hello": {
                "get": {
                    "x-amazon-apigateway-integration": {
                        "type": "aws_proxy",
                        "uri": arn,
                        "payloadFormatVersion": "2.0",
                    }
                }
            }
        },
    }
    api = v2.import_api(CTX, {"Body": json.dumps(doc)})
    assert api["Name"] == "imp"
    routes = v2.get_routes(CTX, {"ApiId": api["ApiId"]})["Items"]
    assert [r["RouteKey"] for r in routes] == ["GET /hello"]
    v2.create_stage(CTX, {"ApiId": api["ApiId"], "StageName": "$default", "AutoDeploy": True})
    assert call(v2, "GET", api["ApiId"], "/hello").status == 200
    out = json.loads(
        v2.export_api(CTX, {"ApiId": api["ApiId"], "Specification": "OAS30", "OutputType": "JSON"})[
            "body"
        ]
    )
    assert out["paths"]["/hello"]["get"]["x-amazon-apigateway-integration"]["uri"] == arn
    doc["paths"] = {"/bye": doc["paths"]["/hello"]}
    v2.reimport_api(CTX, {"ApiId": api["ApiId"], "Body": json.dumps(doc)})
    assert call(v2, "GET", api["ApiId"], "/hello").status == 404
    assert call(v2, "GET", api["ApiId"], "/bye").status == 200


@pytest.fixture(scope="module")
def backend() -> Iterator[str]:
    from tests.apigateway.test_rest_dataplane import _Backend

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Backend)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def test_http_proxy_parameter_mapping(v2: ApiGatewayV2Provider, backend: str) -> None:
    api = v2.create_api(CTX, {"Name": "m", "ProtocolType": "HTTP"})["ApiId"]
    integ = v2.create_integration(CTX, {
        "ApiId": api, "IntegrationType": "HTTP_PROXY", "IntegrationMethod": "ANY",
        "IntegrationUri": backend + "/base/{proxy}", "PayloadFormatVersion": "1.0",
        "RequestParameters": {
            "overwrite:header.x-extra": "id:$request.querystring.id:$stageVariables.tag",
            "remove:querystring.drop": "''",
            "append:querystring.stage": "$context.stage",
        },
        "ResponseParameters": {"200": {"overwrite:statuscode": "203",
                                       "append:header.x-method": "$response.body.method"}},
    })  # fmt: skip
    v2.create_route(CTX, {"ApiId": api, "RouteKey": "ANY /svc/{proxy+}",
                          "Target": f"integrations/{integ['IntegrationId']}"})  # fmt: skip
    v2.create_stage(CTX, {"ApiId": api, "StageName": "$default", "AutoDeploy": True,
                          "StageVariables": {"tag": "t1"}})  # fmt: skip
    r = call(v2, "GET", api, "/svc/a/b?id=9&drop=1")
    assert r.status == 203 and r.header("x-method") == "GET"
    seen = body_json(r)
    assert seen["x"] == "id:9:t1"
    assert seen["path"] == "/base/a/b?id=9&stage=%24default"


def test_sqs_service_integration(v2: ApiGatewayV2Provider, fake: FakeLambda) -> None:
    sent: list[dict[str, Any]] = []

    def send(params: dict[str, Any]) -> dict[str, Any]:
        sent.append(params)
        return {"MessageId": "m-1", "MD5OfMessageBody": "x"}

    fake.services[("sqs", "SendMessage")] = send
    api = v2.create_api(CTX, {"Name": "s", "ProtocolType": "HTTP"})["ApiId"]
    integ = v2.create_integration(CTX, {
        "ApiId": api, "IntegrationType": "AWS_PROXY", "IntegrationSubtype": "SQS-SendMessage",
        "PayloadFormatVersion": "1.0",
        "RequestParameters": {"QueueUrl": "$request.header.x-queue",
                              "MessageBody": "$request.body.message", "DelaySeconds": "0"},
    })  # fmt: skip
    v2.create_route(CTX, {"ApiId": api, "RouteKey": "POST /send",
                          "Target": f"integrations/{integ['IntegrationId']}"})  # fmt: skip
    v2.create_stage(CTX, {"ApiId": api, "StageName": "$default", "AutoDeploy": True})
    r = call(v2, "POST", api, "/send", body='{"message": "hello"}', headers={"x-queue": "q-url"})
    assert (r.status, body_json(r)["MessageId"]) == (200, "m-1")
    assert sent == [{"QueueUrl": "q-url", "MessageBody": "hello", "DelaySeconds": 0}]
