"""Deployments (snapshots of an API), stages, tags, custom domain names and base path mappings."""

from __future__ import annotations

import copy
import re
from typing import Any

from overcast.core.context import RequestContext
from overcast.services.apigateway.errors import (
    BadRequestException,
    ConflictException,
    NotFoundException,
)
from overcast.services.apigateway.v1 import patch
from overcast.services.apigateway.v1.base import Base, page, public

_STAGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_METHOD_SETTING = re.compile(r"^/([^/]+(?:~1[^/]*)*|\*)/([A-Z]+|\*)/(\w+)/(\w+)$")
_SETTING_NAMES = {
    ("throttling", "rateLimit"): "throttlingRateLimit",
    ("throttling", "burstLimit"): "throttlingBurstLimit",
    ("caching", "enabled"): "cachingEnabled",
    ("caching", "ttlInSeconds"): "cacheTtlInSeconds",
    ("caching", "dataEncrypted"): "cacheDataEncrypted",
    ("caching", "requireAuthorizationForCacheControl"): "requireAuthorizationForCacheControl",
    ("caching", "unauthorizedCacheControlHeaderStrategy"): "unauthorizedCacheControlHeaderStrategy",
    ("metrics", "enabled"): "metricsEnabled",
    ("logging", "loglevel"): "loggingLevel",
    ("logging", "dataTrace"): "dataTraceEnabled",
}


def _default_settings() -> dict[str, Any]:
    return {
        "metricsEnabled": False,
        "dataTraceEnabled": False,
        "throttlingBurstLimit": 5000,
        "throttlingRateLimit": 10000.0,
        "cachingEnabled": False,
        "cacheTtlInSeconds": 300,
        "cacheDataEncrypted": False,
        "requireAuthorizationForCacheControl": True,
        "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER",
    }


def snapshot(doc: dict[str, Any]) -> dict[str, Any]:
    """What a deployment freezes: everything the data plane serves."""
    return {
        "api": {
            k: copy.deepcopy(doc["api"].get(k))
            for k in (
                "binaryMediaTypes",
                "apiKeySource",
                "disableExecuteApiEndpoint",
                "minimumCompressionSize",
            )
        },
        "resources": copy.deepcopy(doc["resources"]),
        "models": copy.deepcopy(doc["models"]),
        "validators": copy.deepcopy(doc["validators"]),
        "authorizers": copy.deepcopy(doc["authorizers"]),
        "gatewayResponses": copy.deepcopy(doc["gatewayResponses"]),
    }


class Stages(Base):
    """CreateDeployment ... DeleteBasePathMapping."""

    # -- deployments -----------------------------------------------------------------------------

    def create_deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            if not any(r.get("resourceMethods") for r in doc["resources"].values()):
                raise BadRequestException("The REST API doesn't contain any methods")
            for r in doc["resources"].values():
                for m in (r.get("resourceMethods") or {}).values():
                    if "methodIntegration" not in m:
                        raise BadRequestException("No integration defined for method")
            dep: dict[str, Any] = {
                "id": self.new_id(6),
                "createdDate": self.now(),
                "snapshot": snapshot(doc),
            }
            if params.get("description"):
                dep["description"] = params["description"]
            doc["deployments"][dep["id"]] = dep
            stage_name = str(params.get("stageName") or "")
            if stage_name:
                stage = doc["stages"].get(stage_name)
                if stage is None:
                    stage = self._new_stage(stage_name, dep["id"], params)
                    doc["stages"][stage_name] = stage
                else:
                    stage["deploymentId"] = dep["id"]
                    stage["lastUpdatedDate"] = self.now()
                    if params.get("variables"):
                        stage.setdefault("variables", {}).update(params["variables"])
        return public(dep)

    def _new_stage(self, name: str, deployment_id: str, params: dict[str, Any]) -> dict[str, Any]:
        if not _STAGE_NAME.match(name):
            raise BadRequestException(
                "Stage name only allows a-zA-Z0-9_- and must be 1 to 128 characters"
            )
        stage: dict[str, Any] = {
            "stageName": name,
            "deploymentId": deployment_id,
            "cacheClusterEnabled": bool(params.get("cacheClusterEnabled", False)),
            "cacheClusterStatus": "NOT_AVAILABLE",
            "methodSettings": {},
            "variables": dict(params.get("variables") or {}),
            "tracingEnabled": bool(params.get("tracingEnabled", False)),
            "tags": dict(params.get("tags") or {}),
            "createdDate": self.now(),
            "lastUpdatedDate": self.now(),
        }
        desc = params.get("stageDescription") or params.get("description")
        if desc:
            stage["description"] = desc
        if params.get("cacheClusterSize"):
            stage["cacheClusterSize"] = params["cacheClusterSize"]
        return stage

    def get_deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("restApiId", ""))
        dep = doc["deployments"].get(params.get("deploymentId", ""))
        if dep is None:
            raise NotFoundException("Invalid Deployment identifier specified")
        return public(dep)

    def get_deployments(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("restApiId", ""))
        deps = sorted(doc["deployments"].values(), key=lambda d: d["createdDate"])
        return page([public(d) for d in deps], params)

    def update_deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            dep = doc["deployments"].get(params.get("deploymentId", ""))
            if dep is None:
                raise NotFoundException("Invalid Deployment identifier specified")
            patch.apply(dep, params.get("patchOperations") or [], allowed={"description"})
        return public(dep)

    def delete_deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            dep_id = params.get("deploymentId", "")
            if dep_id not in doc["deployments"]:
                raise NotFoundException("Invalid Deployment identifier specified")
            if any(s.get("deploymentId") == dep_id for s in doc["stages"].values()):
                raise BadRequestException(
                    "Active stages pointing to this deployment must be moved or deleted"
                )
            del doc["deployments"][dep_id]
        return {}

    # -- stages --------------------------------------------------------------------------------

    def create_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            name = params.get("stageName") or ""
            if name in doc["stages"]:
                raise ConflictException("Stage already exists")
            if params.get("deploymentId") not in doc["deployments"]:
                raise BadRequestException("Invalid deployment identifier specified")
            stage = self._new_stage(name, params["deploymentId"], params)
            if params.get("description"):
                stage["description"] = params["description"]
            doc["stages"][name] = stage
        return public(stage)

    def _get_stage(self, doc: dict[str, Any], name: str) -> dict[str, Any]:
        stage = doc["stages"].get(name or "")
        if stage is None:
            raise NotFoundException("Invalid Stage identifier specified")
        return stage

    def get_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("restApiId", ""))
        return public(self._get_stage(doc, params.get("stageName", "")))

    def get_stages(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("restApiId", ""))
        stages = [
            public(s)
            for s in doc["stages"].values()
            if not params.get("deploymentId") or s.get("deploymentId") == params["deploymentId"]
        ]
        return {"item": stages}

    def update_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            stage = self._get_stage(doc, params.get("stageName", ""))
            plain = []
            for op in params.get("patchOperations") or []:
                m = _METHOD_SETTING.match(op.get("path", ""))
                if m:
                    res_path = m.group(1).replace("~1", "/")
                    key = f"{res_path}/{m.group(2)}" if res_path != "*" else f"*/{m.group(2)}"
                    field = _SETTING_NAMES.get((m.group(3), m.group(4)))
                    if field is None:
                        raise BadRequestException(f"Invalid method setting path: {op['path']}")
                    settings = stage["methodSettings"].setdefault(key, _default_settings())
                    if op.get("op") == "remove":
                        stage["methodSettings"].pop(key, None)
                    else:
                        settings[field] = patch.convert(field, op.get("value"))
                        if field == "loggingLevel":
                            settings[field] = op.get("value")
                elif op.get("path") == "/*/*" and op.get("op") == "remove":
                    stage["methodSettings"].pop("*/*", None)
                else:
                    plain.append(op)
            patch.apply(
                stage,
                plain,
                allowed={
                    "deploymentId",
                    "description",
                    "variables",
                    "cacheClusterEnabled",
                    "cacheClusterSize",
                    "tracingEnabled",
                    "clientCertificateId",
                    "accessLogSettings",
                    "canarySettings",
                    "webAclArn",
                    "documentationVersion",
                },
            )
            if stage["deploymentId"] not in doc["deployments"]:
                raise BadRequestException("Invalid deployment identifier specified")
            stage["lastUpdatedDate"] = self.now()
        return public(stage)

    def delete_stage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            self._get_stage(doc, params.get("stageName", ""))
            del doc["stages"][params["stageName"]]
        return {}

    def flush_stage_authorizers_cache(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        doc = self.load(ctx, params.get("restApiId", ""))
        self._get_stage(doc, params.get("stageName", ""))
        self.state._bump()  # the compiled stage (and its authorizer cache) is rebuilt
        return {}

    # -- tags ----------------------------------------------------------------------------------

    _ARN = re.compile(r"^arn:aws[\w-]*:apigateway:[\w-]+::/restapis/([^/]+)(?:/stages/([^/]+))?$")

    def _tag_target(self, ctx: RequestContext, arn: str) -> tuple[str, str | None]:
        m = self._ARN.match(arn or "")
        if m is None:
            raise BadRequestException(f"Invalid ARN: {arn}")
        return m.group(1), m.group(2)

    def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id, stage = self._tag_target(ctx, params.get("resourceArn", ""))
        with self.edit(ctx, api_id) as doc:
            holder = self._get_stage(doc, stage) if stage else doc["api"]
            holder.setdefault("tags", {}).update(params.get("tags") or {})
        return {}

    def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id, stage = self._tag_target(ctx, params.get("resourceArn", ""))
        with self.edit(ctx, api_id) as doc:
            holder = self._get_stage(doc, stage) if stage else doc["api"]
            for k in params.get("tagKeys") or []:
                holder.setdefault("tags", {}).pop(k, None)
        return {}

    def get_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        api_id, stage = self._tag_target(ctx, params.get("resourceArn", ""))
        doc = self.load(ctx, api_id)
        holder = self._get_stage(doc, stage) if stage else doc["api"]
        return {"tags": dict(holder.get("tags") or {})}

    # -- custom domain names -------------------------------------------------------------------

    def create_domain_name(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("domainName") or ""
        if not name:
            raise BadRequestException("No domain name specified")
        if self.state.get_record("domain_names", ctx.account_id, ctx.region, name):
            raise ConflictException("The domain name you provided already exists.")
        rec: dict[str, Any] = {
            "domainName": name,
            "domainNameStatus": "AVAILABLE",
            "distributionDomainName": f"{self.new_id(13)}.cloudfront.net",
            "regionalDomainName": f"d-{self.new_id(10)}.execute-api.{ctx.region}.amazonaws.com",
            "certificateUploadDate": self.now(),
            "securityPolicy": params.get("securityPolicy") or "TLS_1_2",
            "endpointConfiguration": params.get("endpointConfiguration") or {"types": ["EDGE"]},
            "tags": dict(params.get("tags") or {}),
            "mappings": {},
        }
        for k in (
            "certificateArn",
            "certificateName",
            "regionalCertificateArn",
            "regionalCertificateName",
        ):
            if params.get(k):
                rec[k] = params[k]
        self.state.put_record("domain_names", ctx.account_id, ctx.region, name, rec)
        return _domain_out(rec)

    def _domain(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        rec = self.state.get_record("domain_names", ctx.account_id, ctx.region, name or "")
        if rec is None:
            raise NotFoundException("Invalid domain name identifier specified")
        return rec

    def get_domain_name(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return _domain_out(self._domain(ctx, params.get("domainName", "")))

    def get_domain_names(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        recs = self.state.list_records("domain_names", ctx.account_id, ctx.region)
        return page([_domain_out(r) for r in recs], params)

    def delete_domain_name(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self._domain(ctx, params.get("domainName", ""))
        self.state.delete_record("domain_names", ctx.account_id, ctx.region, params["domainName"])
        return {}

    def create_base_path_mapping(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        rec = self._domain(ctx, params.get("domainName", ""))
        api_doc = self.load(ctx, params.get("restApiId", ""))
        base = params.get("basePath") or "(none)"
        if base in rec["mappings"]:
            raise ConflictException("Base path already exists for this domain name")
        stage = params.get("stage")
        if stage and stage not in api_doc["stages"]:
            raise BadRequestException("Invalid stage identifier specified")
        mapping = {"basePath": base, "restApiId": params["restApiId"]}
        if stage:
            mapping["stage"] = stage
        rec["mappings"][base] = mapping
        self.state.put_record("domain_names", ctx.account_id, ctx.region, rec["domainName"], rec)
        return dict(mapping)

    def get_base_path_mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rec = self._domain(ctx, params.get("domainName", ""))
        mapping = rec["mappings"].get(params.get("basePath") or "(none)")
        if mapping is None:
            raise NotFoundException("Invalid base path mapping identifier specified")
        return dict(mapping)

    def get_base_path_mappings(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rec = self._domain(ctx, params.get("domainName", ""))
        return page(list(rec["mappings"].values()), params)

    def delete_base_path_mapping(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        rec = self._domain(ctx, params.get("domainName", ""))
        if rec["mappings"].pop(params.get("basePath") or "(none)", None) is None:
            raise NotFoundException("Invalid base path mapping identifier specified")
        self.state.put_record("domain_names", ctx.account_id, ctx.region, rec["domainName"], rec)
        return {}


def _domain_out(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in rec.items() if k != "mappings"}
