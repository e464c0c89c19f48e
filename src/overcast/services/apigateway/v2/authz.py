"""HTTP API authorizers: JWT (keys from the issuer's JWKS) and Lambda REQUEST authorizers
(simple responses or IAM policies), plus AWS_IAM routes."""

from __future__ import annotations

import json
import time
from typing import Any

from overcast.dispatch import Dispatcher
from overcast.engines.apigw import jwt
from overcast.engines.apigw.policy import evaluate_policy
from overcast.engines.apigw.uris import execute_api_arn, function_of
from overcast.services.apigateway.outbound import (
    AuthorizerFailed,
    AuthorizerUnauthorized,
    IntegrationFailure,
    IntegrationTimeout,
    http_call,
    invoke_authorizer,
)
from overcast.services.apigateway.v2.dataplane import HttpCall, Refused, answer

JWKS_TTL = 3600.0
JWKS_RETRY = 30.0


class HttpAuthz:
    """authorize() for the HTTP API pipeline."""

    dispatcher: Dispatcher
    _jwks: dict[str, tuple[float, dict[str, Any]]]
    _auth_cache: dict[tuple[str, ...], tuple[float, dict[str, Any] | None]]

    async def authorize(self, call: HttpCall) -> None:
        """Fill call.authorizer, or refuse with 401/403."""
        assert call.route is not None
        kind = call.route.get("AuthorizationType") or "NONE"
        if kind == "NONE":
            return
        if kind == "AWS_IAM":
            if "AWS4-HMAC-SHA256" not in (call.req.header("authorization") or ""):
                raise Refused(answer(403, "Forbidden"))
            return
        authorizer = call.cs.authorizers.get(call.route.get("AuthorizerId") or "")
        if authorizer is None:
            raise Refused(answer(500, "Internal Server Error"))
        if authorizer["AuthorizerType"] == "JWT":
            await self._jwt(call, authorizer)
        else:
            await self._lambda_authorizer(call, authorizer)

    def _source(self, call: HttpCall, source: str) -> str | None:
        """One identity source value ($request.header.X, $request.querystring.X, ...)."""
        if source.startswith("$request.header."):
            return call.req.header(source[len("$request.header.") :])
        if source.startswith("$request.querystring."):
            return dict(call.req.query_pairs()).get(source[len("$request.querystring.") :])
        if source.startswith("$stageVariables."):
            return call.cs.variables.get(source[len("$stageVariables.") :])
        if source.startswith("$context."):
            return None
        return None

    # -- JWT -----------------------------------------------------------------------------------

    async def _jwt(self, call: HttpCall, authorizer: dict[str, Any]) -> None:
        assert call.route is not None
        sources = authorizer.get("IdentitySource") or ["$request.header.Authorization"]
        token = self._source(call, sources[0])
        if not token:
            raise Refused(answer(401, "Unauthorized", [("www-authenticate", "Bearer")]))
        cfg = authorizer.get("JwtConfiguration") or {}
        issuer = str(cfg.get("Issuer") or "")
        scopes = list(call.route.get("AuthorizationScopes") or [])
        try:
            jwks = await self._keys(issuer, token)
            claims = jwt.validate(
                token,
                jwks,
                issuer=issuer,
                audiences=list(cfg.get("Audience") or []),
                now=time.time(),
            )
        except jwt.JwtError as exc:
            raise Refused(
                answer(
                    401,
                    "Unauthorized",
                    [
                        (
                            "www-authenticate",
                            f'Bearer error="invalid_token" error_description="{exc}"',
                        )
                    ],
                )
            )
        if scopes:
            have = set(str(claims.get("scope", "")).split())
            scp = claims.get("scp")
            have |= set(scp if isinstance(scp, list) else str(scp or "").split())
            if not any(s in have for s in scopes):
                raise Refused(
                    answer(
                        403,
                        "Forbidden",
                        [("www-authenticate", 'Bearer error="insufficient_scope"')],
                    )
                )
        token_scopes = str(claims.get("scope", "")).split() or None
        call.authorizer = {
            "jwt": {
                "claims": {
                    k: v
                    if isinstance(v, str)
                    else json.dumps(v)
                    if isinstance(v, (list, dict))
                    else str(v)
                    for k, v in claims.items()
                },
                "scopes": token_scopes,
            }
        }

    async def _keys(self, issuer: str, token: str) -> dict[str, Any]:
        """The issuer's JWKS (cached; fetched again when the token's kid is unknown)."""
        kid = jwt.parse_token(token).header.get("kid")
        now = time.monotonic()
        cached = self._jwks.get(issuer)
        if cached is not None:
            fetched_at, keys = cached
            known = kid is None or any(k.get("kid") == kid for k in keys.get("keys", []))
            if now - fetched_at < JWKS_TTL and (known or now - fetched_at < JWKS_RETRY):
                return keys
        keys = await self._fetch_jwks(issuer)
        self._jwks[issuer] = (now, keys)
        return keys

    async def _fetch_jwks(self, issuer: str) -> dict[str, Any]:
        base = issuer.rstrip("/")
        jwks_uri = base + "/.well-known/jwks.json"
        try:
            resp = await http_call("GET", base + "/.well-known/openid-configuration", [], None, 5)
            if resp.status == 200:
                jwks_uri = json.loads(resp.body).get("jwks_uri") or jwks_uri
            resp = await http_call("GET", jwks_uri, [], None, 5)
        except (IntegrationFailure, IntegrationTimeout, ValueError) as exc:
            raise jwt.JwtError(f"could not fetch the issuer's keys: {exc}") from exc
        if resp.status != 200:
            raise jwt.JwtError("could not fetch the issuer's keys")
        try:
            keys = json.loads(resp.body)
        except ValueError as exc:
            raise jwt.JwtError("invalid JWKS") from exc
        if not isinstance(keys, dict):
            raise jwt.JwtError("invalid JWKS")
        return keys

    # -- Lambda REQUEST ------------------------------------------------------------------------

    async def _lambda_authorizer(self, call: HttpCall, authorizer: dict[str, Any]) -> None:
        assert call.route is not None
        sources = list(authorizer.get("IdentitySource") or [])
        values = [self._source(call, s) for s in sources]
        if any(v is None or v == "" for v in values):
            raise Refused(answer(401, "Unauthorized"))
        ttl = int(authorizer.get("AuthorizerResultTtlInSeconds") or 0)
        cache_key = (call.cs.api_id, authorizer["AuthorizerId"], *[v or "" for v in values])
        now = time.monotonic()
        hit = self._auth_cache.get(cache_key) if ttl > 0 and sources else None
        route_arn = execute_api_arn(call.cs.region, call.cs.account, call.cs.api_id,
                                    call.cs.stage_name, call.req.method, call.req.path[1:])  # fmt: skip
        if hit is not None and hit[0] > now:
            result = hit[1]
        else:
            result = await self._invoke(call, authorizer, values, route_arn)
            if ttl > 0 and sources:
                self._auth_cache[cache_key] = (now + ttl, result)
        if result is None:
            raise Refused(answer(403, "Forbidden"))
        simple = (
            bool(authorizer.get("EnableSimpleResponses"))
            and str(authorizer.get("AuthorizerPayloadFormatVersion", "2.0")) == "2.0"
        )
        if simple:
            if result.get("isAuthorized") is not True:
                raise Refused(answer(403, "Forbidden"))
            context = result.get("context") or {}
        else:
            if not evaluate_policy(result.get("policyDocument"), route_arn):
                raise Refused(answer(403, "Forbidden"))
            context = dict(result.get("context") or {})
            if result.get("principalId") is not None:
                context.setdefault("principalId", result["principalId"])
        call.authorizer = {"lambda": context}

    async def _invoke(
        self, call: HttpCall, authorizer: dict[str, Any], values: list[str | None], arn: str
    ) -> dict[str, Any] | None:
        fn = function_of(authorizer.get("AuthorizerUri", ""), bare_arn=True)
        if fn is None:
            raise Refused(answer(500, "Internal Server Error"))
        version = str(authorizer.get("AuthorizerPayloadFormatVersion", "2.0"))
        event = self.event(call, version)  # type: ignore[attr-defined]
        event["type"] = "REQUEST"
        if version == "2.0":
            event["routeArn"] = arn
            event["identitySource"] = [v for v in values if v is not None]
        else:
            event["methodArn"] = arn
        try:
            result = await invoke_authorizer(self.dispatcher, call.ctx(), fn, event)
        except AuthorizerUnauthorized:
            raise Refused(answer(401, "Unauthorized"))
        except (AuthorizerFailed, ValueError):
            raise Refused(answer(500, "Internal Server Error"))
        return result if isinstance(result, dict) else None
