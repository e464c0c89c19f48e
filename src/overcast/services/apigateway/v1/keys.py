"""API keys, usage plans, usage plan keys and usage (GetUsage / UpdateUsage)."""

from __future__ import annotations

import datetime as dt
import secrets
import string
from collections.abc import Callable
from typing import Any

from overcast.core.context import RequestContext
from overcast.services.apigateway.errors import (
    BadRequestException,
    ConflictException,
    NotFoundException,
)
from overcast.services.apigateway.v1 import patch
from overcast.services.apigateway.v1.base import Base, page, public

_KEY_CHARS = string.ascii_letters + string.digits


def _key_out(rec: dict[str, Any], include_value: bool) -> dict[str, Any]:
    out = public(rec)
    if not include_value:
        out.pop("value", None)
    return out


def _plan_out(rec: dict[str, Any]) -> dict[str, Any]:
    out = public(rec)
    out.pop("keys", None)
    return out


def _day(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d")


class Keys(Base):
    """CreateApiKey ... GetUsage."""

    # Provided by the data plane's Authz mixin.
    flush_usage: Callable[[], None]
    reset_quota_cache: Callable[[], None]

    # -- API keys ------------------------------------------------------------------------------

    def create_api_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        value = params.get("value") or "".join(secrets.choice(_KEY_CHARS) for _ in range(40))
        if len(value) < 20:
            raise BadRequestException("API Key value should be at least 20 characters")
        if self.state.key_by_value(ctx.account_id, ctx.region, value):
            raise ConflictException("API Key already exists")
        now = self.now()
        rec: dict[str, Any] = {
            "id": self.new_id(10),
            "value": value,
            "name": params.get("name") or "",
            "enabled": bool(params.get("enabled", False)),
            "createdDate": now,
            "lastUpdatedDate": now,
            "stageKeys": [
                f"{s['restApiId']}/{s['stageName']}" for s in params.get("stageKeys") or []
            ],
            "tags": dict(params.get("tags") or {}),
        }
        for k in ("description", "customerId"):
            if params.get(k):
                rec[k] = params[k]
        self.state.put_record("api_keys", ctx.account_id, ctx.region, rec["id"], rec)
        return _key_out(rec, True)

    def _api_key(self, ctx: RequestContext, key_id: str) -> dict[str, Any]:
        rec = self.state.get_record("api_keys", ctx.account_id, ctx.region, key_id or "")
        if rec is None:
            raise NotFoundException("Invalid API Key identifier specified")
        return rec

    def get_api_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rec = self._api_key(ctx, params.get("apiKey", ""))
        return _key_out(rec, bool(params.get("includeValue")))

    def get_api_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        recs = self.state.list_records("api_keys", ctx.account_id, ctx.region)
        q = params.get("nameQuery")
        cust = params.get("customerId")
        items = [
            _key_out(r, bool(params.get("includeValues")))
            for r in recs
            if (not q or r.get("name", "").startswith(q))
            and (not cust or r.get("customerId") == cust)
        ]
        return page(items, params)

    def update_api_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rec = self._api_key(ctx, params.get("apiKey", ""))
        patch.apply(
            rec,
            params.get("patchOperations") or [],
            allowed={"name", "description", "enabled", "customerId", "stageKeys"},
        )
        rec["lastUpdatedDate"] = self.now()
        self.state.put_record("api_keys", ctx.account_id, ctx.region, rec["id"], rec)
        return _key_out(rec, False)

    def delete_api_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rec = self._api_key(ctx, params.get("apiKey", ""))
        with self.state.db.transaction():
            for plan in self.state.list_records("usage_plans", ctx.account_id, ctx.region):
                if rec["id"] in plan.get("keys", []):
                    plan["keys"].remove(rec["id"])
                    self.state.put_record(
                        "usage_plans", ctx.account_id, ctx.region, plan["id"], plan
                    )
            self.state.delete_record("api_keys", ctx.account_id, ctx.region, rec["id"])
        return {}

    # -- usage plans -----------------------------------------------------------------------------

    def create_usage_plan(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("name"):
            raise BadRequestException("Invalid usage plan name specified")
        for s in params.get("apiStages") or []:
            self._check_stage(ctx, s.get("apiId", ""), s.get("stage", ""))
        rec: dict[str, Any] = {
            "id": self.new_id(6),
            "name": params["name"],
            "apiStages": list(params.get("apiStages") or []),
            "tags": dict(params.get("tags") or {}),
            "keys": [],
        }
        for k in ("description", "throttle", "quota", "productCode"):
            if params.get(k):
                rec[k] = params[k]
        if "quota" in rec:
            rec["quota"].setdefault("offset", 0)
            if rec["quota"].get("period") not in ("DAY", "WEEK", "MONTH"):
                raise BadRequestException("Quota period must be DAY, WEEK or MONTH")
        self.state.put_record("usage_plans", ctx.account_id, ctx.region, rec["id"], rec)
        return _plan_out(rec)

    def _check_stage(self, ctx: RequestContext, api_id: str, stage: str) -> None:
        doc = self.state.get_api(ctx.account_id, ctx.region, api_id)
        if doc is None:
            raise NotFoundException(f"Invalid API identifier specified {ctx.account_id}:{api_id}")
        if stage not in doc["stages"]:
            raise NotFoundException(f"Invalid stage identifier specified {api_id}:{stage}")

    def _plan(self, ctx: RequestContext, plan_id: str) -> dict[str, Any]:
        rec = self.state.get_record("usage_plans", ctx.account_id, ctx.region, plan_id or "")
        if rec is None:
            raise NotFoundException("Invalid Usage Plan ID specified")
        return rec

    def get_usage_plan(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return _plan_out(self._plan(ctx, params.get("usagePlanId", "")))

    def get_usage_plans(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        recs = self.state.list_records("usage_plans", ctx.account_id, ctx.region)
        if params.get("keyId"):
            recs = [r for r in recs if params["keyId"] in r.get("keys", [])]
        return page([_plan_out(r) for r in recs], params)

    def update_usage_plan(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rec = self._plan(ctx, params.get("usagePlanId", ""))
        plain = []
        for op in params.get("patchOperations") or []:
            path = op.get("path", "")
            if path == "/apiStages":
                api_id, _, stage = str(op.get("value", "")).partition(":")
                if op.get("op") == "add":
                    self._check_stage(ctx, api_id, stage)
                    rec["apiStages"].append({"apiId": api_id, "stage": stage})
                elif op.get("op") == "remove":
                    rec["apiStages"] = [
                        s for s in rec["apiStages"] if (s["apiId"], s["stage"]) != (api_id, stage)
                    ]
                continue
            plain.append(op)
        patch.apply(rec, plain, allowed={"name", "description", "throttle", "quota", "productCode"})
        self.state.put_record("usage_plans", ctx.account_id, ctx.region, rec["id"], rec)
        return _plan_out(rec)

    def delete_usage_plan(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rec = self._plan(ctx, params.get("usagePlanId", ""))
        self.state.delete_record("usage_plans", ctx.account_id, ctx.region, rec["id"])
        return {}

    # -- usage plan keys -------------------------------------------------------------------------

    def create_usage_plan_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        plan = self._plan(ctx, params.get("usagePlanId", ""))
        if (params.get("keyType") or "API_KEY") != "API_KEY":
            raise BadRequestException("Invalid key type specified")
        key = self._api_key(ctx, params.get("keyId", ""))
        if key["id"] in plan["keys"]:
            raise ConflictException("Usage Plan already contains specified key")
        plan["keys"].append(key["id"])
        self.state.put_record("usage_plans", ctx.account_id, ctx.region, plan["id"], plan)
        return {"id": key["id"], "type": "API_KEY", "value": key["value"], "name": key["name"]}

    def get_usage_plan_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        plan = self._plan(ctx, params.get("usagePlanId", ""))
        items = []
        for kid in plan["keys"]:
            key = self.state.get_record("api_keys", ctx.account_id, ctx.region, kid)
            if key and (not params.get("nameQuery") or key["name"].startswith(params["nameQuery"])):
                items.append(
                    {"id": kid, "type": "API_KEY", "value": key["value"], "name": key["name"]}
                )
        return page(items, params)

    def get_usage_plan_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        plan = self._plan(ctx, params.get("usagePlanId", ""))
        if params.get("keyId") not in plan["keys"]:
            raise NotFoundException("Invalid Usage Plan Key identifier specified")
        key = self._api_key(ctx, params["keyId"])
        return {"id": key["id"], "type": "API_KEY", "value": key["value"], "name": key["name"]}

    def delete_usage_plan_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        plan = self._plan(ctx, params.get("usagePlanId", ""))
        if params.get("keyId") not in plan["keys"]:
            raise NotFoundException("Invalid Usage Plan Key identifier specified")
        plan["keys"].remove(params["keyId"])
        self.state.put_record("usage_plans", ctx.account_id, ctx.region, plan["id"], plan)
        return {}

    # -- usage ---------------------------------------------------------------------------------

    def get_usage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        plan = self._plan(ctx, params.get("usagePlanId", ""))
        start, end = params.get("startDate") or "", params.get("endDate") or ""
        try:
            d0 = dt.date.fromisoformat(start)
            d1 = dt.date.fromisoformat(end)
        except ValueError:
            raise BadRequestException("Invalid date format: must be yyyy-MM-dd")
        if d1 < d0:
            raise BadRequestException("The usage data period cannot be negative.")
        self.flush_usage()
        rows = self.state.usage(ctx.account_id, ctx.region, plan["id"], start, end)
        limit = (plan.get("quota") or {}).get("limit")
        days = [(d0 + dt.timedelta(days=i)).isoformat() for i in range((d1 - d0).days + 1)]
        used: dict[str, dict[str, int]] = {}
        for key_id, day, n in rows:
            used.setdefault(key_id, {})[day] = n
        items: dict[str, list[list[int]]] = {}
        for key_id in plan["keys"]:
            if params.get("keyId") and key_id != params["keyId"]:
                continue
            per_day = used.get(key_id, {})
            items[key_id] = [
                [per_day.get(d, 0), (limit - per_day.get(d, 0)) if limit is not None else 0]
                for d in days
            ]
        return {"usagePlanId": plan["id"], "startDate": start, "endDate": end, "items": items}

    def update_usage(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        plan = self._plan(ctx, params.get("usagePlanId", ""))
        key_id = params.get("keyId", "")
        if key_id not in plan["keys"]:
            raise NotFoundException("Invalid Usage Plan Key identifier specified")
        self.flush_usage()
        today = _day(self.now())
        for op in params.get("patchOperations") or []:
            if op.get("path") == "/remaining" and op.get("op") == "replace":
                limit = (plan.get("quota") or {}).get("limit", 0)
                used = max(0, int(limit) - int(op.get("value", 0)))
                self.state.set_usage(ctx.account_id, ctx.region, plan["id"], key_id, today, used)
        self.reset_quota_cache()
        return self.get_usage(
            ctx, {"usagePlanId": plan["id"], "keyId": key_id, "startDate": today, "endDate": today}
        )
