"""Shared by the apigatewayv2 operation mixins: lookups, edits (with auto-deploy) and paging."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from overcast.core import ids
from overcast.core.clock import Clock
from overcast.core.context import RequestContext
from overcast.engines.apigw.address import host_url
from overcast.services.apigatewayv2.errors import NotFoundException
from overcast.services.apigatewayv2.state import HttpApiState


def snapshot(doc: dict[str, Any]) -> dict[str, Any]:
    """What a deployment freezes."""
    return {
        "routes": copy.deepcopy(doc["routes"]),
        "integrations": copy.deepcopy(doc["integrations"]),
        "authorizers": copy.deepcopy(doc["authorizers"]),
        "cors": copy.deepcopy(doc["api"].get("CorsConfiguration")),
    }


def public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in record.items() if k != "snapshot"}


def page(items: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    start = int(params.get("NextToken") or 0)
    limit = int(params.get("MaxResults") or 500)
    out: dict[str, Any] = {"Items": items[start : start + limit]}
    if start + limit < len(items):
        out["NextToken"] = str(start + limit)
    return out


class Base:
    state: HttpApiState
    clock: Clock

    def now(self) -> float:
        return self.clock.now()

    @staticmethod
    def new_id(length: int = 7) -> str:
        return ids.short_id(length)

    def api_out(self, ctx: RequestContext, doc: dict[str, Any]) -> dict[str, Any]:
        out = public(doc["api"])
        out["ApiEndpoint"] = host_url(ctx.endpoint, out["ApiId"])
        return out

    def load(self, ctx: RequestContext, api_id: str) -> dict[str, Any]:
        doc = self.state.get(ctx.account_id, ctx.region, api_id or "")
        if doc is None:
            raise NotFoundException(f"Invalid API identifier specified {ctx.account_id}:{api_id}")
        return doc

    @contextmanager
    def edit(self, ctx: RequestContext, api_id: str) -> Iterator[dict[str, Any]]:
        """Change one API atomically; stages with AutoDeploy get a fresh deployment."""
        with self.state.editing(ctx.account_id, ctx.region, api_id or "") as doc:
            if doc is None:
                raise NotFoundException(
                    f"Invalid API identifier specified {ctx.account_id}:{api_id}"
                )
            yield doc
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
