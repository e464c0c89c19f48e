"""Account settings, API key import (CSV), TestInvokeAuthorizer, stage cache flush and the update
operations of custom domain names."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Coroutine
from typing import Any

from overcast.core.context import RequestContext
from overcast.services.apigateway.errors import BadRequestException, NotFoundException
from overcast.services.apigateway.v1 import patch
from overcast.services.apigateway.v1.base import Base
from overcast.services.apigateway.v1.dataplane import Call, GatewayAnswer
from overcast.services.apigateway.v1.testinvoke import build_test_call


def _default_account() -> dict[str, Any]:
    return {
        "throttleSettings": {"burstLimit": 5000, "rateLimit": 10000.0},
        "features": ["UsagePlans"],
        "apiKeyVersion": "4",
    }


class Account(Base):
    """GetAccount ... UpdateBasePathMapping."""

    # Provided by the other mixins.
    create_api_key: Callable[[RequestContext, dict[str, Any]], dict[str, Any]]
    create_usage_plan_key: Callable[[RequestContext, dict[str, Any]], dict[str, Any]]
    _domain: Callable[[RequestContext, str], dict[str, Any]]
    _identity: Callable[[Call, dict[str, Any]], list[str] | None]
    _invoke_authorizer: Callable[
        [Call, dict[str, Any], list[str], str], Coroutine[Any, Any, dict[str, Any]]
    ]
    method_arn: Callable[[Call], str]

    # -- account -------------------------------------------------------------------------------

    def get_account(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.state.get_account(ctx.account_id, ctx.region) or _default_account()

    def update_account(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rec = self.get_account(ctx, {})
        patch.apply(rec, params.get("patchOperations") or [],
                    allowed={"cloudwatchRoleArn", "throttleSettings", "features"})  # fmt: skip
        self.state.put_account(ctx.account_id, ctx.region, rec)
        return dict(rec)

    # -- API key import ------------------------------------------------------------------------

    def import_api_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if (params.get("format") or "").lower() != "csv":
            raise BadRequestException("Invalid format: only csv is supported")
        body = params.get("body") or b""
        text = body.decode("utf-8-sig") if isinstance(body, bytes) else str(body)
        rows = list(csv.DictReader(io.StringIO(text)))
        ids: list[str] = []
        warnings: list[str] = []
        for n, raw in enumerate(rows, start=2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
            value = row.get("key") or row.get("value")
            if not value:
                warnings.append(f"Line {n}: missing key value")
                continue
            key = self.create_api_key(ctx, {
                "name": row.get("name") or value[:8], "value": value,
                "description": row.get("description") or None,
                "enabled": row.get("enabled", "true").lower() != "false",
            })  # fmt: skip
            ids.append(key["id"])
            for plan in [p for p in row.get("usageplanids", "").split(":") if p]:
                self.create_usage_plan_key(ctx, {"usagePlanId": plan, "keyId": key["id"],
                                                 "keyType": "API_KEY"})  # fmt: skip
        if warnings and params.get("failOnWarnings"):
            raise BadRequestException("; ".join(warnings))
        return {"ids": ids, "warnings": warnings}

    # -- TestInvokeAuthorizer ------------------------------------------------------------------

    async def test_invoke_authorizer(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        """Run an authorizer against the given headers and path, as the console's Test."""
        doc = self.load(ctx, params.get("restApiId", ""))
        authorizer = doc["authorizers"].get(params.get("authorizerId", ""))
        if authorizer is None:
            raise NotFoundException("Invalid Authorizer identifier specified")
        if authorizer["type"] == "COGNITO_USER_POOLS":
            raise BadRequestException("Cognito user pool authorizers cannot be test-invoked here")
        method = {"httpMethod": "GET", "authorizationType": "CUSTOM",
                  "authorizerId": authorizer["id"]}  # fmt: skip
        call: Call = build_test_call(ctx, doc, params, method, "GET")
        started = time.perf_counter()
        identity = self._identity(call, authorizer)
        try:
            if not identity:
                raise GatewayAnswer("UNAUTHORIZED", "Unauthorized")
            result = await self._invoke_authorizer(
                call,
                authorizer,
                identity,
                self.method_arn(call),
            )
        except GatewayAnswer as ans:
            status = {"UNAUTHORIZED": 401, "ACCESS_DENIED": 403}.get(ans.rtype, 500)
            return {"clientStatus": status, "log": f"{ans.rtype}: {ans.message}\n",
                    "latency": int((time.perf_counter() - started) * 1000)}  # fmt: skip
        context = result.get("context") or {}
        return {
            "clientStatus": 200,
            "log": "Authorizer returned a policy\n",
            "latency": int((time.perf_counter() - started) * 1000),
            "principalId": str(result.get("principalId") or ""),
            "authorization": {k: [str(v)] for k, v in context.items()},
            "policy": json.dumps(result.get("policyDocument") or {}),
        }

    # -- caches and domains --------------------------------------------------------------------

    def flush_stage_cache(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Overcast keeps no response cache, so there is nothing to flush beyond the check."""
        doc = self.load(ctx, params.get("restApiId", ""))
        if params.get("stageName", "") not in doc["stages"]:
            raise NotFoundException("Invalid Stage identifier specified")
        return {}

    def update_domain_name(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rec = self._domain(ctx, params.get("domainName", ""))
        patch.apply(rec, params.get("patchOperations") or [], allowed={
            "certificateArn", "certificateName", "regionalCertificateArn",
            "regionalCertificateName", "securityPolicy", "endpointConfiguration",
        })  # fmt: skip
        self.state.put_record("domain_names", ctx.account_id, ctx.region, rec["domainName"], rec)
        return {k: v for k, v in rec.items() if k != "mappings"}

    def update_base_path_mapping(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        rec = self._domain(ctx, params.get("domainName", ""))
        base = params.get("basePath") or "(none)"
        mapping = rec["mappings"].pop(base, None)
        if mapping is None:
            raise NotFoundException("Invalid base path mapping identifier specified")
        patch.apply(mapping, params.get("patchOperations") or [],
                    allowed={"basePath", "restApiId", "stage"})  # fmt: skip
        rec["mappings"][mapping.get("basePath") or "(none)"] = mapping
        self.state.put_record("domain_names", ctx.account_id, ctx.region, rec["domainName"], rec)
        return dict(mapping)
