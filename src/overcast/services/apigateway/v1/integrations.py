"""Integrations: AWS_PROXY (Lambda proxy), AWS (Lambda with mapping templates), HTTP,
HTTP_PROXY and MOCK — request mapping out, response mapping back."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from overcast.core.errors import ServiceError
from overcast.core.http import HttpResponse
from overcast.dispatch import Dispatcher
from overcast.engines.apigw.proxy import (
    MalformedProxyResponse,
    header_name,
    parse_rest_response,
    rest_event,
)
from overcast.engines.apigw.uris import function_of, substitute_stage_variables
from overcast.engines.vtl import VtlRuntimeError, VtlSyntaxError, mapping_variables, render_mapping
from overcast.services.apigateway.outbound import (
    IntegrationFailure,
    IntegrationTimeout,
    http_call,
    invoke_function,
    payload_bytes,
    strip_hop_headers,
)
from overcast.services.apigateway.v1.dataplane import Call, GatewayAnswer

log = logging.getLogger("overcast.apigateway")

_INTERNAL = {"message": "Internal server error"}


def _internal_error() -> HttpResponse:
    return HttpResponse(
        502,
        [
            ("content-type", "application/json"),
            ("x-amzn-ErrorType", "InternalServerErrorException"),
        ],
        json.dumps(_INTERNAL).encode(),
    )


class Integrations:
    """integrate() for the pipeline."""

    dispatcher: Dispatcher

    async def integrate(self, call: Call) -> HttpResponse:
        """Send the request to the method's integration and map the answer back."""
        integ = call.method.get("methodIntegration") or {}
        kind = integ.get("type", "")
        timeout = int(integ.get("timeoutInMillis") or 29000) / 1000
        try:
            if kind == "AWS_PROXY":
                return await asyncio.wait_for(self._lambda_proxy(call, integ), timeout)
            if kind == "MOCK":
                return self._mock(call, integ)
            if kind == "HTTP_PROXY":
                return await self._http_proxy(call, integ, timeout)
            if kind == "HTTP":
                return await self._http(call, integ, timeout)
            if kind == "AWS":
                return await asyncio.wait_for(self._aws(call, integ), timeout)
        except (TimeoutError, IntegrationTimeout):
            raise GatewayAnswer("INTEGRATION_TIMEOUT", "Endpoint request timed out")
        except IntegrationFailure as exc:
            log.warning("integration failed: %s", exc)
            raise GatewayAnswer("INTEGRATION_FAILURE", "Internal server error", status=500)
        except (VtlSyntaxError, VtlRuntimeError) as exc:
            log.warning("mapping template failed: %s", exc)
            raise GatewayAnswer("API_CONFIGURATION_ERROR", "Internal server error")
        raise GatewayAnswer("API_CONFIGURATION_ERROR", "Internal server error")

    # -- Lambda ----------------------------------------------------------------------------------

    async def _invoke(
        self,
        call: Call,
        integ: dict[str, Any],
        payload: bytes,
        invocation_type: str = "RequestResponse",
    ) -> dict[str, Any]:
        uri = substitute_stage_variables(integ.get("uri", ""), call.cs.variables)
        fn = function_of(uri)
        if fn is None:
            raise GatewayAnswer("API_CONFIGURATION_ERROR", "Internal server error")
        try:
            return await invoke_function(self.dispatcher, call.ctx(), fn, payload, invocation_type)
        except GatewayAnswer:
            raise
        except Exception as exc:
            if isinstance(exc, TimeoutError):
                raise
            log.warning("Lambda invoke for %s failed: %s", fn, exc)
            raise GatewayAnswer("API_CONFIGURATION_ERROR", "Internal server error")

    async def _lambda_proxy(self, call: Call, integ: dict[str, Any]) -> HttpResponse:
        assert call.entry is not None
        api_key = call.api_key or {}
        event = rest_event(
            call.req,
            resource_path=call.entry.resource_path,
            resource_id=call.entry.resource_id,
            path_params=call.path_params,
            authorizer=call.authorizer,
            api_key=api_key.get("value"),
            api_key_id=api_key.get("id"),
        )
        out = await self._invoke(call, integ, json.dumps(event).encode())
        if out.get("FunctionError"):
            return _internal_error()
        try:
            result = parse_rest_response(payload_bytes(out.get("Payload")))
        except MalformedProxyResponse as exc:
            log.warning("malformed Lambda proxy response: %s", exc)
            return _internal_error()
        body = result.body
        ctype = next((v for k, v in result.headers if k.lower() == "content-type"), None)
        if result.is_base64 and not (self._accepts_binary(call) or call.cs.is_binary(ctype)):
            body = base64.b64encode(body)  # no binary type matches: the text goes back as is
        headers = list(result.headers)
        if ctype is None:
            headers.append(("content-type", "application/json"))
        return HttpResponse(result.status, headers, body)

    def _accepts_binary(self, call: Call) -> bool:
        accept = call.req.header("accept") or ""
        return any(call.cs.is_binary(a.strip()) for a in accept.split(",") if a.strip())

    async def _aws(self, call: Call, integ: dict[str, Any]) -> HttpResponse:
        if ":lambda:path" not in integ.get("uri", ""):
            return await self._aws_service(call, integ)
        body = self._request_body(call, integ)
        # An integration.request.header.X-Amz-Invocation-Type of 'Event' invokes asynchronously.
        mapped = self._mapped_params(call, integ)["header"]
        kind = next((v for k, v in mapped.items() if k.lower() == "x-amz-invocation-type"), None)
        invocation_type = kind if kind in ("Event", "DryRun") else "RequestResponse"
        out = await self._invoke(call, integ, body, invocation_type)
        payload = payload_bytes(out.get("Payload"))
        selector = ""
        if out.get("FunctionError"):
            try:
                selector = str(json.loads(payload).get("errorMessage", ""))
            except (ValueError, AttributeError):
                selector = payload.decode(errors="replace")
        return self._map_response(call, integ, selector, payload, [], is_error=bool(selector))

    async def _aws_service(self, call: Call, integ: dict[str, Any]) -> HttpResponse:
        """An AWS integration to another service (DynamoDB, SQS, Step Functions, EventBridge...):
        the mapped body becomes the operation's parameters, called through the dispatcher."""
        uri = substitute_stage_variables(integ.get("uri", ""), call.cs.variables)
        m = _SERVICE_URI.match(uri)
        if m is None:
            log.warning("AWS integration URI %s is not understood", uri)
            raise GatewayAnswer("API_CONFIGURATION_ERROR", "Internal server error")
        service, kind, rest = m.group(1), m.group(2), m.group(3)
        body = self._request_body(call, integ)
        params = _operation_params(body, call.req.header("content-type"))
        operation = str(params.pop("Action", "")) if kind == "path" else rest.split("&")[0]
        if kind == "path" and service == "sqs" and rest.count("/") >= 1:
            account, _, queue = rest.partition("/")
            params.setdefault(
                "QueueUrl", f"https://sqs.{call.cs.region}.amazonaws.com/{account}/{queue}"
            )
        if not operation:
            raise GatewayAnswer("API_CONFIGURATION_ERROR", "Internal server error")
        service = _SERVICE_NAMES.get(service, service)
        try:
            result = await self.dispatcher.call(call.ctx(), service, operation, params)
            status, payload = "200", json.dumps(_jsonable(result)).encode()
        except ServiceError as err:
            status = str(err.status)
            payload = json.dumps({"__type": err.code, "message": err.message}).encode()
        return self._map_response(call, integ, status, payload, [])

    # -- MOCK and HTTP ---------------------------------------------------------------------------

    def _mock(self, call: Call, integ: dict[str, Any]) -> HttpResponse:
        rendered = self._request_body(call, integ).decode(errors="replace")
        status = "200"
        try:
            doc = json.loads(rendered) if rendered.strip() else {}
            if isinstance(doc, dict) and "statusCode" in doc:
                status = str(doc["statusCode"])
        except ValueError:
            pass  # a template that is not JSON names no status: the default response answers
        return self._map_response(call, integ, status, b"", [])

    def _mapped_params(self, call: Call, integ: dict[str, Any]) -> dict[str, dict[str, str]]:
        """integration.request.{path,querystring,header}.X from method request values."""
        out: dict[str, dict[str, str]] = {"path": {}, "querystring": {}, "header": {}}
        query = dict(call.req.query_pairs())
        for target, source in (integ.get("requestParameters") or {}).items():
            parts = target.split(".", 3)
            if len(parts) != 4:
                continue
            value = self._source_value(call, source, query)
            if value is not None:
                out.setdefault(parts[2], {})[parts[3]] = value
        return out

    def _source_value(self, call: Call, source: str, query: dict[str, str]) -> str | None:
        if source.startswith("'") and source.endswith("'"):
            return source[1:-1]
        if source.startswith("method.request.path."):
            return call.path_params.get(source[len("method.request.path.") :])
        if source.startswith("method.request.querystring."):
            return query.get(source[len("method.request.querystring.") :])
        if source.startswith("method.request.header."):
            return call.req.header(source[len("method.request.header.") :])
        if source.startswith("stageVariables."):
            return call.cs.variables.get(source[len("stageVariables.") :])
        if source.startswith("context.authorizer."):
            v = (call.authorizer or {}).get(source[len("context.authorizer.") :])
            return None if v is None else str(v)
        if source.startswith("context."):
            v = call.context_variables().get(source[len("context.") :])
            return None if v is None else str(v)
        return None

    def _url(self, call: Call, integ: dict[str, Any], path_values: dict[str, str]) -> str:
        uri = substitute_stage_variables(integ.get("uri", ""), call.cs.variables)

        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            value = path_values.get(name, path_values.get(name.rstrip("+"), ""))
            # Path parameters arrive still percent-encoded: keep escapes and slashes as they are.
            return quote(value, safe="/%:@!$&'()*+,;=")

        return re.sub(r"\{([A-Za-z0-9._-]+\+?)\}", sub, uri)

    async def _http_proxy(self, call: Call, integ: dict[str, Any], timeout: float) -> HttpResponse:
        mapped = self._mapped_params(call, integ)
        path_values = {**call.path_params, **mapped["path"]}
        for k, v in call.path_params.items():
            path_values.setdefault(k + "+", v)
        url = self._url(call, integ, path_values)
        if call.req.query_string:
            url += ("&" if "?" in url else "?") + call.req.query_string
        if mapped["querystring"]:
            url += ("&" if "?" in url else "?") + urlencode(mapped["querystring"])
        method = integ.get("httpMethod") or call.req.method
        if method == "ANY":
            method = call.req.method
        headers = [(k, v) for k, v in call.req.header_list if k.lower() != "host"]
        headers.extend(mapped["header"].items())
        resp = await http_call(method, url, headers, call.req.body, timeout)
        return HttpResponse(resp.status, strip_hop_headers(resp.headers), resp.body)

    async def _http(self, call: Call, integ: dict[str, Any], timeout: float) -> HttpResponse:
        mapped = self._mapped_params(call, integ)
        url = self._url(call, integ, {**call.path_params, **mapped["path"]})
        if mapped["querystring"]:
            url += ("&" if "?" in url else "?") + urlencode(mapped["querystring"])
        body = self._request_body(call, integ)
        method = integ.get("httpMethod") or call.req.method
        headers = list(mapped["header"].items())
        if body and not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("content-type", call.req.header("content-type") or "application/json"))
        resp = await http_call(method, url, headers, body, timeout)
        return self._map_response(call, integ, str(resp.status), resp.body, resp.headers)

    # -- mapping ---------------------------------------------------------------------------------

    def _variables(self, call: Call, body: str) -> dict[str, Any]:
        query = dict(call.req.query_pairs())
        return mapping_variables(
            body=body,
            path_params=call.path_params,
            query=query,
            headers={header_name(k): v for k, v in call.req.header_list},
            context=call.context_variables(),
            stage_variables=call.cs.variables,
        )

    def _request_body(self, call: Call, integ: dict[str, Any]) -> bytes:
        """The integration request body: a mapping template, or passthrough per the behaviour."""
        templates = integ.get("requestTemplates") or {}
        ctype = (call.req.header("content-type") or "application/json").split(";")[0].strip()
        template = templates.get(ctype)
        if template is None:
            behaviour = integ.get("passthroughBehavior") or "WHEN_NO_MATCH"
            if behaviour == "NEVER" or (behaviour == "WHEN_NO_TEMPLATES" and templates):
                raise GatewayAnswer("UNSUPPORTED_MEDIA_TYPE", "Unsupported Media Type")
            return call.req.body
        if template == "":
            return b""
        text = render_mapping(template, self._variables(call, call.req.body_text()))
        return text.encode()

    def _map_response(
        self,
        call: Call,
        integ: dict[str, Any],
        selector: str,
        body: bytes,
        backend_headers: list[tuple[str, str]],
        *,
        is_error: bool = False,
    ) -> HttpResponse:
        """Pick the integration response by selection pattern, then map headers and body."""
        responses = integ.get("integrationResponses") or {}
        chosen: dict[str, Any] | None = None
        default: dict[str, Any] | None = None
        for ir in responses.values():
            pattern = ir.get("selectionPattern")
            if not pattern:
                default = default or ir
                continue
            try:
                if re.fullmatch(pattern, selector, re.DOTALL):
                    chosen = ir
                    break
            except re.error:
                continue
        chosen = chosen or default
        if chosen is None:
            if is_error or not responses:
                return (
                    _internal_error()
                    if is_error
                    else HttpResponse(
                        500, [("content-type", "application/json")], json.dumps(_INTERNAL).encode()
                    )
                )
            chosen = next(iter(responses.values()))
        status = int(chosen.get("statusCode", "200"))
        headers: list[tuple[str, str]] = []
        lower_backend = {k.lower(): v for k, v in backend_headers}
        text = body.decode("utf-8", errors="replace")
        for target, source in (chosen.get("responseParameters") or {}).items():
            if not target.startswith("method.response.header."):
                continue
            name = target[len("method.response.header.") :]
            if source.startswith("'") and source.endswith("'"):
                headers.append((name, source[1:-1]))
            elif source.startswith("integration.response.header."):
                v = lower_backend.get(source[len("integration.response.header.") :].lower())
                if v is not None:
                    headers.append((name, v))
            elif source.startswith("integration.response.body."):
                try:
                    v2 = json.loads(text).get(source[len("integration.response.body.") :])
                    if v2 is not None:
                        headers.append((name, str(v2)))
                except (ValueError, AttributeError):
                    pass  # a body that is not a JSON object maps no header
        templates = chosen.get("responseTemplates") or {}
        # The client's Accept picks the template; application/json is the fallback.
        accept = [a.split(";")[0].strip() for a in (call.req.header("accept") or "").split(",")]
        chosen_type = next((a for a in accept if a in templates), "application/json")
        template = templates.get(chosen_type)
        if template is None and templates:
            chosen_type, template = next(iter(templates.items()))
        out_body = body
        ctype = "application/json"
        if template:
            ctype = chosen_type
            variables = self._variables(call, text)
            override: dict[str, Any] = {"header": {}}
            variables["context"]["responseOverride"] = override
            out_body = render_mapping(template, variables).encode()
            # Templates may set $context.responseOverride.status / .header.X.
            if override.get("status") is not None:
                status = int(override["status"])
            for name, value in (override.get("header") or {}).items():
                headers = [(k, v) for k, v in headers if k.lower() != str(name).lower()]
                headers.append((str(name), str(value)))
        elif backend_headers:
            ctype = lower_backend.get("content-type", ctype)
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("content-type", ctype))
        return HttpResponse(status, headers, out_body)


_SERVICE_URI = re.compile(r"^arn:aws[\w-]*:apigateway:[\w-]+:([\w.-]+):(action|path)/(.*)$")
# Integration URIs name some services by their endpoint prefix, not botocore's name.
_SERVICE_NAMES = {
    "states": "stepfunctions",
    "monitoring": "cloudwatch",
    "execute-api": "apigateway",
}


def _operation_params(body: bytes, content_type: str | None) -> dict[str, Any]:
    """The mapped request body as operation parameters (JSON, or a form-encoded query)."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            raise GatewayAnswer("API_CONFIGURATION_ERROR", "Internal server error")
        return doc if isinstance(doc, dict) else {}
    return dict(parse_qsl(text, keep_blank_values=True))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if hasattr(value, "timestamp"):
        return value.timestamp()
    return value
