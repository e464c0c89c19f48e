"""Gateway responses: the answers API Gateway itself gives (403 Missing Authentication Token, 429,
400 Invalid request body...), each overridable per API with a status, headers and a template."""

from __future__ import annotations

import json
from typing import Any

from overcast.core.http import HttpResponse
from overcast.engines.vtl import VtlRuntimeError, VtlSyntaxError, mapping_variables, render_mapping

DEFAULT_STATUS: dict[str, str | None] = {
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": None,
    "ACCESS_DENIED": "403",
    "API_CONFIGURATION_ERROR": "500",
    "AUTHORIZER_CONFIGURATION_ERROR": "500",
    "AUTHORIZER_FAILURE": "500",
    "BAD_REQUEST_PARAMETERS": "400",
    "BAD_REQUEST_BODY": "400",
    "EXPIRED_TOKEN": "403",
    "INTEGRATION_FAILURE": "504",
    "INTEGRATION_TIMEOUT": "504",
    "INVALID_API_KEY": "403",
    "INVALID_SIGNATURE": "403",
    "MISSING_AUTHENTICATION_TOKEN": "403",
    "QUOTA_EXCEEDED": "429",
    "REQUEST_TOO_LARGE": "413",
    "RESOURCE_NOT_FOUND": "404",
    "THROTTLED": "429",
    "UNAUTHORIZED": "401",
    "UNSUPPORTED_MEDIA_TYPE": "415",
    "WAF_FILTERED": "403",
}

_DEFAULT_TEMPLATE = '{"message":$context.error.messageString}'


# An authorizer's Deny has always answered with a capitalised "Message".
_ACCESS_DENIED_TEMPLATE = '{"Message":$context.error.messageString}'


def default_response(rtype: str) -> dict[str, Any]:
    """The response of a type no one customised."""
    template = _ACCESS_DENIED_TEMPLATE if rtype == "ACCESS_DENIED" else _DEFAULT_TEMPLATE
    out: dict[str, Any] = {
        "responseType": rtype,
        "defaultResponse": True,
        "responseParameters": {},
        "responseTemplates": {"application/json": template},
    }
    if DEFAULT_STATUS.get(rtype):
        out["statusCode"] = DEFAULT_STATUS[rtype]
    return out


def render_gateway_response(
    custom: dict[str, dict[str, Any]],
    rtype: str,
    message: str,
    *,
    context: dict[str, Any],
    request_headers: dict[str, str],
    stage_variables: dict[str, str],
    status_override: int | None = None,
    extra_headers: list[tuple[str, str]] | None = None,
    null_message: bool = False,
    validation_error: str = "",
) -> HttpResponse:
    """The HTTP answer for a gateway response: the API's own if set, else DEFAULT_4XX/5XX's, else
    AWS's default."""
    base_status = status_override or int(DEFAULT_STATUS.get(rtype) or 500)
    family = "DEFAULT_4XX" if base_status < 500 else "DEFAULT_5XX"
    gr = custom.get(rtype) or custom.get(family) or default_response(rtype)
    status = int(gr.get("statusCode") or base_status)
    if rtype in custom and custom[rtype].get("statusCode"):
        status = int(custom[rtype]["statusCode"])
    templates = gr.get("responseTemplates") or {}
    template = templates.get("application/json") or next(iter(templates.values()), None)
    if template is None:
        template = _DEFAULT_TEMPLATE
    ctx = dict(context)
    ctx["error"] = {
        "message": message,
        "messageString": "null" if null_message else json.dumps(message),
        "responseType": rtype,
        # Meant to sit inside quotes in a template: JSON-escaped, unquoted.
        "validationErrorString": json.dumps(validation_error or message)[1:-1],
    }
    try:
        body = render_mapping(
            template,
            mapping_variables(
                body="", headers=request_headers, context=ctx, stage_variables=stage_variables
            ),
        )
    except (VtlSyntaxError, VtlRuntimeError):
        body = json.dumps({"message": None if null_message else message})
    headers: list[tuple[str, str]] = [("content-type", "application/json")]
    lower_req = {k.lower(): v for k, v in request_headers.items()}
    for key, value in (gr.get("responseParameters") or {}).items():
        if not key.startswith("gatewayresponse.header."):
            continue
        name = key[len("gatewayresponse.header.") :]
        if value.startswith("'") and value.endswith("'"):
            headers.append((name, value[1:-1]))
        elif value.startswith("method.request.header."):
            v = lower_req.get(value[len("method.request.header.") :].lower())
            if v is not None:
                headers.append((name, v))
    headers.extend(extra_headers or [])
    if rtype in (
        "MISSING_AUTHENTICATION_TOKEN",
        "UNAUTHORIZED",
        "ACCESS_DENIED",
        "INVALID_API_KEY",
        "INVALID_SIGNATURE",
        "EXPIRED_TOKEN",
    ):
        headers.append(("x-amzn-ErrorType", _error_type(rtype)))
    return HttpResponse(status, headers, body.encode())


def _error_type(rtype: str) -> str:
    return {
        "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
        "UNAUTHORIZED": "UnauthorizedException",
        "ACCESS_DENIED": "AccessDeniedException",
        "INVALID_API_KEY": "ForbiddenException",
        "INVALID_SIGNATURE": "InvalidSignatureException",
        "EXPIRED_TOKEN": "ExpiredTokenException",
    }[rtype]
