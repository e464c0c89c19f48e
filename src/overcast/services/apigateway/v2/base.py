"""Shared by the HTTP API operation mixins: deployments (auto-deploy after every edit), part
lookups and paging (API-level lookups and edits are in `..common`)."""

from __future__ import annotations

import copy
from typing import Any

from overcast.core.context import RequestContext
from overcast.engines.apigw.address import host_url
from overcast.services.apigateway.common import ApiBase, paginate, public
from overcast.services.apigateway.errors import NotFoundException
from overcast.services.apigateway.v2.state import HttpApiState

__all__ = ["Base", "page", "public", "snapshot"]


def snapshot(doc: dict[str, Any]) -> dict[str, Any]:
    """What a deployment freezes."""
    return {
        "routes": copy.deepcopy(doc["routes"]),
        "integrations": copy.deepcopy(doc["integrations"]),
        "authorizers": copy.deepcopy(doc["authorizers"]),
        "cors": copy.deepcopy(doc["api"].get("CorsConfiguration")),
    }


def page(items: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """{Items, NextToken} for list operations with `MaxResults` and `NextToken`."""
    return paginate(items, params.get("NextToken"), params.get("MaxResults"), "Items", "NextToken")


class Base(ApiBase):
    """State access, lookups and auto-deploy for the HTTP API operation mixins."""

    ID_LENGTH = 7
    state: HttpApiState

    def api_out(self, ctx: RequestContext, doc: dict[str, Any]) -> dict[str, Any]:
        out = public(doc["api"])
        out["ApiEndpoint"] = host_url(ctx.endpoint, out["ApiId"])
        return out

    def after_edit(self, doc: dict[str, Any]) -> None:
        """Stages with AutoDeploy get a fresh deployment after every change."""
        self.auto_deploy(doc)

    def auto_deploy(self, doc: dict[str, Any]) -> None:
        auto = [s for s in doc["stages"].values() if s.get("AutoDeploy")]
        if not auto:
            return
        dep = self.deployment(
            doc, "Automatic deployment triggered by changes to the Api", auto=True
        )
        for s in auto:
            s["DeploymentId"] = dep["DeploymentId"]
            s["LastDeploymentStatusMessage"] = (
                f"Successfully deployed stage with deployment ID '{dep['DeploymentId']}'"
            )
            s["LastUpdatedDate"] = self.now()
        live = {s.get("DeploymentId") for s in doc["stages"].values()}
        for dep_id in [
            d for d, rec in doc["deployments"].items() if rec.get("AutoDeployed") and d not in live
        ]:
            del doc["deployments"][dep_id]

    def deployment(
        self, doc: dict[str, Any], description: str | None, auto: bool
    ) -> dict[str, Any]:
        dep: dict[str, Any] = {
            "DeploymentId": self.new_id(6),
            "AutoDeployed": auto,
            "CreatedDate": self.now(),
            "DeploymentStatus": "DEPLOYED",
            "snapshot": snapshot(doc),
        }
        if description:
            dep["Description"] = description
        doc["deployments"][dep["DeploymentId"]] = dep
        return dep

    @staticmethod
    def part(doc: dict[str, Any], kind: str, part_id: str, label: str) -> dict[str, Any]:
        rec = doc[kind].get(part_id or "")
        if rec is None:
            raise NotFoundException(f"Invalid {label} identifier specified {part_id}")
        return rec
