"""AWS::Lambda::Function, ::Version, ::Alias, ::Permission, ::LayerVersion, ::Url and
::EventInvokeConfig through the Lambda API."""

from __future__ import annotations

import asyncio
import io
import zipfile
from typing import Any

from overcast.services.cloudformation.resources.base import (
    ResourceContext,
    ResourceError,
    ResourceHandler,
    Result,
    as_int,
    ignore_missing,
    name_from_arn,
    pick,
    tags_map,
)

_MISSING = ("ResourceNotFoundException",)


def inline_zip(source: str, runtime: str) -> bytes:
    """A ZipFile property as the zip CloudFormation builds: index.py / index.js at the root."""
    name = "index.js" if runtime.startswith("nodejs") else "index.py"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        zf.writestr(info, source)
    return buf.getvalue()


def _code(props: dict[str, Any]) -> dict[str, Any]:
    code = props.get("Code") or {}
    if "ZipFile" in code:
        return {"ZipFile": inline_zip(str(code["ZipFile"]), str(props.get("Runtime", "")))}
    return pick(code, "S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri")


_CONFIG = (
    "Description",
    "Handler",
    "Runtime",
    "Role",
    "Layers",
    "TracingConfig",
    "DeadLetterConfig",
    "KMSKeyArn",
    "VpcConfig",
    "FileSystemConfigs",
    "LoggingConfig",
    "ImageConfig",
    "SnapStart",
    "EphemeralStorage",
)


def _configuration(props: dict[str, Any]) -> dict[str, Any]:
    out = pick(props, *_CONFIG)
    if "KmsKeyArn" in props:
        out["KMSKeyArn"] = props["KmsKeyArn"]
    for key in ("Timeout", "MemorySize"):
        if props.get(key) is not None:
            out[key] = as_int(props[key])
    if "EphemeralStorage" in out:
        out["EphemeralStorage"] = {"Size": as_int(out["EphemeralStorage"].get("Size", 512))}
    env = props.get("Environment")
    if env is not None:
        out["Environment"] = {
            "Variables": {k: str(v) for k, v in (env.get("Variables") or {}).items()}
        }
    return out


async def _wait_ready(rc: ResourceContext, name: str) -> dict[str, Any]:
    """Wait until the function is Active and its last update done (as CloudFormation does)."""
    conf: dict[str, Any] = {}
    for _ in range(600):
        conf = await rc.call("lambda", "GetFunctionConfiguration", {"FunctionName": name})
        state, update = conf.get("State", "Active"), conf.get("LastUpdateStatus", "Successful")
        if state == "Failed" or update == "Failed":
            raise ResourceError(
                conf.get("StateReason") or conf.get("LastUpdateStatusReason") or "function failed"
            )
        if state == "Active" and update != "InProgress":
            return conf
        await asyncio.sleep(0.05)
    raise ResourceError(f"Function {name} did not become active")


class Function(ResourceHandler):
    """Ref: the function name. GetAtt: Arn."""

    TYPE = "AWS::Lambda::Function"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        name = str(props.get("FunctionName") or rc.physical_name(64))
        params: dict[str, Any] = {
            "FunctionName": name,
            "Code": _code(props),
            "PackageType": props.get("PackageType", "Zip"),
            "Tags": tags_map(props, rc),
            **_configuration(props),
        }
        if props.get("Architectures"):
            params["Architectures"] = props["Architectures"]
        out = await rc.call("lambda", "CreateFunction", params)
        try:
            if props.get("ReservedConcurrentExecutions") is not None:
                await rc.call(
                    "lambda",
                    "PutFunctionConcurrency",
                    {
                        "FunctionName": name,
                        "ReservedConcurrentExecutions": as_int(
                            props["ReservedConcurrentExecutions"]
                        ),
                    },
                )
            await _wait_ready(rc, name)
        except Exception:
            await ignore_missing(
                rc.call("lambda", "DeleteFunction", {"FunctionName": name}), *_MISSING
            )
            raise
        return Result(name, {"Arn": out["FunctionArn"]})

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        if old.get("Code") != new.get("Code") or old.get("Architectures") != new.get(
            "Architectures"
        ):
            params = {"FunctionName": physical_id, **_code(new)}
            if new.get("Architectures"):
                params["Architectures"] = new["Architectures"]
            await rc.call("lambda", "UpdateFunctionCode", params)
            await _wait_ready(rc, physical_id)
        old_conf, new_conf = _configuration(old), _configuration(new)
        if old_conf != new_conf:
            params = {"FunctionName": physical_id, **new_conf}
            if "Environment" not in new_conf and "Environment" in old_conf:
                params["Environment"] = {"Variables": {}}
            if "Layers" not in new_conf and "Layers" in old_conf:
                params["Layers"] = []
            await rc.call("lambda", "UpdateFunctionConfiguration", params)
            await _wait_ready(rc, physical_id)
        if old.get("ReservedConcurrentExecutions") != new.get("ReservedConcurrentExecutions"):
            if new.get("ReservedConcurrentExecutions") is None:
                await rc.call("lambda", "DeleteFunctionConcurrency", {"FunctionName": physical_id})
            else:
                await rc.call(
                    "lambda",
                    "PutFunctionConcurrency",
                    {
                        "FunctionName": physical_id,
                        "ReservedConcurrentExecutions": as_int(new["ReservedConcurrentExecutions"]),
                    },
                )
        old_tags, new_tags = tags_map(old), tags_map(new)
        if old_tags != new_tags:
            arn = attributes["Arn"]
            gone = [k for k in old_tags if k not in new_tags]
            if gone:
                await rc.call("lambda", "UntagResource", {"Resource": arn, "TagKeys": gone})
            if new_tags:
                await rc.call("lambda", "TagResource", {"Resource": arn, "Tags": new_tags})
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call("lambda", "DeleteFunction", {"FunctionName": physical_id}), *_MISSING
        )


class Version(ResourceHandler):
    """Ref: the version ARN. GetAtt: Version, FunctionArn."""

    TYPE = "AWS::Lambda::Version"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        fn = str(props["FunctionName"])
        params = {"FunctionName": fn, **pick(props, "Description", "CodeSha256")}
        out = await rc.call("lambda", "PublishVersion", params)
        arn = out["FunctionArn"]
        pc = props.get("ProvisionedConcurrencyConfig")
        if pc:
            await rc.call(
                "lambda",
                "PutProvisionedConcurrencyConfig",
                {
                    "FunctionName": fn,
                    "Qualifier": out["Version"],
                    "ProvisionedConcurrentExecutions": as_int(
                        pc["ProvisionedConcurrentExecutions"]
                    ),
                },
            )
        return Result(arn, {"Version": out["Version"], "FunctionArn": arn.rsplit(":", 1)[0]})

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        fn, _, version = physical_id.rpartition(":")
        await ignore_missing(
            rc.call("lambda", "DeleteFunction", {"FunctionName": fn, "Qualifier": version}),
            *_MISSING,
        )


class Alias(ResourceHandler):
    """Ref: the alias ARN. GetAtt: AliasArn."""

    TYPE = "AWS::Lambda::Alias"

    def _params(self, props: dict[str, Any]) -> dict[str, Any]:
        out = {
            "FunctionName": str(props["FunctionName"]),
            "Name": str(props["Name"]),
            "FunctionVersion": str(props["FunctionVersion"]),
            **pick(props, "Description"),
        }
        routing = props.get("RoutingConfig")
        if routing:
            weights = {
                str(w["FunctionVersion"]): float(w["FunctionWeight"])
                for w in routing.get("AdditionalVersionWeights") or []
            }
            out["RoutingConfig"] = {"AdditionalVersionWeights": weights}
        return out

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        out = await rc.call("lambda", "CreateAlias", self._params(props))
        return Result(out["AliasArn"], {"AliasArn": out["AliasArn"]})

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        params = self._params(new)
        if "RoutingConfig" not in params:
            params["RoutingConfig"] = {"AdditionalVersionWeights": {}}
        await rc.call("lambda", "UpdateAlias", params)
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call(
                "lambda",
                "DeleteAlias",
                {"FunctionName": str(props["FunctionName"]), "Name": str(props["Name"])},
            ),
            *_MISSING,
        )


class Permission(ResourceHandler):
    """A statement in a function's resource policy. Ref: the statement id."""

    TYPE = "AWS::Lambda::Permission"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        sid = rc.physical_name(100)
        params = {
            "FunctionName": str(props["FunctionName"]),
            "StatementId": sid,
            "Action": props["Action"],
            "Principal": props["Principal"],
            **pick(
                props,
                "SourceArn",
                "SourceAccount",
                "EventSourceToken",
                "PrincipalOrgID",
                "FunctionUrlAuthType",
            ),
        }
        await rc.call("lambda", "AddPermission", params)
        return Result(sid, {})

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call(
                "lambda",
                "RemovePermission",
                {"FunctionName": str(props["FunctionName"]), "StatementId": physical_id},
            ),
            *_MISSING,
        )


class LayerVersion(ResourceHandler):
    """Ref: the layer version ARN. GetAtt: LayerVersionArn."""

    TYPE = "AWS::Lambda::LayerVersion"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        name = str(props.get("LayerName") or rc.physical_name(64))
        content = props.get("Content") or {}
        params = {
            "LayerName": name,
            "Content": pick(content, "S3Bucket", "S3Key", "S3ObjectVersion"),
            **pick(
                props, "Description", "CompatibleRuntimes", "LicenseInfo", "CompatibleArchitectures"
            ),
        }
        out = await rc.call("lambda", "PublishLayerVersion", params)
        arn = out["LayerVersionArn"]
        return Result(arn, {"LayerVersionArn": arn})

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        layer_arn, _, number = physical_id.rpartition(":")
        await ignore_missing(
            rc.call(
                "lambda",
                "DeleteLayerVersion",
                {"LayerName": layer_arn, "VersionNumber": int(number)},
            ),
            *_MISSING,
        )


class Url(ResourceHandler):
    """Ref: the function's ARN. GetAtt: FunctionArn, FunctionUrl."""

    TYPE = "AWS::Lambda::Url"

    def _params(self, props: dict[str, Any]) -> dict[str, Any]:
        out = {
            "FunctionName": str(props["TargetFunctionArn"]),
            "AuthType": props["AuthType"],
            **pick(props, "Qualifier", "InvokeMode"),
        }
        if props.get("Cors"):
            cors = dict(props["Cors"])
            if "MaxAge" in cors:
                cors["MaxAge"] = as_int(cors["MaxAge"])
            out["Cors"] = cors
        return out

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        out = await rc.call("lambda", "CreateFunctionUrlConfig", self._params(props))
        return Result(
            out["FunctionArn"],
            {"FunctionArn": out["FunctionArn"], "FunctionUrl": out["FunctionUrl"]},
        )

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        params = self._params(new)
        if "Cors" not in params:
            params["Cors"] = {}
        out = await rc.call("lambda", "UpdateFunctionUrlConfig", params)
        return Result(
            physical_id, {"FunctionArn": out["FunctionArn"], "FunctionUrl": out["FunctionUrl"]}
        )

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await ignore_missing(
            rc.call(
                "lambda",
                "DeleteFunctionUrlConfig",
                {"FunctionName": str(props["TargetFunctionArn"]), **pick(props, "Qualifier")},
            ),
            *_MISSING,
        )


class EventInvokeConfig(ResourceHandler):
    TYPE = "AWS::Lambda::EventInvokeConfig"

    def _params(self, props: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "FunctionName": str(props["FunctionName"]),
            "Qualifier": str(props.get("Qualifier", "$LATEST")),
        }
        for key in ("MaximumEventAgeInSeconds", "MaximumRetryAttempts"):
            if props.get(key) is not None:
                out[key] = as_int(props[key])
        if props.get("DestinationConfig"):
            out["DestinationConfig"] = props["DestinationConfig"]
        return out

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        await rc.call("lambda", "PutFunctionEventInvokeConfig", self._params(props))
        fn = name_from_arn(str(props["FunctionName"]))
        return Result(f"{fn}|{props.get('Qualifier', '$LATEST')}", {})

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        await rc.call("lambda", "PutFunctionEventInvokeConfig", self._params(new))
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        params = self._params(props)
        await ignore_missing(
            rc.call(
                "lambda",
                "DeleteFunctionEventInvokeConfig",
                {"FunctionName": params["FunctionName"], "Qualifier": params["Qualifier"]},
            ),
            *_MISSING,
        )


HANDLERS: list[ResourceHandler] = [
    Function(),
    Version(),
    Alias(),
    Permission(),
    LayerVersion(),
    Url(),
    EventInvokeConfig(),
]
