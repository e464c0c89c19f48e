"""Access control in the data plane: Lambda TOKEN/REQUEST authorizers (with their result cache),
IAM-authorized methods, API keys and usage plans (throttle and quota)."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from typing import Any

from overcast.dispatch import Dispatcher
from overcast.engines.apigw.policy import evaluate_policy
from overcast.engines.apigw.proxy import rest_event
from overcast.engines.apigw.throttle import TokenBucket
from overcast.engines.apigw.uris import function_of, substitute_stage_variables
from overcast.services.apigateway.outbound import (
    AuthorizerFailed,
    AuthorizerUnauthorized,
    invoke_authorizer,
)
from overcast.services.apigateway.pipeline import take_token
from overcast.services.apigateway.v1.dataplane import Call, GatewayAnswer, call_arn
from overcast.services.apigateway.v1.state import ApiState

_UsageKey = tuple[str, str, str, str, str]


def _period_start(period: str, offset: int, now: float) -> str:
    day = dt.datetime.fromtimestamp(now, dt.UTC).date()
    if period == "WEEK":
        day = day - dt.timedelta(days=(day.weekday() - offset) % 7)
    elif period == "MONTH":
        day = day.replace(day=1)
    return day.isoformat()


class Authz:
    """authorize() and check_api_key() for the pipeline; usage counting for GetUsage."""

    state: ApiState
    dispatcher: Dispatcher
    _auth_cache: dict[tuple[str, ...], tuple[float, dict[str, Any]]]
    _buckets: dict[tuple[str, ...], TokenBucket]
    _pending_usage: dict[_UsageKey, int]
    _quota_used: dict[tuple[str, str, str], int]

    # -- authorizers ---------------------------------------------------------------------------

    async def authorize(self, call: Call) -> None:
        """Run the method's authorizer, if any; fills call.authorizer or raises GatewayAnswer."""
        kind = call.method.get("authorizationType") or "NONE"
        if kind == "NONE":
            return
        if kind == "AWS_IAM":
            auth = call.req.header("authorization") or ""
            if "AWS4-HMAC-SHA256" not in auth:
                raise GatewayAnswer("MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
            return
        authorizer = call.cs.authorizers.get(call.method.get("authorizerId", ""))
        if authorizer is None:
            raise GatewayAnswer("AUTHORIZER_CONFIGURATION_ERROR", None)
        if authorizer["type"] == "COGNITO_USER_POOLS":
            # Cognito user pools are another service's tables; without a JWKS source here we
            # can only require the token.
            if not call.req.header("authorization"):
                raise GatewayAnswer("UNAUTHORIZED", "Unauthorized")
            raise GatewayAnswer("AUTHORIZER_CONFIGURATION_ERROR", None)
        await self._lambda_authorizer(call, authorizer)

    def _identity(self, call: Call, authorizer: dict[str, Any]) -> list[str] | None:
        """The identity source values, or None when one is missing."""
        values: list[str] = []
        query = dict(call.req.query_pairs())
        for src in [s.strip() for s in (authorizer.get("identitySource") or "").split(",")]:
            if not src:
                continue
            v: str | None = None
            if src.startswith("method.request.header."):
                v = call.req.header(src[len("method.request.header.") :])
            elif src.startswith("method.request.querystring."):
                v = query.get(src[len("method.request.querystring.") :])
            elif src.startswith("method.request.path."):
                v = call.path_params.get(src[len("method.request.path.") :])
            elif src.startswith("stageVariables."):
                v = call.cs.variables.get(src[len("stageVariables.") :])
            elif src.startswith("context."):
                v = str(call.context_variables().get(src[len("context.") :], "")) or None
            if v is None or v == "":
                return None
            values.append(v)
        return values

    def method_arn(self, call: Call) -> str:
        """The execute-api ARN an authorizer's policy is matched against."""
        return call_arn(call)

    async def _lambda_authorizer(self, call: Call, authorizer: dict[str, Any]) -> None:
        ttl = int(authorizer.get("authorizerResultTtlInSeconds", 300) or 0)
        identity = self._identity(call, authorizer)
        token_type = authorizer["type"] == "TOKEN"
        if (identity is None and (token_type or ttl > 0)) or (token_type and not identity):
            raise GatewayAnswer("UNAUTHORIZED", "Unauthorized")
        if token_type and authorizer.get("identityValidationExpression") and identity:
            if not re.fullmatch(authorizer["identityValidationExpression"], identity[0]):
                raise GatewayAnswer("UNAUTHORIZED", "Unauthorized")
        method_arn = self.method_arn(call)
        cache_key = (call.cs.api_id, call.cs.stage_name, authorizer["id"], *(identity or []))
        now = time.monotonic()
        cached = self._auth_cache.get(cache_key) if ttl > 0 else None
        if cached is not None and cached[0] > now:
            result = cached[1]
        else:
            result = await self._invoke_authorizer(call, authorizer, identity or [], method_arn)
            if ttl > 0:
                if len(self._auth_cache) > 10000:
                    self._auth_cache.clear()
                self._auth_cache[cache_key] = (now + ttl, result)
        policy = result.get("policyDocument")
        call.authorizer_policy = policy
        if not evaluate_policy(policy, method_arn):
            denied = _explicit_deny(policy, method_arn)
            raise GatewayAnswer(
                "ACCESS_DENIED",
                "User is not authorized to access this resource with an explicit deny"
                if denied
                else "User is not authorized to access this resource",
            )
        ctx: dict[str, Any] = {"principalId": result.get("principalId")}
        for k, v in (result.get("context") or {}).items():
            ctx[k] = v if isinstance(v, (str, int, float, bool)) else json.dumps(v)
        ctx["integrationLatency"] = 0
        call.authorizer = ctx
        if result.get("usageIdentifierKey"):
            call.usage_key = str(result["usageIdentifierKey"])

    async def _invoke_authorizer(
        self, call: Call, authorizer: dict[str, Any], identity: list[str], method_arn: str
    ) -> dict[str, Any]:
        fn = function_of(
            substitute_stage_variables(authorizer.get("authorizerUri", ""), call.cs.variables)
        )
        if fn is None:
            raise GatewayAnswer("AUTHORIZER_CONFIGURATION_ERROR", None)
        if authorizer["type"] == "TOKEN":
            event: dict[str, Any] = {
                "type": "TOKEN",
                "authorizationToken": identity[0],
                "methodArn": method_arn,
            }
        else:
            assert call.entry is not None
            base = rest_event(
                call.req,
                resource_path=call.entry.resource_path,
                resource_id=call.entry.resource_id,
                path_params=call.path_params,
            )
            event = {"type": "REQUEST", "methodArn": method_arn}
            for k in (
                "resource",
                "path",
                "httpMethod",
                "headers",
                "multiValueHeaders",
                "queryStringParameters",
                "multiValueQueryStringParameters",
                "pathParameters",
                "stageVariables",
                "requestContext",
            ):
                event[k] = base[k]
        try:
            result = await invoke_authorizer(self.dispatcher, call.ctx(), fn, event)
        except AuthorizerUnauthorized:
            raise GatewayAnswer("UNAUTHORIZED", "Unauthorized")
        except AuthorizerFailed:
            raise GatewayAnswer("AUTHORIZER_FAILURE", None)
        except ValueError:
            raise GatewayAnswer("AUTHORIZER_CONFIGURATION_ERROR", None)
        if not isinstance(result, dict) or "policyDocument" not in result:
            raise GatewayAnswer("AUTHORIZER_CONFIGURATION_ERROR", None)
        return result

    # -- API keys and usage plans --------------------------------------------------------------

    def check_api_key(self, call: Call) -> None:
        """API-key-required methods need an enabled key in a usage plan of this stage."""
        if not call.method.get("apiKeyRequired"):
            return
        source = call.cs.api.get("apiKeySource") or "HEADER"
        value = call.usage_key if source == "AUTHORIZER" else call.req.header("x-api-key")
        if not value:
            raise GatewayAnswer("INVALID_API_KEY", "Forbidden")
        key = self.state.key_by_value(call.cs.account, call.cs.region, value)
        if key is None or not key.get("enabled"):
            raise GatewayAnswer("INVALID_API_KEY", "Forbidden")
        plans = [
            p
            for p in self.state.list_records("usage_plans", call.cs.account, call.cs.region)
            if key["id"] in p.get("keys", [])
            and any(
                s.get("apiId") == call.cs.api_id and s.get("stage") == call.cs.stage_name
                for s in p.get("apiStages", [])
            )
        ]
        if not plans:
            raise GatewayAnswer("INVALID_API_KEY", "Forbidden")
        call.api_key = key
        plan = plans[0]
        now = time.time()
        throttle = _plan_throttle(plan, call)
        if throttle:
            bkey = ("plan", plan["id"], key["id"], str(throttle))
            rate, burst = throttle.get("rateLimit", 10000.0), throttle.get("burstLimit", 5000)
            if not take_token(self._buckets, bkey, rate, burst):
                raise GatewayAnswer("THROTTLED", "Too Many Requests")
        quota = plan.get("quota")
        if quota:
            start = _period_start(quota.get("period", "DAY"), int(quota.get("offset", 0)), now)
            qkey = (plan["id"], key["id"], start)
            used = self._quota_used.get(qkey)
            if used is None:
                self.flush_usage()
                end = dt.datetime.fromtimestamp(now, dt.UTC).date().isoformat()
                used = sum(
                    n
                    for kid, _, n in self.state.usage(
                        call.cs.account, call.cs.region, plan["id"], start, end
                    )
                    if kid == key["id"]
                )
            if used >= int(quota.get("limit", 0)):
                self._quota_used[qkey] = used
                raise GatewayAnswer("QUOTA_EXCEEDED", "Limit Exceeded")
            self._quota_used[qkey] = used + 1
        day = dt.datetime.fromtimestamp(now, dt.UTC).date().isoformat()
        ukey = (call.cs.account, call.cs.region, plan["id"], key["id"], day)
        self._pending_usage[ukey] = self._pending_usage.get(ukey, 0) + 1

    def flush_usage(self) -> None:
        """Write counted requests to the store (also run by a background task)."""
        pending, self._pending_usage = self._pending_usage, {}
        self.state.add_usage(pending)

    def reset_quota_cache(self) -> None:
        self._quota_used.clear()


def _plan_throttle(plan: dict[str, Any], call: Call) -> dict[str, Any] | None:
    for s in plan.get("apiStages", []):
        if s.get("apiId") == call.cs.api_id and s.get("stage") == call.cs.stage_name:
            assert call.entry is not None
            per_method = (s.get("throttle") or {}).get(
                f"{call.entry.resource_path}/{call.req.method}"
            )
            if per_method:
                return dict(per_method)
    return plan.get("throttle") or None


def _explicit_deny(policy: Any, arn: str) -> bool:
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return False
    if not isinstance(policy, dict):
        return False
    sts = policy.get("Statement")
    for st in sts if isinstance(sts, list) else [sts]:
        if isinstance(st, dict) and str(st.get("Effect", "")).lower() == "deny":
            deny_only = {"Version": "2012-10-17", "Statement": [{**st, "Effect": "Allow"}]}
            if evaluate_policy(deny_only, arn):
                return True
    return False
