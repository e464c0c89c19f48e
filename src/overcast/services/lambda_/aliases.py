"""Aliases: named pointers to a version, with optional routing weights to a second one."""

from __future__ import annotations

import random
import uuid
from typing import Any

import orjson

from overcast.core.context import RequestContext
from overcast.services.lambda_.base import LATEST, FunctionRef, LambdaBase, function_arn
from overcast.services.lambda_.errors import (
    PreconditionFailed,
    ResourceConflict,
    ResourceNotFound,
    constraint,
)
from overcast.services.lambda_.paging import page


class AliasesMixin(LambdaBase):
    def _check_alias_target(self, ref: FunctionRef, p: dict[str, Any]) -> None:
        version = p.get("FunctionVersion")
        if version is not None and version != LATEST:
            self.require(ref, version)
        weights = ((p.get("RoutingConfig") or {}).get("AdditionalVersionWeights")) or {}
        for v, w in weights.items():
            self.require(ref, v)
            if not 0.0 <= float(w) <= 1.0:
                raise constraint(
                    "routingConfig.additionalVersionWeights",
                    w,
                    "Member must have value between 0.0 and 1.0",
                )

    def create_alias(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"])
        self.require(ref)
        if self.alias(ref, p["Name"]) is not None:
            raise ResourceConflict(
                f"Alias already exists: {function_arn(ref, ref.name, p['Name'])}"
            )
        self._check_alias_target(ref, p)
        config = {
            "AliasArn": function_arn(ref, ref.name, p["Name"]),
            "Name": p["Name"],
            "FunctionVersion": p["FunctionVersion"],
            "Description": p.get("Description", ""),
            "RevisionId": str(uuid.uuid4()),
        }
        if p.get("RoutingConfig"):
            config["RoutingConfig"] = p["RoutingConfig"]
        self._save_alias(ref, config)
        return config

    def _save_alias(self, ref: FunctionRef, config: dict[str, Any]) -> None:
        with self.write() as tx:
            tx.execute(
                "INSERT INTO aliases (account_id, region, function, name, config) VALUES"
                " (?, ?, ?, ?, ?) ON CONFLICT (account_id, region, function, name)"
                " DO UPDATE SET config = excluded.config",
                (ref.account_id, ref.region, ref.name, config["Name"], orjson.dumps(config)),
            )

    def _require_alias(self, ref: FunctionRef, name: str) -> dict[str, Any]:
        config = self.alias(ref, name)
        if config is None:
            raise ResourceNotFound(f"Cannot find alias arn: {function_arn(ref, ref.name, name)}")
        return config

    def get_alias(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"])
        self.require(ref)
        return self._require_alias(ref, p["Name"])

    def update_alias(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"])
        self.require(ref)
        config = self._require_alias(ref, p["Name"])
        if p.get("RevisionId") and p["RevisionId"] != config["RevisionId"]:
            raise PreconditionFailed(
                "The Revision Id provided does not match the latest "
                "Revision Id. Call the GetAlias API to retrieve the latest "
                "Revision Id"
            )
        self._check_alias_target(ref, p)
        for key in ("FunctionVersion", "Description", "RoutingConfig"):
            if key in p:
                config[key] = p[key]
        config["RevisionId"] = str(uuid.uuid4())
        self._save_alias(ref, config)
        return config

    def delete_alias(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"])
        with self.write() as tx:
            tx.execute(
                "DELETE FROM aliases WHERE account_id = ? AND region = ? AND function = ?"
                " AND name = ?",
                (ref.account_id, ref.region, ref.name, p["Name"]),
            )
        return {}

    def list_aliases(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"])
        self.require(ref)
        rows = self.db.query(
            "SELECT config FROM aliases WHERE account_id = ? AND region = ? AND function = ?"
            " ORDER BY name",
            (ref.account_id, ref.region, ref.name),
        )
        items = [orjson.loads(r[0]) for r in rows]
        if p.get("FunctionVersion"):
            items = [a for a in items if a["FunctionVersion"] == p["FunctionVersion"]]
        return page(items, p, "Aliases", lambda a: str(a["Name"]))

    def pick_routed_version(self, ref: FunctionRef, alias: str, rng: random.Random) -> str:
        """The version an alias sends this invocation to (routing weights applied)."""
        config = self.alias(ref, alias, cached=True)
        if config is None:
            raise ResourceNotFound(f"Cannot find alias arn: {function_arn(ref, ref.name, alias)}")
        weights = ((config.get("RoutingConfig") or {}).get("AdditionalVersionWeights")) or {}
        roll = rng.random()
        for version, weight in weights.items():
            if roll < float(weight):
                return str(version)
            roll -= float(weight)
        return str(config["FunctionVersion"])
