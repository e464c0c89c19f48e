"""Permissions (resource policy), concurrency (reserved and provisioned), event invoke
configurations, function URL configurations, tags and account settings."""

from __future__ import annotations

import secrets
from typing import Any

import orjson

from overcast.core.context import RequestContext
from overcast.services.lambda_.base import LATEST, FunctionRef, LambdaBase, function_arn, now_iso
from overcast.services.lambda_.errors import (
    InvalidParameterValue,
    PreconditionFailed,
    ProvisionedConcurrencyConfigNotFound,
    ResourceConflict,
    ResourceNotFound,
    constraint,
)

MIN_UNRESERVED = 100


class ExtrasMixin(LambdaBase):
    # -- resource policy ----------------------------------------------------------------------

    def _qualified(self, ctx: RequestContext, p: dict[str, Any]) -> tuple[FunctionRef, str]:
        ref = self.ref(ctx, p["FunctionName"], p.get("Qualifier"))
        self.require(ref)
        q = ref.qualifier or ""
        if q and q != LATEST:
            self.resolve_version(ref)
        return ref, q

    def add_permission(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref, q = self._qualified(ctx, p)
        sid = p["StatementId"]
        key = (ref.account_id, ref.region, ref.name, q)
        exists = self.db.query_one(
            "SELECT 1 FROM permissions WHERE account_id = ? AND region = ? AND function = ?"
            " AND qualifier = ? AND sid = ?",
            (*key, sid),
        )
        if exists:
            raise ResourceConflict(
                f"The statement id ({sid}) provided already exists. Please provide a new "
                "statement id, or remove the existing statement."
            )
        principal = p["Principal"]
        statement: dict[str, Any] = {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Service": principal}
            if "." in principal and not principal.isdigit()
            else {
                "AWS": principal
                if principal.startswith("arn:") or principal == "*"
                else f"arn:aws:iam::{principal}:root"
            },
            "Action": p["Action"],
            "Resource": function_arn(ref, ref.name, q),
        }
        condition: dict[str, Any] = {}
        if p.get("SourceArn"):
            condition.setdefault("ArnLike", {})["AWS:SourceArn"] = p["SourceArn"]
        if p.get("SourceAccount"):
            condition.setdefault("StringEquals", {})["AWS:SourceAccount"] = p["SourceAccount"]
        if p.get("PrincipalOrgID"):
            condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = p["PrincipalOrgID"]
        if p.get("FunctionUrlAuthType"):
            condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = p[
                "FunctionUrlAuthType"
            ]
        if condition:
            statement["Condition"] = condition
        with self.write() as tx:
            tx.execute(
                "INSERT INTO permissions (account_id, region, function, qualifier, sid, statement)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (*key, sid, orjson.dumps(statement)),
            )
        return {"Statement": orjson.dumps(statement).decode()}

    def remove_permission(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref, q = self._qualified(ctx, p)
        with self.write() as tx:
            cur = tx.execute(
                "DELETE FROM permissions WHERE account_id = ? AND region = ? AND function = ?"
                " AND qualifier = ? AND sid = ?",
                (ref.account_id, ref.region, ref.name, q, p["StatementId"]),
            )
        if cur.rowcount == 0:
            raise ResourceNotFound("No policy is associated with the given resource.")
        return {}

    def get_policy(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref, q = self._qualified(ctx, p)
        rows = self.db.query(
            "SELECT statement FROM permissions WHERE account_id = ? AND region = ?"
            " AND function = ? AND qualifier = ? ORDER BY rowid",
            (ref.account_id, ref.region, ref.name, q),
        )
        if not rows:
            raise ResourceNotFound("The resource you requested does not exist.")
        policy = {
            "Version": "2012-10-17",
            "Id": "default",
            "Statement": [orjson.loads(r[0]) for r in rows],
        }
        return {"Policy": orjson.dumps(policy).decode(), "RevisionId": secrets.token_hex(16)}

    # -- reserved concurrency -----------------------------------------------------------------

    def put_function_concurrency(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"])
        self.require(ref)
        value = int(p["ReservedConcurrentExecutions"])
        if value < 0:
            raise constraint(
                "reservedConcurrentExecutions",
                value,
                "Member must have value greater than or equal to 0",
            )
        row = self.db.query_one(
            "SELECT COALESCE(SUM(reserved_concurrency), 0) FROM function_meta WHERE"
            " account_id = ? AND region = ? AND name != ?",
            (ref.account_id, ref.region, ref.name),
        )
        others = int(row[0]) if row else 0
        if self.pool.config.account_limit - others - value < MIN_UNRESERVED:
            raise InvalidParameterValue(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
            )
        self._set_reserved(ref, value)
        return {"ReservedConcurrentExecutions": value}

    def _set_reserved(self, ref: FunctionRef, value: int | None) -> None:
        with self.write() as tx:
            tx.execute(
                "UPDATE function_meta SET reserved_concurrency = ? WHERE account_id = ?"
                " AND region = ? AND name = ?",
                (value, ref.account_id, ref.region, ref.name),
            )

    def get_function_concurrency(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"])
        self.require(ref)
        reserved = self.meta(ref)["reserved"]
        return {} if reserved is None else {"ReservedConcurrentExecutions": reserved}

    def delete_function_concurrency(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"])
        self.require(ref)
        self._set_reserved(ref, None)
        return {}

    # -- provisioned concurrency --------------------------------------------------------------

    async def put_provisioned_concurrency_config(
        self, ctx: RequestContext, p: dict[str, Any]
    ) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"], p["Qualifier"])
        if ref.qualifier == LATEST:
            raise InvalidParameterValue(
                "Provisioned Concurrency Configs cannot be applied to "
                "unpublished function versions."
            )
        fv, _ = self.resolve_version(ref)
        count = int(p["ProvisionedConcurrentExecutions"])
        modified = now_iso(self.clock)
        with self.write() as tx:
            tx.execute(
                "INSERT INTO provisioned (account_id, region, function, qualifier, requested,"
                " modified) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, region, function,"
                " qualifier) DO UPDATE SET requested = excluded.requested,"
                " modified = excluded.modified",
                (ref.account_id, ref.region, ref.name, ref.qualifier, count, modified),
            )
        spec = await self.spec_for(ctx, fv)  # type: ignore[attr-defined]
        ready = await self.pool.provision(spec, count)
        return self._provisioned_doc(count, ready, modified)

    def _provisioned_doc(self, requested: int, ready: int, modified: str) -> dict[str, Any]:
        status = "READY" if ready >= requested else "IN_PROGRESS"
        return {
            "RequestedProvisionedConcurrentExecutions": requested,
            "AllocatedProvisionedConcurrentExecutions": min(ready, requested),
            "AvailableProvisionedConcurrentExecutions": min(ready, requested),
            "Status": status,
            "LastModified": modified,
        }

    async def get_provisioned_concurrency_config(
        self, ctx: RequestContext, p: dict[str, Any]
    ) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"], p["Qualifier"])
        fv, _ = self.resolve_version(ref)
        row = self.db.query_one(
            "SELECT requested, modified FROM provisioned WHERE account_id = ? AND region = ?"
            " AND function = ? AND qualifier = ?",
            (ref.account_id, ref.region, ref.name, ref.qualifier),
        )
        if row is None:
            raise ProvisionedConcurrencyConfigNotFound(
                "No Provisioned Concurrency Config found for this function"
            )
        spec = await self.spec_for(ctx, fv)  # type: ignore[attr-defined]
        ready = await self.pool.provision(spec, int(row[0]))
        return self._provisioned_doc(int(row[0]), ready, row[1])

    async def delete_provisioned_concurrency_config(
        self, ctx: RequestContext, p: dict[str, Any]
    ) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"], p["Qualifier"])
        fv, _ = self.resolve_version(ref)
        with self.write() as tx:
            tx.execute(
                "DELETE FROM provisioned WHERE account_id = ? AND region = ? AND function = ?"
                " AND qualifier = ?",
                (ref.account_id, ref.region, ref.name, ref.qualifier),
            )
        spec = await self.spec_for(ctx, fv)  # type: ignore[attr-defined]
        await self.pool.provision(spec, 0)
        return {}

    def list_provisioned_concurrency_configs(
        self, ctx: RequestContext, p: dict[str, Any]
    ) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"])
        self.require(ref)
        rows = self.db.query(
            "SELECT qualifier, requested, modified FROM provisioned WHERE account_id = ?"
            " AND region = ? AND function = ?",
            (ref.account_id, ref.region, ref.name),
        )
        configs = []
        for q, requested, modified in rows:
            doc = self._provisioned_doc(requested, requested, modified)
            doc["FunctionArn"] = function_arn(ref, ref.name, q)
            configs.append(doc)
        return {"ProvisionedConcurrencyConfigs": configs}

    async def restore_provisioned(self, ctx: RequestContext) -> None:
        """At start-up: warm the environments provisioned before the restart."""
        for account, region, function, qualifier, requested in self.db.query(
            "SELECT account_id, region, function, qualifier, requested FROM provisioned"
        ):
            ref = FunctionRef(account, region, function, qualifier)
            try:
                fv, _ = self.resolve_version(ref)
                spec = await self.spec_for(ctx, fv)  # type: ignore[attr-defined]
                await self.pool.provision(spec, int(requested))
            except Exception as exc:  # one broken function must not stop start-up; say so
                import logging

                logging.getLogger("overcast.lambda").error(
                    "could not restore provisioned concurrency for %s:%s: %s",
                    function,
                    qualifier,
                    exc,
                )

    # -- event invoke configs -----------------------------------------------------------------

    def event_invoke_config(self, ref: FunctionRef, qualifier: str) -> dict[str, Any]:
        row = self.db.query_one(
            "SELECT config FROM event_invoke_configs WHERE account_id = ? AND region = ?"
            " AND function = ? AND qualifier = ?",
            (ref.account_id, ref.region, ref.name, qualifier),
        )
        return {} if row is None else dict(orjson.loads(row[0]))

    def _eic_write(self, ctx: RequestContext, p: dict[str, Any], merge: bool) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"], p.get("Qualifier"))
        self.require(ref)
        q = ref.qualifier or LATEST
        if q != LATEST:
            self.resolve_version(ref)
        current = self.event_invoke_config(ref, q) if merge else {}
        if merge and not current:
            raise ResourceNotFound(
                f"The function {function_arn(ref, ref.name, q)} doesn't have an EventInvokeConfig"
            )
        retries = p.get("MaximumRetryAttempts", current.get("MaximumRetryAttempts"))
        if retries is not None and not 0 <= int(retries) <= 2:
            raise constraint(
                "maximumRetryAttempts", retries, "Member must have value less than or equal to 2"
            )
        age = p.get("MaximumEventAgeInSeconds", current.get("MaximumEventAgeInSeconds"))
        if age is not None and not 60 <= int(age) <= 21600:
            raise constraint(
                "maximumEventAgeInSeconds", age, "Member must have value between 60 and 21600"
            )
        dest = p.get("DestinationConfig", current.get("DestinationConfig")) or {}
        for key in ("OnSuccess", "OnFailure"):
            target = (dest.get(key) or {}).get("Destination")
            if target and target.split(":")[2:3] == ["lambda"]:
                self.require(self.ref(ctx, target))
        config: dict[str, Any] = {
            "LastModified": self.clock.now(),
            "FunctionArn": function_arn(ref, ref.name, q),
            "DestinationConfig": {
                "OnSuccess": dest.get("OnSuccess") or {},
                "OnFailure": dest.get("OnFailure") or {},
            },
        }
        if retries is not None:
            config["MaximumRetryAttempts"] = int(retries)
        if age is not None:
            config["MaximumEventAgeInSeconds"] = int(age)
        with self.write() as tx:
            tx.execute(
                "INSERT INTO event_invoke_configs (account_id, region, function, qualifier,"
                " config) VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id, region, function,"
                " qualifier) DO UPDATE SET config = excluded.config",
                (ref.account_id, ref.region, ref.name, q, orjson.dumps(config)),
            )
        return config

    def put_function_event_invoke_config(
        self, ctx: RequestContext, p: dict[str, Any]
    ) -> dict[str, Any]:
        return self._eic_write(ctx, p, merge=False)

    def update_function_event_invoke_config(
        self, ctx: RequestContext, p: dict[str, Any]
    ) -> dict[str, Any]:
        return self._eic_write(ctx, p, merge=True)

    def get_function_event_invoke_config(
        self, ctx: RequestContext, p: dict[str, Any]
    ) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"], p.get("Qualifier"))
        self.require(ref)
        q = ref.qualifier or LATEST
        config = self.event_invoke_config(ref, q)
        if not config:
            raise ResourceNotFound(
                f"The function {function_arn(ref, ref.name, q)} doesn't have an EventInvokeConfig"
            )
        return config

    def delete_function_event_invoke_config(
        self, ctx: RequestContext, p: dict[str, Any]
    ) -> dict[str, Any]:
        self.get_function_event_invoke_config(ctx, p)
        ref = self.ref(ctx, p["FunctionName"], p.get("Qualifier"))
        with self.write() as tx:
            tx.execute(
                "DELETE FROM event_invoke_configs WHERE account_id = ? AND region = ?"
                " AND function = ? AND qualifier = ?",
                (ref.account_id, ref.region, ref.name, ref.qualifier or LATEST),
            )
        return {}

    def list_function_event_invoke_configs(
        self, ctx: RequestContext, p: dict[str, Any]
    ) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"])
        self.require(ref)
        rows = self.db.query(
            "SELECT config FROM event_invoke_configs WHERE account_id = ? AND region = ?"
            " AND function = ? ORDER BY qualifier",
            (ref.account_id, ref.region, ref.name),
        )
        return {"FunctionEventInvokeConfigs": [orjson.loads(r[0]) for r in rows]}

    # -- tags ---------------------------------------------------------------------------------

    def _tag_ref(self, ctx: RequestContext, resource: str) -> FunctionRef:
        ref = self.ref(ctx, resource)
        self.require(ref)
        return ref

    def _write_tags(self, ref: FunctionRef, tags: dict[str, str]) -> None:
        with self.write() as tx:
            tx.execute(
                "UPDATE function_meta SET tags = ? WHERE account_id = ? AND region = ?"
                " AND name = ?",
                (orjson.dumps(tags), ref.account_id, ref.region, ref.name),
            )

    def tag_resource(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref = self._tag_ref(ctx, p["Resource"])
        tags = {**self.meta(ref)["tags"], **(p.get("Tags") or {})}
        self._write_tags(ref, tags)
        return {}

    def untag_resource(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref = self._tag_ref(ctx, p["Resource"])
        tags = {k: v for k, v in self.meta(ref)["tags"].items() if k not in p["TagKeys"]}
        self._write_tags(ref, tags)
        return {}

    def list_tags(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": self.meta(self._tag_ref(ctx, p["Resource"]))["tags"]}

    # -- account ------------------------------------------------------------------------------

    def get_account_settings(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        rows = self.db.query(
            "SELECT config FROM functions WHERE account_id = ? AND region = ?",
            (ctx.account_id, ctx.region),
        )
        total = sum(int(orjson.loads(r[0]).get("CodeSize", 0)) for r in rows)
        count = len(
            self.db.query(
                "SELECT 1 FROM function_meta WHERE account_id = ? AND region = ?",
                (ctx.account_id, ctx.region),
            )
        )
        limit = self.pool.config.account_limit
        return {
            "AccountLimit": {
                "TotalCodeSize": 80530636800,
                "CodeSizeUnzipped": 262144000,
                "CodeSizeZipped": 52428800,
                "ConcurrentExecutions": limit,
                "UnreservedConcurrentExecutions": self.unreserved_limit(  # type: ignore[attr-defined]
                    ctx.account_id, ctx.region
                ),
            },
            "AccountUsage": {"TotalCodeSize": total, "FunctionCount": count},
        }

    # -- function URLs ------------------------------------------------------------------------

    def _url_row(self, ref: FunctionRef, q: str) -> Any:
        return self.db.query_one(
            "SELECT url_id, config FROM url_configs WHERE account_id = ? AND region = ?"
            " AND function = ? AND qualifier = ?",
            (ref.account_id, ref.region, ref.name, q),
        )

    def _url_ref(self, ctx: RequestContext, p: dict[str, Any]) -> tuple[FunctionRef, str]:
        ref = self.ref(ctx, p["FunctionName"], p.get("Qualifier"))
        self.require(ref)
        q = ref.qualifier or ""
        if q and (q == LATEST or q.isdigit()):
            raise InvalidParameterValue(
                "Function URLs can only be attached to $LATEST or an alias."
            )
        if q:
            self.resolve_version(ref)
        return ref, q

    def create_function_url_config(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref, q = self._url_ref(ctx, p)
        if self._url_row(ref, q) is not None:
            raise ResourceConflict(
                f"Failed to create function url config for [functionArn = "
                f"{function_arn(ref, ref.name, q)}]. Error message:  FunctionUrlConfig exists "
                "for this Lambda function"
            )
        # 32 lowercase letters and digits as on AWS, led by a letter: a host name such as
        # `8f3c….lambda-url.us-east-1.localhost` is taken for an IP address by the edge.
        url_id = secrets.choice("abcdef") + secrets.token_hex(16)[1:]
        _check_auth(p.get("AuthType"))
        now = now_iso(self.clock)
        config: dict[str, Any] = {
            "FunctionUrl": self.function_url(ctx, url_id),  # type: ignore[attr-defined]
            "FunctionArn": function_arn(ref, ref.name, q),
            "AuthType": p["AuthType"],
            "CreationTime": now,
            "LastModifiedTime": now,
            "InvokeMode": p.get("InvokeMode") or "BUFFERED",
        }
        if p.get("Cors"):
            config["Cors"] = p["Cors"]
        with self.write() as tx:
            tx.execute(
                "INSERT INTO url_configs (account_id, region, function, qualifier, url_id, config)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (ref.account_id, ref.region, ref.name, q, url_id, orjson.dumps(config)),
            )
        return config

    def get_function_url_config(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref, q = self._url_ref(ctx, p)
        row = self._url_row(ref, q)
        if row is None:
            raise ResourceNotFound("The resource you requested does not exist.")
        return dict(orjson.loads(row[1]))

    def update_function_url_config(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref, q = self._url_ref(ctx, p)
        row = self._url_row(ref, q)
        if row is None:
            raise ResourceNotFound("The resource you requested does not exist.")
        config = dict(orjson.loads(row[1]))
        if "AuthType" in p:
            _check_auth(p["AuthType"])
            config["AuthType"] = p["AuthType"]
        for key in ("Cors", "InvokeMode"):
            if key in p:
                config[key] = p[key]
        config["LastModifiedTime"] = now_iso(self.clock)
        with self.write() as tx:
            tx.execute(
                "UPDATE url_configs SET config = ? WHERE account_id = ? AND region = ?"
                " AND function = ? AND qualifier = ?",
                (orjson.dumps(config), ref.account_id, ref.region, ref.name, q),
            )
        return config

    def delete_function_url_config(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref, q = self._url_ref(ctx, p)
        with self.write() as tx:
            cur = tx.execute(
                "DELETE FROM url_configs WHERE account_id = ? AND region = ? AND function = ?"
                " AND qualifier = ?",
                (ref.account_id, ref.region, ref.name, q),
            )
        if cur.rowcount == 0:
            raise ResourceNotFound("The resource you requested does not exist.")
        return {}

    def list_function_url_configs(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"])
        self.require(ref)
        rows = self.db.query(
            "SELECT config FROM url_configs WHERE account_id = ? AND region = ? AND function = ?",
            (ref.account_id, ref.region, ref.name),
        )
        return {"FunctionUrlConfigs": [orjson.loads(r[0]) for r in rows]}

    def url_target(self, url_id: str) -> tuple[FunctionRef, dict[str, Any]] | None:
        """The function (and URL config) a function URL id belongs to."""
        row = self.db.query_one(
            "SELECT account_id, region, function, qualifier, config FROM url_configs"
            " WHERE url_id = ?",
            (url_id,),
        )
        if row is None:
            return None
        return FunctionRef(row[0], row[1], row[2], row[3] or None), dict(orjson.loads(row[4]))


def _check_auth(value: Any) -> None:
    if value not in ("NONE", "AWS_IAM"):
        raise constraint("authType", value, "Member must satisfy enum value set: [NONE, AWS_IAM]")


__all__ = ["ExtrasMixin", "PreconditionFailed"]
