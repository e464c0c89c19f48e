"""Layers: published versions of zips that functions extract under /opt, in order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from overcast.core.arns import arn
from overcast.core.context import RequestContext
from overcast.services.lambda_.base import LambdaBase
from overcast.services.lambda_.errors import InvalidParameterValue, ResourceNotFound


class LayersMixin(LambdaBase):
    def _layer_arn(self, ctx: RequestContext, name: str) -> str:
        return arn("lambda", ctx.region, ctx.account_id, f"layer:{name}")

    async def publish_layer_version(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        name = p["LayerName"]
        data = await self._code_bytes(ctx, p.get("Content") or {})  # type: ignore[attr-defined]
        blob, info = self._store_code(data)  # type: ignore[attr-defined]
        row = self.db.query_one(
            "SELECT next_version FROM layer_meta WHERE account_id = ? AND region = ? AND name = ?",
            (ctx.account_id, ctx.region, name),
        )
        version = int(row[0]) if row else 1
        layer_arn = self._layer_arn(ctx, name)
        config: dict[str, Any] = {
            "Content": {
                "Location": "",
                "CodeSha256": info["CodeSha256"],
                "CodeSize": info["CodeSize"],
            },
            "LayerArn": layer_arn,
            "LayerVersionArn": f"{layer_arn}:{version}",
            "Description": p.get("Description", ""),
            "CreatedDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000",
            "Version": version,
        }
        for key in ("CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"):
            if p.get(key):
                config[key] = p[key]
        with self.write() as tx:
            tx.execute(
                "INSERT INTO layers (account_id, region, name, version, config, code_blob)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (ctx.account_id, ctx.region, name, version, orjson.dumps(config), blob),
            )
            tx.execute(
                "INSERT INTO layer_meta (account_id, region, name, next_version) VALUES"
                " (?, ?, ?, ?) ON CONFLICT (account_id, region, name) DO UPDATE SET"
                " next_version = excluded.next_version",
                (ctx.account_id, ctx.region, name, version + 1),
            )
        return self._with_location(ctx, config)

    def _with_location(self, ctx: RequestContext, config: dict[str, Any]) -> dict[str, Any]:
        out = dict(config)
        out["Content"] = dict(config["Content"])
        out["Content"]["Location"] = self.layer_url(ctx, str(config["LayerVersionArn"]))  # type: ignore[attr-defined]
        return out

    def _layer_row(self, account: str, region: str, name: str, version: int) -> Any:
        return self.db.query_one(
            "SELECT config, code_blob FROM layers WHERE account_id = ? AND region = ?"
            " AND name = ? AND version = ?",
            (account, region, name, version),
        )

    def layer_by_arn(self, ctx: RequestContext, layer_version_arn: str) -> dict[str, Any]:
        parts = layer_version_arn.split(":")
        if len(parts) != 8 or parts[5] != "layer" or not parts[7].isdigit():
            raise InvalidParameterValue(f"Layer version {layer_version_arn} does not exist.")
        row = self._layer_row(parts[4], parts[3], parts[6], int(parts[7]))
        if row is None:
            raise InvalidParameterValue(f"Layer version {layer_version_arn} does not exist.")
        return dict(orjson.loads(row[0]))

    def layer_zip(self, layer_version_arn: str) -> bytes:
        parts = layer_version_arn.split(":")
        row = self._layer_row(parts[4], parts[3], parts[6], int(parts[7]))
        if row is None:
            raise InvalidParameterValue(f"Layer version {layer_version_arn} does not exist.")
        return self.db.blobs.read(row[1])

    def get_layer_version(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        name = str(p["LayerName"]).split(":")[-1] if ":" in p["LayerName"] else p["LayerName"]
        row = self._layer_row(ctx.account_id, ctx.region, name, int(p["VersionNumber"]))
        if row is None:
            raise ResourceNotFound("The resource you requested does not exist.")
        return self._with_location(ctx, orjson.loads(row[0]))

    def get_layer_version_by_arn(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._with_location(ctx, self.layer_by_arn(ctx, p["Arn"]))
        except InvalidParameterValue:
            raise ResourceNotFound("The resource you requested does not exist.") from None

    def delete_layer_version(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        row = self._layer_row(ctx.account_id, ctx.region, p["LayerName"], int(p["VersionNumber"]))
        if row is None:
            return {}
        with self.write() as tx:
            tx.execute(
                "DELETE FROM layers WHERE account_id = ? AND region = ? AND name = ?"
                " AND version = ?",
                (ctx.account_id, ctx.region, p["LayerName"], int(p["VersionNumber"])),
            )
        self.db.blobs.delete(row[1])
        return {}

    def _versions(self, ctx: RequestContext, name: str | None) -> list[dict[str, Any]]:
        sql = "SELECT config FROM layers WHERE account_id = ? AND region = ?"
        args: list[Any] = [ctx.account_id, ctx.region]
        if name is not None:
            sql += " AND name = ?"
            args.append(name)
        rows = self.db.query(sql + " ORDER BY name, version DESC", args)
        return [orjson.loads(r[0]) for r in rows]

    def list_layer_versions(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        items = [_matching(c, p) for c in self._versions(ctx, p["LayerName"])]
        versions = [_summary(c) for c in items if c is not None]
        return _paged(versions, p, "LayerVersions", lambda v: str(v["Version"]))

    def list_layers(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        latest: dict[str, dict[str, Any]] = {}
        for c in self._versions(ctx, None):
            if _matching(c, p) is None:
                continue
            name = str(c["LayerArn"]).rsplit(":", 1)[-1]
            if name not in latest:
                latest[name] = c
        layers = [
            {"LayerName": n, "LayerArn": c["LayerArn"], "LatestMatchingVersion": _summary(c)}
            for n, c in sorted(latest.items())
        ]
        return _paged(layers, p, "Layers", lambda v: str(v["LayerName"]))


def _matching(config: dict[str, Any], p: dict[str, Any]) -> dict[str, Any] | None:
    rt = p.get("CompatibleRuntime")
    if rt and rt not in (config.get("CompatibleRuntimes") or []):
        return None
    arch = p.get("CompatibleArchitecture")
    if arch and arch not in (config.get("CompatibleArchitectures") or []):
        return None
    return config


def _summary(config: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "LayerVersionArn",
        "Version",
        "Description",
        "CreatedDate",
        "CompatibleRuntimes",
        "LicenseInfo",
        "CompatibleArchitectures",
    )
    return {k: config[k] for k in keys if k in config}


def _paged(items: list[dict[str, Any]], p: dict[str, Any], member: str, key: Any) -> dict[str, Any]:
    start = 0
    if p.get("Marker"):
        keys = [key(i) for i in items]
        start = keys.index(p["Marker"]) if p["Marker"] in keys else len(items)
    limit = min(int(p.get("MaxItems") or 50), 50)
    out: dict[str, Any] = {member: items[start : start + limit]}
    if start + limit < len(items):
        out["NextMarker"] = key(items[start + limit])
    return out
