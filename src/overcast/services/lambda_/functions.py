"""Functions, versions and aliases: create, read, update, delete, publish."""

from __future__ import annotations

import re
import uuid
from typing import Any

import orjson

from overcast.core.context import RequestContext
from overcast.core.errors import NotImplementedOperation, ServiceError
from overcast.core.http import FileBody
from overcast.runtime.launch import SUPPORTED_RUNTIMES
from overcast.services.lambda_ import code
from overcast.services.lambda_.base import (
    LATEST,
    FunctionRef,
    FunctionVersion,
    LambdaBase,
    function_arn,
    now_iso,
)
from overcast.services.lambda_.errors import (
    InvalidParameterValue,
    PreconditionFailed,
    ResourceConflict,
    constraint,
)
from overcast.services.lambda_.paging import marker, page

_ROLE = re.compile(r"^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
RESERVED_ENV = {
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
}
_CONFIG_KEYS = (
    "Role",
    "Handler",
    "Description",
    "Timeout",
    "MemorySize",
    "Runtime",
    "Environment",
    "DeadLetterConfig",
    "KMSKeyArn",
    "TracingConfig",
    "Layers",
    "EphemeralStorage",
    "LoggingConfig",
    "VpcConfig",
    "FileSystemConfigs",
    "SnapStart",
    "ImageConfig",
)


def _pending(config: dict[str, Any], creating: bool) -> dict[str, Any]:
    """The configuration as the mutating call reports it (the change is then applied at once,
    so every later read sees Active / Successful, which is what the boto3 waiters wait for)."""
    out = dict(config)
    if creating:
        out.update(
            State="Pending",
            StateReason="The function is being created.",
            StateReasonCode="Creating",
        )
    else:
        out.update(
            LastUpdateStatus="InProgress",
            LastUpdateStatusReason="The function is being created.",
            LastUpdateStatusReasonCode="Creating",
        )
        out["LastUpdateStatusReason"] = "The function is being updated."
    return out


class FunctionsMixin(LambdaBase):
    # -- validation -----------------------------------------------------------------------------

    def _validate(self, ctx: RequestContext, p: dict[str, Any], creating: bool) -> None:
        if "Timeout" in p and not 1 <= int(p["Timeout"]) <= 900:
            raise constraint(
                "timeout",
                p["Timeout"],
                "Member must have value less than or equal to 900"
                if p["Timeout"] > 900
                else "Member must have value greater than or equal to 1",
            )
        if "MemorySize" in p and not 128 <= int(p["MemorySize"]) <= 10240:
            raise constraint(
                "memorySize",
                p["MemorySize"],
                "Member must have value less than or equal to 10240"
                if p["MemorySize"] > 10240
                else "Member must have value greater than or equal to 128",
            )
        eph = (p.get("EphemeralStorage") or {}).get("Size")
        if eph is not None and not 512 <= int(eph) <= 10240:
            raise constraint(
                "ephemeralStorage.size", eph, "Member must have value between 512 and 10240"
            )
        if "Role" in p and not _ROLE.match(p["Role"] or ""):
            raise constraint(
                "role",
                p["Role"],
                "Member must satisfy regular expression pattern: "
                "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
            )
        runtime = p.get("Runtime")
        if runtime is not None and runtime not in SUPPORTED_RUNTIMES:
            raise InvalidParameterValue(
                f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must "
                f"satisfy enum value set: {sorted(SUPPORTED_RUNTIMES)} or be a valid ARN"
            )
        if creating and (p.get("PackageType") or "Zip") == "Zip":
            if not runtime:
                raise InvalidParameterValue(
                    "Runtime and Handler are mandatory parameters for "
                    "functions created with Zip packages."
                )
            if not p.get("Handler"):
                raise InvalidParameterValue(
                    "Runtime and Handler are mandatory parameters for "
                    "functions created with Zip packages."
                )
        if (p.get("PackageType") or "Zip") == "Image":
            raise InvalidParameterValue(
                "Overcast runs functions as processes: container image "
                "packages are not supported; use a Zip package."
            )
        variables = (p.get("Environment") or {}).get("Variables") or {}
        reserved = sorted(k for k in variables if k in RESERVED_ENV)
        if reserved:
            raise InvalidParameterValue(
                "Lambda was unable to configure your environment variables because the "
                "environment variables you have provided contains reserved keys that are "
                "currently not supported for modification. Reserved keys used in this request: "
                + ", ".join(reserved)
            )
        if len(orjson.dumps(variables)) > 4096:
            raise InvalidParameterValue(
                "Lambda was unable to configure your environment variables because the "
                "environment variables you have provided exceeded the 4KB limit."
            )

    async def _code_bytes(self, ctx: RequestContext, p: dict[str, Any]) -> bytes:
        """The zip from ZipFile, or fetched from S3 through the dispatcher."""
        if p.get("ZipFile"):
            data = p["ZipFile"]
            return bytes(data)
        bucket, key = p.get("S3Bucket"), p.get("S3Key")
        if not bucket or not key:
            raise InvalidParameterValue("Please provide a source for function code.")
        args: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if p.get("S3ObjectVersion"):
            args["VersionId"] = p["S3ObjectVersion"]
        try:
            out = await self.dispatcher.call(ctx, "s3", "GetObject", args)
        except NotImplementedOperation:
            raise InvalidParameterValue(
                "Error occurred while GetObject. S3 is not available in this Overcast, so code "
                "cannot be read from S3Bucket/S3Key; use ZipFile."
            ) from None
        except ServiceError as err:
            raise InvalidParameterValue(
                f"Error occurred while GetObject. S3 Error Code: {err.code}. S3 Error Message: "
                f"{err.message}"
            ) from None
        return _body_bytes(out.get("Body", b""))

    def _store_code(self, data: bytes) -> tuple[str, dict[str, Any]]:
        code.check_zip(data)
        blob = self.db.blobs.write(data)
        return blob, {"CodeSha256": code.sha256_b64(data), "CodeSize": len(data)}

    def _layers(self, ctx: RequestContext, arns: list[str]) -> list[dict[str, Any]]:
        out = []
        for layer_arn in arns:
            info = self.layer_by_arn(ctx, layer_arn)  # type: ignore[attr-defined]
            out.append({"Arn": layer_arn, "CodeSize": info["Content"]["CodeSize"]})
        return out

    # -- operations -----------------------------------------------------------------------------

    async def create_function(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        """CreateFunction: validate, store the zip as a blob, extract it, record $LATEST."""
        name = p["FunctionName"]
        self.check_name(name)
        self._validate(ctx, p, creating=True)
        ref = FunctionRef(ctx.account_id, ctx.region, name, None)
        if self.load(ref) is not None:
            raise ResourceConflict(f"Function already exist: {name}")
        data = await self._code_bytes(ctx, p.get("Code") or {})
        blob, code_info = self._store_code(data)
        config: dict[str, Any] = {
            "FunctionName": name,
            "FunctionArn": function_arn(ctx, name),
            "Runtime": p.get("Runtime"),
            "Role": p["Role"],
            "Handler": p.get("Handler"),
            **code_info,
            "Description": p.get("Description", ""),
            "Timeout": p.get("Timeout", 3),
            "MemorySize": p.get("MemorySize", 128),
            "LastModified": now_iso(self.clock),
            "Version": LATEST,
            "Environment": {"Variables": dict((p.get("Environment") or {}).get("Variables") or {})},
            "TracingConfig": p.get("TracingConfig") or {"Mode": "PassThrough"},
            "RevisionId": str(uuid.uuid4()),
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": p.get("Architectures") or ["x86_64"],
            "EphemeralStorage": p.get("EphemeralStorage") or {"Size": 512},
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "LoggingConfig": {
                "LogFormat": "Text",
                "LogGroup": f"/aws/lambda/{name}",
                **(p.get("LoggingConfig") or {}),
            },
            "RuntimeVersionConfig": {
                "RuntimeVersionArn": f"arn:aws:lambda:{ctx.region}::runtime:overcast-"
                f"{p.get('Runtime')}"
            },
        }
        for key in ("DeadLetterConfig", "KMSKeyArn", "VpcConfig", "FileSystemConfigs"):
            if p.get(key):
                config[key] = p[key]
        if p.get("Layers"):
            config["Layers"] = self._layers(ctx, p["Layers"])
        fv = FunctionVersion(ctx.account_id, ctx.region, name, LATEST, config, blob)
        self.prepare_code(fv)  # type: ignore[attr-defined]
        with self.write() as tx:
            self.save(fv)
            tx.execute(
                "INSERT INTO function_meta (account_id, region, name, tags) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (account_id, region, name) DO UPDATE SET tags = excluded.tags,"
                " reserved_concurrency = NULL, next_version = 1",
                (ctx.account_id, ctx.region, name, orjson.dumps(p.get("Tags") or {})),
            )
        # Role credentials and the runtime spec now, so the first invoke does not wait for them.
        await self.spec_for(ctx, fv)  # type: ignore[attr-defined]
        result = _pending(config, creating=True)
        if p.get("Publish"):
            published = self._publish(ctx, ref, None, p.get("Description"))
            result = _pending(published.config, creating=True)
        return result

    def get_function(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        """GetFunction: configuration, a download URL for the code, tags, concurrency."""
        ref = self.ref(ctx, p["FunctionName"], p.get("Qualifier"))
        fv, _ = self.resolve_version(ref)
        meta = self.meta(ref)
        out: dict[str, Any] = {
            "Configuration": fv.config,
            "Code": {"RepositoryType": "S3", "Location": self.code_url(ctx, fv)},  # type: ignore[attr-defined]
        }
        if ref.qualifier is None:
            out["Tags"] = meta["tags"]
        if meta["reserved"] is not None:
            out["Concurrency"] = {"ReservedConcurrentExecutions": meta["reserved"]}
        return out

    def get_function_configuration(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"], p.get("Qualifier"))
        fv, _ = self.resolve_version(ref)
        return fv.config

    def list_functions(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        """ListFunctions: $LATEST of each (or every version with FunctionVersion=ALL), paged."""
        every = p.get("FunctionVersion") == "ALL"
        rows = self.db.query(
            "SELECT name, version, config FROM functions WHERE account_id = ? AND region = ?"
            + ("" if every else " AND version = '$LATEST'"),
            (ctx.account_id, ctx.region),
        )
        items = sorted(((r[0], _version_order(r[1])), orjson.loads(r[2])) for r in rows)
        return page([c for _, c in items], p, "Functions", marker)

    def list_versions_by_function(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"])
        self.require(ref)
        rows = self.db.query(
            "SELECT version, config FROM functions WHERE account_id = ? AND region = ? AND name = ?",
            (ref.account_id, ref.region, ref.name),
        )
        items = sorted((_version_order(r[0]), orjson.loads(r[1])) for r in rows)
        return page([c for _, c in items], p, "Versions", marker)

    async def update_function_code(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"])
        fv = self.require(ref)
        _check_revision(fv, p)
        data = await self._code_bytes(ctx, p)
        if p.get("DryRun"):
            code.check_zip(data)
            return fv.config
        blob, code_info = self._store_code(data)
        old_blob = fv.code_blob
        fv.config.update(code_info)
        fv.code_blob = blob
        if p.get("Architectures"):
            fv.config["Architectures"] = p["Architectures"]
        self._touch(fv)
        self.prepare_code(fv)  # type: ignore[attr-defined]
        self.save(fv)
        self._maybe_free_blob(old_blob)
        await self.pool.retire(self.spec_prefix(fv))  # type: ignore[attr-defined]
        await self.spec_for(ctx, fv)  # type: ignore[attr-defined]
        result = _pending(fv.config, creating=False)
        if p.get("Publish"):
            result = _pending(self._publish(ctx, ref, None, None).config, creating=False)
        return result

    async def update_function_configuration(
        self, ctx: RequestContext, p: dict[str, Any]
    ) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"])
        fv = self.require(ref)
        _check_revision(fv, p)
        self._validate(ctx, p, creating=False)
        for key in _CONFIG_KEYS:
            if key not in p:
                continue
            if key == "Layers":
                layers = self._layers(ctx, p["Layers"])
                if layers:
                    fv.config["Layers"] = layers
                else:
                    fv.config.pop("Layers", None)
            elif key == "Environment":
                fv.config["Environment"] = {"Variables": dict(p[key].get("Variables") or {})}
            elif key == "LoggingConfig":
                fv.config["LoggingConfig"] = {**fv.config.get("LoggingConfig", {}), **p[key]}
            else:
                fv.config[key] = p[key]
        if "Runtime" in p:
            fv.config["RuntimeVersionConfig"] = {
                "RuntimeVersionArn": f"arn:aws:lambda:{ctx.region}::runtime:overcast-{p['Runtime']}"
            }
        self._touch(fv)
        self.prepare_code(fv)  # type: ignore[attr-defined]
        self.save(fv)
        await self.pool.retire(self.spec_prefix(fv))  # type: ignore[attr-defined]
        await self.spec_for(ctx, fv)  # type: ignore[attr-defined]
        return _pending(fv.config, creating=False)

    def _touch(self, fv: FunctionVersion) -> None:
        fv.config["LastModified"] = now_iso(self.clock)
        fv.config["RevisionId"] = str(uuid.uuid4())
        fv.config["LastUpdateStatus"] = "Successful"
        for k in ("LastUpdateStatusReason", "LastUpdateStatusReasonCode"):
            fv.config.pop(k, None)

    def _maybe_free_blob(self, blob: str) -> None:
        if self.db.query_one("SELECT 1 FROM functions WHERE code_blob = ?", (blob,)) is None:
            self.db.blobs.delete(blob)

    async def delete_function(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"], p.get("Qualifier"))
        self.require(ref)
        key = (ref.account_id, ref.region, ref.name)
        if ref.qualifier and ref.qualifier != LATEST:
            if not ref.qualifier.isdigit():
                raise InvalidParameterValue("Deletion of aliases is not supported.")
            fv = self.require(ref, ref.qualifier)
            with self.write() as tx:
                tx.execute(
                    "DELETE FROM functions WHERE account_id = ? AND region = ? AND name = ?"
                    " AND version = ?",
                    (*key, ref.qualifier),
                )
            self._maybe_free_blob(fv.code_blob)
        else:
            blobs = [
                r[0]
                for r in self.db.query(
                    "SELECT code_blob FROM functions WHERE account_id = ? AND region = ? AND name = ?",
                    key,
                )
            ]
            with self.write() as tx:
                for table in ("functions", "function_meta"):
                    tx.execute(
                        f"DELETE FROM {table} WHERE account_id = ? AND region = ? AND name = ?", key
                    )
                for table in (
                    "aliases",
                    "permissions",
                    "provisioned",
                    "event_invoke_configs",
                    "url_configs",
                ):
                    tx.execute(
                        f"DELETE FROM {table} WHERE account_id = ? AND region = ? AND function = ?",
                        key,
                    )
            for blob in set(blobs):
                self._maybe_free_blob(blob)
        await self.pool.retire(f"{ref.account_id}/{ref.region}/{ref.name}/")
        return {"StatusCode": 204}

    # -- versions -------------------------------------------------------------------------------

    def publish_version(self, ctx: RequestContext, p: dict[str, Any]) -> dict[str, Any]:
        ref = self.ref(ctx, p["FunctionName"])
        latest = self.require(ref)
        _check_revision(latest, p)
        if p.get("CodeSha256") and p["CodeSha256"] != latest.config["CodeSha256"]:
            raise InvalidParameterValue(
                f"CodeSHA256 ({p['CodeSha256']}) is different from current CodeSHA256 in $LATEST "
                f"({latest.config['CodeSha256']}). Please try again with the CodeSHA256 in $LATEST."
            )
        return self._publish(ctx, ref, latest, p.get("Description")).config

    def _publish(
        self,
        ctx: RequestContext,
        ref: FunctionRef,
        latest: FunctionVersion | None,
        description: str | None,
    ) -> FunctionVersion:
        latest = latest or self.require(ref)
        # AWS returns the newest version when nothing changed since it was published.
        rows = self.db.query(
            "SELECT version, config FROM functions WHERE account_id = ? AND region = ? AND name = ?"
            " AND version != '$LATEST'",
            (ref.account_id, ref.region, ref.name),
        )
        if rows:
            newest = max(rows, key=lambda r: int(r[0]))
            cfg = orjson.loads(newest[1])
            if _config_sha(cfg) == _config_sha(latest.config):
                return FunctionVersion(
                    ref.account_id, ref.region, ref.name, newest[0], cfg, latest.code_blob
                )
        meta = self.meta(ref)
        number = str(meta["next_version"])
        config = dict(latest.config)
        config.update(
            Version=number,
            FunctionArn=function_arn(ref, ref.name, number),
            RevisionId=str(uuid.uuid4()),
        )
        if description is not None:
            config["Description"] = description
        fv = FunctionVersion(ref.account_id, ref.region, ref.name, number, config, latest.code_blob)
        with self.write() as tx:
            self.save(fv)
            tx.execute(
                "UPDATE function_meta SET next_version = ? WHERE account_id = ? AND region = ?"
                " AND name = ?",
                (int(number) + 1, ref.account_id, ref.region, ref.name),
            )
        return fv


def _body_bytes(body: Any) -> bytes:
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, FileBody):
        with open(body.path, "rb") as f:
            f.seek(body.offset)
            return f.read() if body.length < 0 else f.read(body.length)
    if hasattr(body, "read"):
        return bytes(body.read())
    return bytes(body)


def _check_revision(fv: FunctionVersion, p: dict[str, Any]) -> None:
    if p.get("RevisionId") and p["RevisionId"] != fv.config["RevisionId"]:
        raise PreconditionFailed(
            "The Revision Id provided does not match the latest Revision Id. Call the "
            "GetFunction/GetAlias API to retrieve the latest Revision Id"
        )


def _config_sha(config: dict[str, Any]) -> str:
    import hashlib

    keep = {
        k: v
        for k, v in config.items()
        if k
        not in (
            "LastModified",
            "RevisionId",
            "Version",
            "FunctionArn",
            "Description",
            "State",
            "LastUpdateStatus",
        )
    }
    return hashlib.sha256(orjson.dumps(keep, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _version_order(version: str) -> int:
    return -1 if version == LATEST else int(version)
