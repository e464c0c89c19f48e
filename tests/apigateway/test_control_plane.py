"""apigateway and apigatewayv2 control planes through boto3 against a running Overcast, and the
data plane they configure, reached over HTTP (path form and Host form)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def fetch(
    url: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers.items()), err.read()


def test_rest_api_built_step_by_step(client: Callable[..., Any], server: Any) -> None:
    gw = client("apigateway")
    api = gw.create_rest_api(
        name="classic", description="built by hand", binaryMediaTypes=["image/png"]
    )
    api_id = api["id"]
    assert gw.get_rest_api(restApiId=api_id)["binaryMediaTypes"] == ["image/png"]
    root = api["rootResourceId"]
    res = gw.create_resource(restApiId=api_id, parentId=root, pathPart="greet")
    child = gw.create_resource(restApiId=api_id, parentId=res["id"], pathPart="{name}")
    assert child["path"] == "/greet/{name}"
    with pytest.raises(ClientError) as err:
        gw.create_resource(restApiId=api_id, parentId=root, pathPart="greet")
    assert err.value.response["Error"]["Code"] == "ConflictException"

    gw.put_method(
        restApiId=api_id,
        resourceId=child["id"],
        httpMethod="GET",
        authorizationType="NONE",
        requestParameters={"method.request.querystring.lang": False},
    )
    gw.put_method_response(
        restApiId=api_id,
        resourceId=child["id"],
        httpMethod="GET",
        statusCode="200",
        responseParameters={"method.response.header.x-lang": False},
    )
    gw.put_integration(
        restApiId=api_id,
        resourceId=child["id"],
        httpMethod="GET",
        type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}'},
    )
    gw.put_integration_response(
        restApiId=api_id,
        resourceId=child["id"],
        httpMethod="GET",
        statusCode="200",
        responseParameters={"method.response.header.x-lang": "'en'"},
        responseTemplates={
            "application/json": '{"hello": "$input.params(\'name\')", "stage": "$stageVariables.v"}'
        },
    )
    method = gw.get_method(restApiId=api_id, resourceId=child["id"], httpMethod="GET")
    assert method["methodIntegration"]["type"] == "MOCK"
    assert method["methodIntegration"]["integrationResponses"]["200"]["statusCode"] == "200"

    dep = gw.create_deployment(restApiId=api_id, stageName="dev", variables={"v": "one"})
    stage = gw.get_stage(restApiId=api_id, stageName="dev")
    assert stage["deploymentId"] == dep["id"] and stage["variables"] == {"v": "one"}
    gw.update_stage(
        restApiId=api_id,
        stageName="dev",
        patchOperations=[
            {"op": "replace", "path": "/variables/v", "value": "two"},
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "100"},
            {"op": "replace", "path": "/*/*/caching/enabled", "value": "true"},
        ],
    )
    stage = gw.get_stage(restApiId=api_id, stageName="dev")
    assert stage["variables"] == {"v": "two"}
    assert stage["methodSettings"]["*/*"]["throttlingRateLimit"] == 100.0
    assert stage["methodSettings"]["*/*"]["cachingEnabled"] is True

    status, headers, body = fetch(f"{server.url}/_aws/execute-api/{api_id}/dev/greet/ana")
    assert status == 200 and json.loads(body) == {"hello": "ana", "stage": "two"}
    assert headers.get("x-lang") == "en" and headers.get("x-amzn-requestid")

    # Host form, as the AWS-shaped URL would be used where *.localhost resolves.
    status, _, body = fetch(
        f"{server.url}/dev/greet/bo",
        headers={"Host": f"{api_id}.execute-api.localhost:{server.port}"},
    )
    assert status == 200 and json.loads(body)["hello"] == "bo"

    with pytest.raises(ClientError) as err:
        gw.get_rest_api(restApiId="nope")
    assert err.value.response["Error"]["Code"] == "NotFoundException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    gw.delete_rest_api(restApiId=api_id)
    assert fetch(f"{server.url}/_aws/execute-api/{api_id}/dev/greet/ana")[0] >= 400


def test_models_validators_authorizers_gateway_responses(client: Callable[..., Any]) -> None:
    gw = client("apigateway")
    api_id = gw.create_rest_api(name="parts")["id"]
    assert {m["name"] for m in gw.get_models(restApiId=api_id)["items"]} == {"Empty", "Error"}
    schema = json.dumps({"type": "object", "required": ["a"]})
    gw.create_model(restApiId=api_id, name="Thing", contentType="application/json", schema=schema)
    assert gw.get_model(restApiId=api_id, modelName="Thing")["schema"] == schema
    v = gw.create_request_validator(restApiId=api_id, name="body", validateRequestBody=True)
    assert gw.get_request_validators(restApiId=api_id)["items"][0]["id"] == v["id"]
    a = gw.create_authorizer(
        restApiId=api_id,
        name="tok",
        type="TOKEN",
        identitySource="method.request.header.Authorization",
        authorizerUri="arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:us-east-1:000000000000:function:a/invocations",
    )
    assert gw.get_authorizer(restApiId=api_id, authorizerId=a["id"])["type"] == "TOKEN"
    gw.put_gateway_response(
        restApiId=api_id,
        responseType="DEFAULT_4XX",
        responseParameters={"gatewayresponse.header.x-c": "'1'"},
    )
    items = {g["responseType"]: g for g in gw.get_gateway_responses(restApiId=api_id)["items"]}
    assert items["DEFAULT_4XX"]["defaultResponse"] is False
    assert items["THROTTLED"]["statusCode"] == "429"
    gw.update_rest_api(
        restApiId=api_id,
        patchOperations=[
            {"op": "add", "path": "/binaryMediaTypes/image~1gif"},
            {"op": "replace", "path": "/description", "value": "d"},
        ],
    )
    api = gw.get_rest_api(restApiId=api_id)
    assert api["binaryMediaTypes"] == ["image/gif"] and api["description"] == "d"


def test_api_keys_and_usage_plans(client: Callable[..., Any]) -> None:
    gw = client("apigateway")
    key = gw.create_api_key(name="k1", enabled=True, value="a" * 30)
    assert gw.get_api_key(apiKey=key["id"], includeValue=True)["value"] == "a" * 30
    assert "value" not in gw.get_api_key(apiKey=key["id"])
    plan = gw.create_usage_plan(
        name="p",
        throttle={"rateLimit": 10.0, "burstLimit": 5},
        quota={"limit": 100, "period": "MONTH"},
    )
    gw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    keys = gw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]
    assert [k["id"] for k in keys] == [key["id"]]
    usage = gw.get_usage(usagePlanId=plan["id"], startDate="2026-01-01", endDate="2026-01-02")
    assert usage["items"][key["id"]] == [[0, 100], [0, 100]]
    gw.update_usage_plan(
        usagePlanId=plan["id"],
        patchOperations=[{"op": "replace", "path": "/quota/limit", "value": "50"}],
    )
    assert gw.get_usage_plan(usagePlanId=plan["id"])["quota"]["limit"] == 50
    gw.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])
    gw.delete_api_key(apiKey=key["id"])
    with pytest.raises(ClientError):
        gw.get_api_key(apiKey=key["id"])


def test_http_api_crud_and_http_proxy(client: Callable[..., Any], server: Any) -> None:
    v2 = client("apigatewayv2")
    gw = client("apigateway")
    # An HTTP API in front of a REST API's MOCK, through the edge: HTTP_PROXY end to end.
    rest = gw.import_rest_api(
        body=json.dumps(
            {
                "openapi": "3.0.1",
                "info": {"title": "m", "version": "1"},
                "paths": {
                    "/ping": {
                        "get": {
                            "x-amazon-apigateway-integration": {
                                "type": "mock",
                                "requestTemplates": {"application/json": '{"statusCode": 200}'},
                                "responses": {
                                    "default": {
                                        "statusCode": "200",
                                        "responseTemplates": {
                                            "application/json": '{"pong": "$input.params(\'x\')"}'
                                        },
                                    }
                                },
                            }
                        }
                    }
                },
            }
        ).encode()
    )
    gw.create_deployment(restApiId=rest["id"], stageName="s")
    target = f"{server.url}/_aws/execute-api/{rest['id']}/s/{{proxy}}"
    api = v2.create_api(Name="front", ProtocolType="HTTP")
    assert api["ApiEndpoint"].startswith(f"http://{api['ApiId']}.execute-api.localhost")
    integ = v2.create_integration(
        ApiId=api["ApiId"],
        IntegrationType="HTTP_PROXY",
        IntegrationMethod="ANY",
        IntegrationUri=target,
        PayloadFormatVersion="1.0",
    )
    route = v2.create_route(
        ApiId=api["ApiId"],
        RouteKey="ANY /api/{proxy+}",
        Target=f"integrations/{integ['IntegrationId']}",
    )
    assert v2.get_route(ApiId=api["ApiId"], RouteId=route["RouteId"])["RouteKey"] == (
        "ANY /api/{proxy+}"
    )
    v2.create_stage(ApiId=api["ApiId"], StageName="v1")
    dep = v2.create_deployment(ApiId=api["ApiId"], StageName="v1")
    assert v2.get_stage(ApiId=api["ApiId"], StageName="v1")["DeploymentId"] == dep["DeploymentId"]
    status, _, body = fetch(f"{server.url}/_aws/execute-api/{api['ApiId']}/v1/api/ping?x=7")
    assert status == 200 and json.loads(body) == {"pong": "7"}
    assert fetch(f"{server.url}/_aws/execute-api/{api['ApiId']}/v1/other")[0] == 404

    exported = json.loads(
        v2.export_api(ApiId=api["ApiId"], Specification="OAS30", OutputType="JSON")["body"].read()
    )
    assert "/api/{proxy+}" in exported["paths"]
    v2.tag_resource(
        ResourceArn=f"arn:aws:apigateway:us-east-1::/apis/{api['ApiId']}", Tags={"team": "x"}
    )
    assert v2.get_tags(ResourceArn=f"arn:aws:apigateway:us-east-1::/apis/{api['ApiId']}")[
        "Tags"
    ] == {"team": "x"}
    with pytest.raises(ClientError) as err:
        v2.get_api(ApiId="missing")
    assert err.value.response["Error"]["Code"] == "NotFoundException"
    v2.delete_api(ApiId=api["ApiId"])


def test_apis_survive_a_restart(server_factory: Callable[..., Any], tmp_path: Any) -> None:
    srv = server_factory(tmp_path / "restart").start()
    gw = srv.client("apigateway")
    spec = {
        "openapi": "3.0.1",
        "info": {"title": "durable", "version": "1"},
        "paths": {"/x": {"get": {"x-amazon-apigateway-integration": {
            "type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'},
            "responses": {"default": {"statusCode": "200", "responseTemplates": {
                "application/json": '{"v": "$stageVariables.v"}'}}}}}}},
    }  # fmt: skip
    api_id = gw.import_rest_api(body=json.dumps(spec).encode())["id"]
    gw.create_deployment(restApiId=api_id, stageName="s", variables={"v": "kept"})
    http_id = srv.client("apigatewayv2").create_api(Name="h", ProtocolType="HTTP")["ApiId"]
    srv.kill()
    srv.start()
    status, _, body = fetch(f"{srv.url}/_aws/execute-api/{api_id}/s/x")
    assert (status, json.loads(body)) == (200, {"v": "kept"})
    assert srv.client("apigatewayv2").get_api(ApiId=http_id)["Name"] == "h"


def test_test_invoke_method_uses_the_undeployed_api(client: Callable[..., Any]) -> None:
    gw = client("apigateway")
    api = gw.create_rest_api(name="ti")
    res = gw.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="{n}")
    gw.put_method(
        restApiId=api["id"], resourceId=res["id"], httpMethod="POST", authorizationType="NONE"
    )
    gw.put_method_response(
        restApiId=api["id"], resourceId=res["id"], httpMethod="POST", statusCode="200"
    )
    gw.put_integration(
        restApiId=api["id"],
        resourceId=res["id"],
        httpMethod="POST",
        type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}'},
    )
    gw.put_integration_response(
        restApiId=api["id"], resourceId=res["id"], httpMethod="POST", statusCode="200",
        responseTemplates={"application/json": '{"n": "$input.params(\'n\')", '
                                               '"q": "$input.params(\'q\')", "v": "$stageVariables.v"}'})  # fmt: skip
    out = gw.test_invoke_method(
        restApiId=api["id"],
        resourceId=res["id"],
        httpMethod="POST",
        pathWithQueryString="/7?q=x",
        body="{}",
        stageVariables={"v": "sv"},
    )
    assert out["status"] == 200
    assert json.loads(out["body"]) == {"n": "7", "q": "x", "v": "sv"}


def test_custom_domains(client: Callable[..., Any], server: Any) -> None:
    gw = client("apigateway")
    api_id = gw.create_rest_api(name="dom")["id"]
    res = gw.get_resources(restApiId=api_id)["items"][0]
    gw.put_method(
        restApiId=api_id, resourceId=res["id"], httpMethod="GET", authorizationType="NONE"
    )
    gw.put_integration(
        restApiId=api_id,
        resourceId=res["id"],
        httpMethod="GET",
        type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}'},
    )
    gw.put_method_response(
        restApiId=api_id, resourceId=res["id"], httpMethod="GET", statusCode="200"
    )
    gw.put_integration_response(
        restApiId=api_id,
        resourceId=res["id"],
        httpMethod="GET",
        statusCode="200",
        responseTemplates={"application/json": '{"via": "domain"}'},
    )
    gw.create_deployment(restApiId=api_id, stageName="prod")
    # As in the seed guide.
    gw.create_domain_name(
        domainName="api.yourapp.com",
        certificateArn="arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012",
        endpointConfiguration={"types": ["REGIONAL"]},
    )
    gw.create_base_path_mapping(
        domainName="api.yourapp.com", restApiId=api_id, basePath="v1", stage="prod"
    )
    assert gw.get_base_path_mapping(domainName="api.yourapp.com", basePath="v1")["stage"] == "prod"
    assert [d["domainName"] for d in gw.get_domain_names()["items"]] == ["api.yourapp.com"]
    status, _, body = fetch(f"{server.url}/v1/", headers={"Host": "api.yourapp.com"})
    assert (status, json.loads(body)) == (200, {"via": "domain"})
    gw.delete_base_path_mapping(domainName="api.yourapp.com", basePath="v1")
    gw.delete_domain_name(domainName="api.yourapp.com")

    v2 = client("apigatewayv2")
    http_id = v2.create_api(
        Name="d", ProtocolType="HTTP", Target="arn:aws:lambda:us-east-1:000000000000:function:x"
    )["ApiId"]
    dom = v2.create_domain_name(
        DomainName="h.example.com", DomainNameConfigurations=[{"CertificateArn": "arn:c"}]
    )
    assert dom["DomainNameConfigurations"][0]["CertificateArn"] == "arn:c"
    m = v2.create_api_mapping(
        DomainName="h.example.com", ApiId=http_id, Stage="$default", ApiMappingKey="v2"
    )
    items = v2.get_api_mappings(DomainName="h.example.com")["Items"]
    assert [(i["ApiMappingId"], i["ApiMappingKey"]) for i in items] == [(m["ApiMappingId"], "v2")]
    v2.reset_authorizers_cache(ApiId=http_id, StageName="$default")
    v2.delete_api_mapping(DomainName="h.example.com", ApiMappingId=m["ApiMappingId"])
    v2.delete_domain_name(DomainName="h.example.com")


def test_rest_api_straight_to_dynamodb(client: Callable[..., Any], server: Any) -> None:
    ddb = client("dynamodb")
    ddb.create_table(TableName="apigw-items", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])  # fmt: skip
    put = {"type": "aws", "httpMethod": "POST",
           "uri": "arn:aws:apigateway:us-east-1:dynamodb:action/PutItem",
           "requestTemplates": {"application/json": (
               '{"TableName": "apigw-items", "Item": {"id": {"S": "$input.params(\'id\')"}, '
               '"name": {"S": "$util.escapeJavaScript($input.path(\'$.name\'))"}}}')},
           "responses": {"default": {"statusCode": "200", "responseTemplates": {
               "application/json": '{"stored": "$input.params(\'id\')"}'}}}}  # fmt: skip
    get = {"type": "aws", "httpMethod": "POST",
           "uri": "arn:aws:apigateway:us-east-1:dynamodb:action/GetItem",
           "requestTemplates": {"application/json":
               '{"TableName": "apigw-items", "Key": {"id": {"S": "$input.params(\'id\')"}}}'},
           "responses": {
               "4\\d\\d": {"statusCode": "400"},
               "default": {"statusCode": "200", "responseTemplates": {
                   "application/json": '{"name": "$input.path(\'$.Item.name.S\')"}'}}}}  # fmt: skip
    spec = {"openapi": "3.0.1", "info": {"title": "ddb", "version": "1"},
            "paths": {"/items/{id}": {
                "put": {"responses": {"200": {"description": "ok"}},
                        "x-amazon-apigateway-integration": put},
                "get": {"responses": {"200": {"description": "ok"}, "400": {"description": "x"}},
                        "x-amazon-apigateway-integration": get}}}}  # fmt: skip
    gw = client("apigateway")
    api_id = gw.import_rest_api(body=json.dumps(spec).encode())["id"]
    gw.create_deployment(restApiId=api_id, stageName="v1")
    base = f"{server.url}/_aws/execute-api/{api_id}/v1/items"
    status, _, body = fetch(f"{base}/a1", "PUT", {"content-type": "application/json"},
                            b'{"name": "lamp"}')  # fmt: skip
    assert (status, json.loads(body)) == (200, {"stored": "a1"})
    status, _, body = fetch(f"{base}/a1")
    assert (status, json.loads(body)) == (200, {"name": "lamp"})
    item = ddb.get_item(TableName="apigw-items", Key={"id": {"S": "a1"}})["Item"]
    assert item["name"] == {"S": "lamp"}


def _wait_log_lines(logs: Any, group: str) -> list[str]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        events = logs.filter_log_events(logGroupName=group).get("events", [])
        if events:
            return [e["message"] for e in events]
        time.sleep(0.3)
    raise AssertionError(f"no access log lines in {group}")


def test_access_logs_reach_cloudwatch_logs(client: Callable[..., Any], server: Any) -> None:
    logs = client("logs")
    logs.create_log_group(logGroupName="/apigw/rest-access")
    logs.create_log_group(logGroupName="/apigw/http-access")
    gw = client("apigateway")
    spec = {"openapi": "3.0.1", "info": {"title": "logged", "version": "1"},
            "paths": {"/x": {"get": {"x-amazon-apigateway-integration": {
                "type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'},
                "responses": {"default": {"statusCode": "200"}}}}}}}  # fmt: skip
    api_id = gw.import_rest_api(body=json.dumps(spec).encode())["id"]
    gw.create_deployment(restApiId=api_id, stageName="s")
    fmt = (
        '{"requestId": "$context.requestId", "status": "$context.status", "path": "$context.path"}'
    )
    gw.update_stage(restApiId=api_id, stageName="s", patchOperations=[
        {"op": "replace", "path": "/accessLogSettings/destinationArn",
         "value": "arn:aws:logs:us-east-1:000000000000:log-group:/apigw/rest-access"},
        {"op": "replace", "path": "/accessLogSettings/format", "value": fmt}])  # fmt: skip
    status, headers, _ = fetch(f"{server.url}/_aws/execute-api/{api_id}/s/x")
    assert status == 200
    (line,) = _wait_log_lines(logs, "/apigw/rest-access")
    assert json.loads(line) == {"requestId": headers["x-amzn-requestid"], "status": "200",
                                "path": "/s/x"}  # fmt: skip

    v2 = client("apigatewayv2")
    http_id = v2.create_api(Name="logged", ProtocolType="HTTP")["ApiId"]
    v2.create_stage(ApiId=http_id, StageName="$default", AutoDeploy=True, AccessLogSettings={
        "DestinationArn": "arn:aws:logs:us-east-1:000000000000:log-group:/apigw/http-access",
        "Format": "$context.httpMethod $context.path $context.status"})  # fmt: skip
    assert fetch(f"{server.url}/_aws/execute-api/{http_id}/nothing")[0] == 404
    assert _wait_log_lines(logs, "/apigw/http-access") == ["GET /nothing 404"]
