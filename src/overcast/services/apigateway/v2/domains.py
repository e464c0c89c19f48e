"""Custom domain names and API mappings, plus the small stage/route/deployment housekeeping
operations (reset authorizer cache, delete route settings or access log settings...)."""

from __future__ import annotations

import copy
from typing import Any

from overcast.core.context import RequestContext
from overcast.services.apigateway.common import copy_given
from overcast.services.apigateway.errors import (
    BadRequestException,
    ConflictException,
    NotFoundException,
)
from overcast.services.apigateway.v2.base import Base, page, public

DOMAINS = "domain_names"


def _domain_out(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in rec.items() if k != "Mappings"}


class Domains(Base):
    """CreateDomainName ... DeleteRouteRequestParameter."""

    _auth_cache: dict[tuple[str, ...], tuple[float, dict[str, Any] | None]]

    # -- domain names --------------------------------------------------------------------------

    def create_domain_name(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("DomainName") or ""
        if not name:
            raise BadRequestException("DomainName is required")
        if self.state.get_record(DOMAINS, ctx.account_id, ctx.region, name):
            raise ConflictException(f"The domain name resource already exists: {name}")
        configs = []
        for c in params.get("DomainNameConfigurations") or [{}]:
            cfg = {
                "ApiGatewayDomainName": f"d-{self.new_id(10)}.execute-api.{ctx.region}"
                ".amazonaws.com",
                "DomainNameStatus": "AVAILABLE",
                "EndpointType": "REGIONAL",
                "HostedZoneId": "Z1UJRXOUMOOFQ8",
                "SecurityPolicy": "TLS_1_2",
                "IpAddressType": "ipv4",
            }
            cfg.update({k: v for k, v in c.items() if v is not None})
            configs.append(cfg)
        rec: dict[str, Any] = {
            "DomainName": name,
            "DomainNameArn": f"arn:aws:apigateway:{ctx.region}::/domainnames/{name}",
            "ApiMappingSelectionExpression": "$request.basepath",
            "DomainNameConfigurations": configs,
            "RoutingMode": params.get("RoutingMode") or "API_MAPPING_ONLY",
            "Tags": dict(params.get("Tags") or {}),
            "Mappings": {},
        }
        if params.get("MutualTlsAuthentication"):
            rec["MutualTlsAuthentication"] = params["MutualTlsAuthentication"]
        self.state.put_record(DOMAINS, ctx.account_id, ctx.region, rec["DomainName"], rec)
        return _domain_out(rec)

    def _domain(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        rec = self.state.get_record(DOMAINS, ctx.account_id, ctx.region, name or "")
        if rec is None:
            raise NotFoundException(f"Invalid domain name identifier specified {name}")
        return rec

    def get_domain_name(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return _domain_out(self._domain(ctx, params.get("DomainName", "")))

    def get_domain_names(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        recs = self.state.list_records(DOMAINS, ctx.account_id, ctx.region)
        return page([_domain_out(r) for r in recs], params)

    def update_domain_name(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rec = self._domain(ctx, params.get("DomainName", ""))
        if params.get("DomainNameConfigurations"):
            for cfg, new in zip(rec["DomainNameConfigurations"],
                                params["DomainNameConfigurations"], strict=False):  # fmt: skip
                cfg.update({k: v for k, v in new.items() if v is not None})
        copy_given(params, ("MutualTlsAuthentication", "RoutingMode"), rec)
        self.state.put_record(DOMAINS, ctx.account_id, ctx.region, rec["DomainName"], rec)
        return _domain_out(rec)

    def delete_domain_name(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rec = self._domain(ctx, params.get("DomainName", ""))
        self.state.delete_record(DOMAINS, ctx.account_id, ctx.region, rec["DomainName"])
        return {}

    # -- API mappings --------------------------------------------------------------------------

    def create_api_mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rec = self._domain(ctx, params.get("DomainName", ""))
        doc = self.load(ctx, params.get("ApiId", ""))
        stage = params.get("Stage") or ""
        if stage not in doc["stages"]:
            raise BadRequestException(f"Invalid stage identifier specified {stage}")
        key = params.get("ApiMappingKey") or ""
        if any(m.get("ApiMappingKey", "") == key for m in rec["Mappings"].values()):
            raise ConflictException(f"ApiMapping with key {key!r} already exists")
        mapping = {"ApiId": params["ApiId"], "ApiMappingId": self.new_id(6),
                   "ApiMappingKey": key, "Stage": stage}  # fmt: skip
        rec["Mappings"][mapping["ApiMappingId"]] = mapping
        self.state.put_record(DOMAINS, ctx.account_id, ctx.region, rec["DomainName"], rec)
        return dict(mapping)

    def _mapping(self, rec: dict[str, Any], mapping_id: str) -> dict[str, Any]:
        mapping = rec["Mappings"].get(mapping_id or "")
        if mapping is None:
            raise NotFoundException(f"Invalid API mapping identifier specified {mapping_id}")
        return mapping

    def get_api_mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rec = self._domain(ctx, params.get("DomainName", ""))
        return dict(self._mapping(rec, params.get("ApiMappingId", "")))

    def get_api_mappings(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rec = self._domain(ctx, params.get("DomainName", ""))
        return page([dict(m) for m in rec["Mappings"].values()], params)

    def update_api_mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rec = self._domain(ctx, params.get("DomainName", ""))
        mapping = self._mapping(rec, params.get("ApiMappingId", ""))
        copy_given(params, ("ApiId", "ApiMappingKey", "Stage"), mapping)
        self.state.put_record(DOMAINS, ctx.account_id, ctx.region, rec["DomainName"], rec)
        return dict(mapping)

    def delete_api_mapping(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rec = self._domain(ctx, params.get("DomainName", ""))
        self._mapping(rec, params.get("ApiMappingId", ""))
        del rec["Mappings"][params["ApiMappingId"]]
        self.state.put_record(DOMAINS, ctx.account_id, ctx.region, rec["DomainName"], rec)
        return {}

    # -- housekeeping --------------------------------------------------------------------------

    def _stage_of(self, doc: dict[str, Any], name: str) -> dict[str, Any]:
        stage = doc["stages"].get(name or "")
        if stage is None:
            raise NotFoundException(f"Invalid stage identifier specified {name}")
        return stage

    def reset_authorizers_cache(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        doc = self.load(ctx, params.get("ApiId", ""))
        self._stage_of(doc, params.get("StageName", ""))
        self._auth_cache = {k: v for k, v in self._auth_cache.items()
                            if k[0] != params.get("ApiId")}  # fmt: skip
        return {}

    def delete_route_settings(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            stage = self._stage_of(doc, params.get("StageName", ""))
            if (stage.get("RouteSettings") or {}).pop(params.get("RouteKey", ""), None) is None:
                raise NotFoundException(f"No route settings for {params.get('RouteKey')}")
        return {}

    def delete_access_log_settings(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            self._stage_of(doc, params.get("StageName", "")).pop("AccessLogSettings", None)
        return {}

    def update_deployment(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            dep = self.part(doc, "deployments", params.get("DeploymentId", ""), "Deployment")
            if params.get("Description") is not None:
                dep["Description"] = params["Description"]
        return public(dep)

    def delete_route_request_parameter(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.edit(ctx, params.get("ApiId", "")) as doc:
            route = self.part(doc, "routes", params.get("RouteId", ""), "Route")
            (route.get("RequestParameters") or {}).pop(params.get("RequestParameterKey", ""), None)
        return {}
