"""REST API data plane against the provider directly, with a fake Lambda and a local HTTP
backend: proxy events, response mapping, validation, API keys, authorizers, VTL, MOCK, HTTP."""

from __future__ import annotations

import asyncio
import base64
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from overcast.services.apigateway.v1.provider import ApiGatewayProvider
from tests.apigateway.helpers import (
    CLOCK,
    FakeLambda,
    body_json,
    lambda_uri,
    make_ctx,
    new_store,
    request,
    run,
)

CTX = make_ctx()


@pytest.fixture
def fake() -> FakeLambda:
    return FakeLambda()


@pytest.fixture
def gw(tmp_path: Path, fake: FakeLambda) -> ApiGatewayProvider:
    return ApiGatewayProvider(new_store(tmp_path), CLOCK, fake)  # type: ignore[arg-type]


class _Backend(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        status = 404 if self.path.startswith("/missing") else 200
        out = json.dumps(
            {
                "method": self.command,
                "path": self.path,
                "body": body.decode(),
                "x": self.headers.get("x-extra"),
            }
        ).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("x-backend", "yes")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def backend() -> Iterator[str]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Backend)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def deploy(
    gw: ApiGatewayProvider,
    spec: dict[str, Any],
    stage: str = "prod",
    variables: dict[str, str] | None = None,
) -> str:
    api = gw.import_rest_api(CTX, {"body": json.dumps(spec).encode()})
    gw.create_deployment(
        CTX, {"restApiId": api["id"], "stageName": stage, "variables": variables or {}}
    )
    return str(api["id"])


def call(gw: ApiGatewayProvider, method: str, api_id: str, path: str, **kw: Any) -> Any:
    return run(gw.data_plane(request(method, f"/_aws/execute-api/{api_id}/{path}", **kw)))


def spec(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"openapi": "3.0.1", "info": {"title": "t", "version": "1"}, "paths": paths, **extra}


def proxy(arn: str) -> dict[str, Any]:
    return {"type": "aws_proxy", "httpMethod": "POST", "uri": lambda_uri(arn)}


def echo(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(event),
    }


# -- Lambda proxy ----------------------------------------------------------------------------------


def test_proxy_event_fields(gw: ApiGatewayProvider, fake: FakeLambda) -> None:
    arn = fake.add("echo", echo)
    api = deploy(
        gw,
        spec({"/items/{id}": {"post": {"x-amazon-apigateway-integration": proxy(arn)}}}),
        variables={"env": "test"},
    )
    resp = call(
        gw,
        "POST",
        api,
        "prod/items/a%20b?q=1&q=2&x=y",
        body='{"k": 1}',
        headers={"X-Multi": "v", "User-Agent": "ua/1"},
    )
    assert resp.status == 200
    ev = body_json(resp)
    assert ev["resource"] == "/items/{id}"
    assert ev["path"] == "/items/a%20b"
    assert ev["httpMethod"] == "POST"
    assert ev["pathParameters"] == {"id": "a%20b"}
    assert ev["queryStringParameters"] == {"q": "2", "x": "y"}
    assert ev["multiValueQueryStringParameters"] == {"q": ["1", "2"], "x": ["y"]}
    assert ev["headers"]["x-multi"] == "v" and ev["multiValueHeaders"]["x-multi"] == ["v"]
    assert ev["stageVariables"] == {"env": "test"}
    assert ev["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert ev["headers"]["X-Amzn-Trace-Id"].startswith("Root=1-")
    assert ev["body"] == '{"k": 1}' and ev["isBase64Encoded"] is False
    rc = ev["requestContext"]
    assert rc["apiId"] == api and rc["stage"] == "prod" and rc["accountId"] == "000000000000"
    assert rc["resourcePath"] == "/items/{id}" and rc["httpMethod"] == "POST"
    assert rc["identity"]["sourceIp"] == "127.0.0.1" and rc["identity"]["userAgent"] == "ua/1"
    assert rc["path"] == "/prod/items/a%20b" and isinstance(rc["requestTimeEpoch"], int)
    assert rc["requestId"] and rc["domainName"].endswith(".execute-api.localhost")


def test_proxy_host_form(gw: ApiGatewayProvider, fake: FakeLambda) -> None:
    arn = fake.add("echo", echo)
    api = deploy(gw, spec({"/": {"get": {"x-amazon-apigateway-integration": proxy(arn)}}}))
    req = request("GET", "/prod/")
    req.headers["host"] = f"{api}.execute-api.localhost:4566"
    resp = run(gw.data_plane(req))
    assert resp.status == 200 and body_json(resp)["path"] == "/"


@pytest.mark.parametrize("result", [{"body": "no status"}, "text", {"statusCode": 200, "body": 5}])
def test_malformed_proxy_response_is_502(
    gw: ApiGatewayProvider, fake: FakeLambda, result: Any
) -> None:
    arn = fake.add("bad", lambda e: result)
    api = deploy(gw, spec({"/": {"get": {"x-amazon-apigateway-integration": proxy(arn)}}}))
    resp = call(gw, "GET", api, "prod/")
    assert (resp.status, body_json(resp)) == (502, {"message": "Internal server error"})


def test_function_error_is_502(gw: ApiGatewayProvider, fake: FakeLambda) -> None:
    def boom(e: Any) -> Any:
        raise RuntimeError("boom")

    arn = fake.add("boom", boom)
    api = deploy(gw, spec({"/": {"get": {"x-amazon-apigateway-integration": proxy(arn)}}}))
    assert call(gw, "GET", api, "prod/").status == 502


def test_unknown_route_stage_and_method(gw: ApiGatewayProvider, fake: FakeLambda) -> None:
    arn = fake.add("echo", echo)
    api = deploy(gw, spec({"/a": {"get": {"x-amazon-apigateway-integration": proxy(arn)}}}))
    r = call(gw, "GET", api, "prod/b")
    assert (r.status, body_json(r)) == (403, {"message": "Missing Authentication Token"})
    assert call(gw, "POST", api, "prod/a").status == 403
    r = call(gw, "GET", api, "dev/a")
    assert (r.status, body_json(r)) == (403, {"message": "Forbidden"})
    assert run(gw.data_plane(request("GET", "/_aws/execute-api/unknown/prod/a"))) is None


def test_binary_media_types(gw: ApiGatewayProvider, fake: FakeLambda) -> None:
    def img(event: dict[str, Any]) -> dict[str, Any]:
        assert event["isBase64Encoded"] is True
        raw = base64.b64decode(event["body"])
        return {
            "statusCode": 200,
            "headers": {"content-type": "image/png"},
            "body": base64.b64encode(raw[::-1]).decode(),
            "isBase64Encoded": True,
        }

    arn = fake.add("img", img)
    api = deploy(
        gw,
        spec(
            {"/img": {"post": {"x-amazon-apigateway-integration": proxy(arn)}}},
            **{"x-amazon-apigateway-binary-media-types": ["image/*"]},
        ),
    )
    resp = call(
        gw,
        "POST",
        api,
        "prod/img",
        body=b"\x01\x02\xff",
        headers={"content-type": "image/png", "accept": "image/png"},
    )
    assert resp.status == 200 and resp.body == b"\xff\x02\x01"


def test_payload_limit_413(gw: ApiGatewayProvider, fake: FakeLambda) -> None:
    arn = fake.add("echo", echo)
    api = deploy(gw, spec({"/": {"post": {"x-amazon-apigateway-integration": proxy(arn)}}}))
    assert call(gw, "POST", api, "prod/", body=b"x" * (10 * 1024 * 1024 + 1)).status == 413


def test_integration_timeout_504(gw: ApiGatewayProvider, fake: FakeLambda) -> None:
    async def slow(e: Any) -> Any:
        await asyncio.sleep(1)
        return {"statusCode": 200}

    arn = fake.add("slow", slow)
    integ = {**proxy(arn), "timeoutInMillis": 50}
    api = deploy(gw, spec({"/": {"get": {"x-amazon-apigateway-integration": integ}}}))
    r = call(gw, "GET", api, "prod/")
    assert (r.status, body_json(r)) == (504, {"message": "Endpoint request timed out"})


# -- validation and gateway responses ----------------------------------------------------------

VALIDATED = spec(
    {
        "/p": {
            "post": {
                "x-amazon-apigateway-request-validator": "all",
                "parameters": [{"name": "cat", "in": "query", "required": True}],
                "requestBody": {
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/P"}}}
                },
                "x-amazon-apigateway-integration": {
                    "type": "mock",
                    "requestTemplates": {"application/json": '{"statusCode": 200}'},
                    "responses": {
                        "default": {
                            "statusCode": "200",
                            "responseTemplates": {"application/json": '{"ok": true}'},
                        }
                    },
                },
            }
        }
    },
    components={
        "schemas": {
            "P": {
                "type": "object",
                "required": ["name", "price"],
                "properties": {
                    "name": {"type": "string"},
                    "price": {"type": "number", "minimum": 0},
                    "tag": {"$ref": "#/components/schemas/Tag"},
                },
            },
            "Tag": {"type": "string", "enum": ["a", "b"]},
        }
    },
    **{
        "x-amazon-apigateway-request-validators": {
            "all": {"validateRequestBody": True, "validateRequestParameters": True}
        }
    },
)


@pytest.mark.parametrize(
    ("query", "body", "status", "message"),
    [
        ("cat=x", '{"name": "n", "price": 1}', 200, None),
        ("cat=x", '{"name": "n", "price": 1, "tag": "a"}', 200, None),
        ("", '{"name": "n", "price": 1}', 400, "Missing required request parameters: [cat]"),
        ("cat=x", '{"name": "n"}', 400, "Invalid request body"),
        ("cat=x", '{"name": "n", "price": -1}', 400, "Invalid request body"),
        ("cat=x", '{"name": "n", "price": 1, "tag": "zz"}', 400, "Invalid request body"),
        ("cat=x", "not json", 400, "Invalid request body"),
    ],
)
def test_request_validation(
    gw: ApiGatewayProvider, query: str, body: str, status: int, message: str | None
) -> None:
    api = deploy(gw, VALIDATED)
    resp = call(
        gw, "POST", api, f"prod/p?{query}", body=body, headers={"content-type": "application/json"}
    )
    assert resp.status == status
    if message:
        assert body_json(resp) == {"message": message}
    else:
        assert body_json(resp) == {"ok": True}


def test_custom_gateway_response(gw: ApiGatewayProvider) -> None:
    custom = {
        **VALIDATED,
        "x-amazon-apigateway-gateway-responses": {
            "BAD_REQUEST_BODY": {
                "statusCode": 422,
                "responseParameters": {"gatewayresponse.header.x-why": "'schema'"},
                "responseTemplates": {"application/json": '{"error": "Invalid request body"}'},
            }
        },
    }
    api = deploy(gw, custom)
    resp = call(gw, "POST", api, "prod/p?cat=x", body="{}")
    assert (resp.status, body_json(resp)) == (422, {"error": "Invalid request body"})
    assert resp.header("x-why") == "schema"
    gw.put_gateway_response(
        CTX,
        {
            "restApiId": api,
            "responseType": "MISSING_AUTHENTICATION_TOKEN",
            "statusCode": "404",
            "responseTemplates": {"application/json": '{"nope": "$context.error.message"}'},
        },
    )
    gw.create_deployment(CTX, {"restApiId": api, "stageName": "prod"})
    resp = call(gw, "GET", api, "prod/zzz")
    assert (resp.status, body_json(resp)) == (404, {"nope": "Missing Authentication Token"})


# -- API keys and usage plans --------------------------------------------------------------------


def test_api_keys_and_quota(gw: ApiGatewayProvider, fake: FakeLambda) -> None:
    arn = fake.add("echo", echo)
    api = deploy(
        gw,
        spec(
            {
                "/k": {
                    "get": {
                        "security": [{"key": []}],
                        "x-amazon-apigateway-integration": proxy(arn),
                    }
                }
            },
            components={
                "securitySchemes": {"key": {"type": "apiKey", "name": "x-api-key", "in": "header"}}
            },
        ),
    )
    assert body_json(call(gw, "GET", api, "prod/k")) == {"message": "Forbidden"}
    key = gw.create_api_key(CTX, {"name": "k", "enabled": True})
    hdr = {"x-api-key": key["value"]}
    assert call(gw, "GET", api, "prod/k", headers=hdr).status == 403  # not in a usage plan yet
    plan = gw.create_usage_plan(
        CTX,
        {
            "name": "p",
            "apiStages": [{"apiId": api, "stage": "prod"}],
            "quota": {"limit": 2, "period": "DAY"},
        },
    )
    gw.create_usage_plan_key(
        CTX, {"usagePlanId": plan["id"], "keyId": key["id"], "keyType": "API_KEY"}
    )
    first = call(gw, "GET", api, "prod/k", headers=hdr)
    assert first.status == 200
    ident = body_json(first)["requestContext"]["identity"]
    assert ident["apiKey"] == key["value"] and ident["apiKeyId"] == key["id"]
    assert call(gw, "GET", api, "prod/k", headers=hdr).status == 200
    r = call(gw, "GET", api, "prod/k", headers=hdr)
    assert (r.status, body_json(r)) == (429, {"message": "Limit Exceeded"})
    assert call(gw, "GET", api, "prod/k", headers={"x-api-key": "wrong" * 5}).status == 403
    day = __import__("datetime").datetime.now(__import__("datetime").UTC).date().isoformat()
    usage = gw.get_usage(CTX, {"usagePlanId": plan["id"], "startDate": day, "endDate": day})
    assert usage["items"][key["id"]] == [[2, 0]]
    gw.update_api_key(
        CTX,
        {
            "apiKey": key["id"],
            "patchOperations": [{"op": "replace", "path": "/enabled", "value": "false"}],
        },
    )
    assert call(gw, "GET", api, "prod/k", headers=hdr).status == 403


def test_stage_throttling(gw: ApiGatewayProvider, fake: FakeLambda) -> None:
    arn = fake.add("echo", echo)
    api = deploy(gw, spec({"/t": {"get": {"x-amazon-apigateway-integration": proxy(arn)}}}))
    gw.update_stage(
        CTX,
        {
            "restApiId": api,
            "stageName": "prod",
            "patchOperations": [
                {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "1"},
                {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "0.001"},
            ],
        },
    )
    assert call(gw, "GET", api, "prod/t").status == 200
    r = call(gw, "GET", api, "prod/t")
    assert (r.status, body_json(r)) == (429, {"message": "Too Many Requests"})


# -- Lambda authorizers ------------------------------------------------------------------------


def policy_for(effect: str, principal: str = "user-1") -> dict[str, Any]:
    return {
        "principalId": principal,
        "context": {"tier": "gold", "n": 3},
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": effect,
                    "Action": "execute-api:Invoke",
                    "Resource": "arn:aws:execute-api:*:*:*/prod/GET/*",
                }
            ],
        },
    }


def token_auth(event: dict[str, Any]) -> dict[str, Any]:
    token = event["authorizationToken"]
    if token == "boom":
        raise RuntimeError("Unauthorized")
    return policy_for("Allow" if token == "allow" else "Deny")


def auth_spec(
    arn_fn: str, arn_auth: str, kind: str = "token", ttl: int = 300, source: str | None = None
) -> dict[str, Any]:
    ext: dict[str, Any] = {
        "type": kind,
        "authorizerUri": lambda_uri(arn_auth),
        "authorizerResultTtlInSeconds": ttl,
    }
    if source:
        ext["identitySource"] = source
    return spec(
        {
            "/s": {
                "get": {
                    "security": [{"auth": []}],
                    "x-amazon-apigateway-integration": proxy(arn_fn),
                }
            }
        },
        components={
            "securitySchemes": {
                "auth": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "x-amazon-apigateway-authtype": "custom",
                    "x-amazon-apigateway-authorizer": ext,
                }
            }
        },
    )


def test_token_authorizer(gw: ApiGatewayProvider, fake: FakeLambda) -> None:
    api = deploy(gw, auth_spec(fake.add("echo", echo), fake.add("auth", token_auth)))
    r = call(gw, "GET", api, "prod/s")
    assert (r.status, body_json(r)) == (401, {"message": "Unauthorized"})
    r = call(gw, "GET", api, "prod/s", headers={"Authorization": "deny"})
    assert r.status == 403
    assert "explicit deny" in body_json(r)["Message"]
    r = call(gw, "GET", api, "prod/s", headers={"Authorization": "allow"})
    assert r.status == 200
    auth = body_json(r)["requestContext"]["authorizer"]
    assert auth["principalId"] == "user-1" and auth["tier"] == "gold" and auth["n"] == 3
    assert call(gw, "GET", api, "prod/s", headers={"Authorization": "boom"}).status == 401
    # Results are cached by token for the TTL: "allow" twice = one authorizer call.
    call(gw, "GET", api, "prod/s", headers={"Authorization": "allow"})
    assert [e["authorizationToken"] for n, e in fake.events if n == "auth"].count("allow") == 1


def test_request_authorizer(gw: ApiGatewayProvider, fake: FakeLambda) -> None:
    def req_auth(event: dict[str, Any]) -> dict[str, Any]:
        assert event["type"] == "REQUEST" and event["methodArn"].endswith("/prod/GET/s")
        ok = event["queryStringParameters"].get("key") == "good"
        return policy_for("Allow" if ok else "Deny", principal="req")

    api = deploy(
        gw,
        auth_spec(
            fake.add("echo", echo),
            fake.add("rauth", req_auth),
            kind="request",
            ttl=0,
            source="method.request.querystring.key",
        ),
    )
    assert call(gw, "GET", api, "prod/s?key=bad").status == 403
    r = call(gw, "GET", api, "prod/s?key=good")
    assert r.status == 200
    assert body_json(r)["requestContext"]["authorizer"]["principalId"] == "req"


# -- MOCK, HTTP, AWS (VTL) -----------------------------------------------------------------------


def test_mock_with_templates(gw: ApiGatewayProvider) -> None:
    integ = {
        "type": "mock",
        "requestTemplates": {
            "application/json": '#if($input.params("fail") == "1"){"statusCode": 500}'
            '#{else}{"statusCode": 200}#end'
        },
        "responses": {
            "5\\d\\d": {
                "statusCode": "500",
                "responseTemplates": {"application/json": '{"failed": true}'},
            },
            "default": {
                "statusCode": "200",
                "responseParameters": {"method.response.header.x-stage": "'s'"},
                "responseTemplates": {"application/json": '{"stage": "$context.stage"}'},
            },
        },
    }
    api = deploy(
        gw,
        spec(
            {
                "/m": {
                    "get": {
                        "responses": {"200": {"description": "ok"}, "500": {"description": "no"}},
                        "x-amazon-apigateway-integration": integ,
                    }
                }
            }
        ),
    )
    r = call(gw, "GET", api, "prod/m")
    assert (r.status, body_json(r), r.header("x-stage")) == (200, {"stage": "prod"}, "s")
    r = call(gw, "GET", api, "prod/m?fail=1")
    assert (r.status, body_json(r)) == (500, {"failed": True})


def test_http_proxy_integration(gw: ApiGatewayProvider, backend: str) -> None:
    integ = {
        "type": "http_proxy",
        "httpMethod": "ANY",
        "uri": backend + "/up/{proxy}",
        "requestParameters": {"integration.request.path.proxy": "method.request.path.proxy"},
    }
    api = deploy(
        gw,
        spec(
            {
                "/{proxy+}": {
                    "x-amazon-apigateway-any-method": {
                        "parameters": [{"name": "proxy", "in": "path", "required": True}],
                        "x-amazon-apigateway-integration": integ,
                    }
                }
            }
        ),
    )
    r = call(gw, "PUT", api, "prod/a/b%20c?z=1", body="data", headers={"x-extra": "e"})
    assert r.status == 200
    assert body_json(r) == {"method": "PUT", "path": "/up/a/b%20c?z=1", "body": "data", "x": "e"}
    assert r.header("x-backend") == "yes"


def test_http_integration_with_mapping(gw: ApiGatewayProvider, backend: str) -> None:
    integ = {
        "type": "http",
        "httpMethod": "POST",
        "uri": backend + "/items/{id}",
        "requestParameters": {
            "integration.request.path.id": "method.request.path.id",
            "integration.request.header.x-extra": "'fixed'",
        },
        "requestTemplates": {"application/json": '{"wrapped": $input.json("$")}'},
        "responses": {
            "404": {
                "statusCode": "404",
                "responseTemplates": {"application/json": '{"missing": true}'},
            },
            "default": {
                "statusCode": "200",
                "responseParameters": {
                    "method.response.header.x-from": "integration.response.header.x-backend"
                },
                "responseTemplates": {"application/json": '{"sent": $input.json("$.body")}'},
            },
        },
    }
    api = deploy(
        gw,
        spec(
            {
                "/items/{id}": {
                    "post": {
                        "responses": {"200": {"description": "ok"}, "404": {"description": "nf"}},
                        "x-amazon-apigateway-integration": integ,
                    }
                }
            }
        ),
    )
    r = call(gw, "POST", api, "prod/items/9", body='{"a": 1}')
    assert r.status == 200 and r.header("x-from") == "yes"
    assert json.loads(body_json(r)["sent"]) == {"wrapped": {"a": 1}}


def test_aws_lambda_integration_with_vtl(gw: ApiGatewayProvider, fake: FakeLambda) -> None:
    def add(event: dict[str, Any]) -> Any:
        if event["a"] < 0:
            raise ValueError("Negative: not allowed")
        return {"sum": event["a"] + event["b"], "who": event["who"]}

    arn = fake.add("add", add)
    integ = {
        "type": "aws",
        "httpMethod": "POST",
        "uri": lambda_uri(arn),
        "requestTemplates": {
            "application/json": '{"a": $input.path("$.a"), "b": $input.params("b"), '
            '"who": "$util.escapeJavaScript($input.params(\'who\'))"}'
        },
        "responses": {
            "Negative.*": {
                "statusCode": "400",
                "responseTemplates": {
                    "application/json": '{"error": "$util.escapeJavaScript($input.path(\'$.errorMessage\'))"}'
                },
            },
            "default": {
                "statusCode": "200",
                "responseTemplates": {
                    "application/json": '{"result": $input.path("$.sum"), "who": "$input.path(\'$.who\')"}'
                },
            },
        },
    }
    api = deploy(
        gw,
        spec(
            {
                "/add": {
                    "post": {
                        "responses": {"200": {"description": "ok"}, "400": {"description": "bad"}},
                        "x-amazon-apigateway-integration": integ,
                    }
                }
            }
        ),
    )
    r = call(gw, "POST", api, "prod/add?b=2&who=Ann", body='{"a": 40}')
    assert (r.status, body_json(r)) == (200, {"result": 42, "who": "Ann"})
    r = call(gw, "POST", api, "prod/add?b=2&who=x", body='{"a": -1}')
    assert (r.status, body_json(r)) == (400, {"error": "Negative: not allowed"})


# -- control plane details -----------------------------------------------------------------------


def test_put_rest_api_merge_and_overwrite(gw: ApiGatewayProvider, fake: FakeLambda) -> None:
    arn = fake.add("echo", echo)
    api = deploy(gw, spec({"/a": {"get": {"x-amazon-apigateway-integration": proxy(arn)}}}))
    body = json.dumps(spec({"/b": {"get": {"x-amazon-apigateway-integration": proxy(arn)}}}))
    gw.put_rest_api(CTX, {"restApiId": api, "mode": "merge", "body": body.encode()})
    paths = {r["path"] for r in gw.get_resources(CTX, {"restApiId": api})["items"]}
    assert paths == {"/", "/a", "/b"}
    gw.put_rest_api(CTX, {"restApiId": api, "mode": "overwrite", "body": body.encode()})
    paths = {r["path"] for r in gw.get_resources(CTX, {"restApiId": api})["items"]}
    assert paths == {"/", "/b"}
    # The stage still serves its deployment until redeployed.
    assert call(gw, "GET", api, "prod/a").status == 200
    gw.create_deployment(CTX, {"restApiId": api, "stageName": "prod"})
    assert call(gw, "GET", api, "prod/a").status == 403


def test_export_yaml_reimports(gw: ApiGatewayProvider) -> None:
    api = deploy(gw, VALIDATED)
    out = gw.get_export(
        CTX,
        {
            "restApiId": api,
            "stageName": "prod",
            "exportType": "swagger",
            "accepts": "application/yaml",
            "parameters": {"extensions": "integrations"},
        },
    )
    assert out["contentType"] == "application/yaml"
    again = gw.import_rest_api(CTX, {"body": out["body"]})
    gw.create_deployment(CTX, {"restApiId": again["id"], "stageName": "prod"})
    r = call(gw, "POST", again["id"], "prod/p?cat=1", body='{"name": "n"}')
    assert (r.status, body_json(r)) == (400, {"message": "Invalid request body"})


def test_test_invoke_authorizer(gw: ApiGatewayProvider, fake: FakeLambda) -> None:
    api = deploy(gw, auth_spec(fake.add("echo", echo), fake.add("auth", token_auth)))
    auth_id = gw.get_authorizers(CTX, {"restApiId": api})["items"][0]["id"]
    out = run(
        gw.test_invoke_authorizer(
            CTX, {"restApiId": api, "authorizerId": auth_id, "headers": {"Authorization": "allow"}}
        )
    )
    assert out["clientStatus"] == 200 and out["principalId"] == "user-1"
    assert json.loads(out["policy"])["Statement"][0]["Effect"] == "Allow"
    out = run(
        gw.test_invoke_authorizer(
            CTX, {"restApiId": api, "authorizerId": auth_id, "headers": {"Authorization": "deny"}}
        )
    )
    assert out["clientStatus"] == 200
    assert json.loads(out["policy"])["Statement"][0]["Effect"] == "Deny"
    out = run(gw.test_invoke_authorizer(CTX, {"restApiId": api, "authorizerId": auth_id}))
    assert out["clientStatus"] == 401


def test_import_api_keys_csv(gw: ApiGatewayProvider) -> None:
    csv_body = b"name,key,description,enabled\nalpha,aaaaaaaaaaaaaaaaaaaaaaaa,first,true\n"
    out = gw.import_api_keys(CTX, {"body": csv_body, "format": "csv"})
    (key_id,) = out["ids"]
    key = gw.get_api_key(CTX, {"apiKey": key_id, "includeValue": True})
    assert (key["name"], key["value"], key["enabled"]) == ("alpha", "a" * 24, True)


def test_account_settings(gw: ApiGatewayProvider) -> None:
    assert gw.get_account(CTX, {})["throttleSettings"] == {"burstLimit": 5000, "rateLimit": 10000.0}
    role = "arn:aws:iam::000000000000:role/apigw-logs"
    gw.update_account(
        CTX, {"patchOperations": [{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}]}
    )
    assert gw.get_account(CTX, {})["cloudwatchRoleArn"] == role


def test_async_lambda_integration_and_response_override(
    gw: ApiGatewayProvider, fake: FakeLambda
) -> None:
    arn = fake.add("worker", lambda e: {"never": "read"})
    integ = {
        "type": "aws",
        "httpMethod": "POST",
        "uri": lambda_uri(arn),
        "requestParameters": {"integration.request.header.X-Amz-Invocation-Type": "'Event'"},
        "requestTemplates": {"application/json": '{"job": $input.json("$.job")}'},
        "responses": {
            "default": {
                "statusCode": "200",
                "responseTemplates": {
                    "application/json": "#set($context.responseOverride.status = 202)"
                    '#set($context.responseOverride.header.Location = "/jobs/1")'
                    '{"queued": true}'
                },
            }
        },
    }
    api = deploy(gw, spec({"/jobs": {"post": {"x-amazon-apigateway-integration": integ}}}))
    r = call(gw, "POST", api, "prod/jobs", body='{"job": "resize"}')
    assert (r.status, body_json(r), r.header("Location")) == (202, {"queued": True}, "/jobs/1")
    assert fake.invocation_types == ["Event"] and fake.events[0][1] == {"job": "resize"}


@pytest.mark.parametrize(
    ("statements", "status"),
    [
        ([{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
           "Resource": "execute-api:/*"}], 200),
        ([{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
           "Resource": "execute-api:/dev/*"}], 403),
        ([{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
           "Resource": "arn:aws:execute-api:*:*:*/*"}], 200),
        ([{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
           "Resource": "arn:aws:execute-api:*:*:*/*"},
          {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
           "Resource": "arn:aws:execute-api:*:*:*/*",
           "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}}}], 403),
        ([{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
           "Resource": "arn:aws:execute-api:*:*:*/*",
           "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}}], 200),
    ],
)  # fmt: skip
def test_resource_policy(gw: ApiGatewayProvider, fake: FakeLambda,
                         statements: list[dict[str, Any]], status: int) -> None:  # fmt: skip
    arn = fake.add("echo", echo)
    policy = {"Version": "2012-10-17", "Statement": statements}
    api = deploy(gw, spec({"/": {"get": {"x-amazon-apigateway-integration": proxy(arn)}}},
                          **{"x-amazon-apigateway-policy": policy}))  # fmt: skip
    r = call(gw, "GET", api, "prod/")
    assert r.status == status
    if status == 403:
        assert "not authorized to perform: execute-api:Invoke" in body_json(r)["Message"]


def test_response_template_follows_accept(gw: ApiGatewayProvider) -> None:
    integ = {"type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'},
             "responses": {"default": {"statusCode": "200", "responseTemplates": {
                 "application/json": '{"kind": "json"}', "text/html": "<p>html</p>"}}}}  # fmt: skip
    api = deploy(gw, spec({"/": {"get": {"x-amazon-apigateway-integration": integ}}}))
    r = call(gw, "GET", api, "prod/", headers={"accept": "text/html"})
    assert (r.body, r.header("content-type")) == (b"<p>html</p>", "text/html")
    assert body_json(call(gw, "GET", api, "prod/")) == {"kind": "json"}
