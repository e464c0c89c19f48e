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
    changed,
    ignore_missing,
    name_from_arn,
    pick,
    tags_map,
)
from overcast.services.cloudformation.resources.generic import (
    Made,
    Name,
    Param,
    Spec,
    SpecHandler,
    follow_int,
    key,
    member,
    text,
    the_name,
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
    for name in ("Timeout", "MemorySize"):
        if props.get(name) is not None:
            out[name] = as_int(props[name])
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


async def _concurrency(
    rc: ResourceContext, name: str, old: dict[str, Any], new: dict[str, Any]
) -> None:
    await follow_int(
        rc,
        "lambda",
        {"FunctionName": name},
        (old, new, "ReservedConcurrentExecutions"),
        ("PutFunctionConcurrency", "ReservedConcurrentExecutions"),
        "DeleteFunctionConcurrency",
    )


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
            await _concurrency(rc, name, {}, props)
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
        if changed(old, new, "Code", "Architectures"):
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
        await _concurrency(rc, physical_id, old, new)
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


def _routing(routing: dict[str, Any]) -> dict[str, Any]:
    weights = {
        str(w["FunctionVersion"]): float(w["FunctionWeight"])
        for w in routing.get("AdditionalVersionWeights") or []
    }
    return {"AdditionalVersionWeights": weights}


def _cors(value: dict[str, Any]) -> dict[str, Any]:
    cors = dict(value)
    if "MaxAge" in cors:
        cors["MaxAge"] = as_int(cors["MaxAge"])
    return cors


class LayerVersion(SpecHandler):
    """Ref: the layer version ARN. GetAtt: LayerVersionArn. Deleted by layer and number."""

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


def _qualified(m: Made) -> str:
    return f"{name_from_arn(str(m.props['FunctionName']))}|{m.props.get('Qualifier', '$LATEST')}"


_FUNCTION = key("FunctionName")

HANDLERS: list[ResourceHandler] = [
    Function(),
    Version(),
    SpecHandler(
        Spec(
            "AWS::Lambda::Alias",
            "lambda",
            "CreateAlias",
            "DeleteAlias",
            _MISSING,
            keys=(_FUNCTION, key("Name")),
            params=(
                key("FunctionVersion"),
                Param("Description"),
                Param("RoutingConfig", conv=_routing, truthy=True),
            ),
            physical=member("AliasArn"),
            attributes={"AliasArn": member("AliasArn")},
            update="UpdateAlias",
            # A routing config left out of the template clears the weights.
            update_defaults={"RoutingConfig": {"AdditionalVersionWeights": {}}},
        )
    ),
    # A statement in a function's resource policy. Ref: the statement id.
    SpecHandler(
        Spec(
            "AWS::Lambda::Permission",
            "lambda",
            "AddPermission",
            "RemovePermission",
            _MISSING,
            keys=(_FUNCTION,),
            name=Name("StatementId", "", lambda rc: rc.physical_name(100)),
            params=(
                Param("Action", required=True),
                Param("Principal", required=True),
                *(
                    Param(p)
                    for p in (
                        "SourceArn",
                        "SourceAccount",
                        "EventSourceToken",
                        "PrincipalOrgID",
                        "FunctionUrlAuthType",
                    )
                ),
            ),
            physical=the_name,
            id_param="StatementId",
        )
    ),
    LayerVersion(
        Spec(
            "AWS::Lambda::LayerVersion",
            "lambda",
            "PublishLayerVersion",
            "DeleteLayerVersion",
            _MISSING,
            name=Name("LayerName", "LayerName", lambda rc: rc.physical_name(64)),
            params=(
                Param(
                    "Content",
                    conv=lambda c: pick(c, "S3Bucket", "S3Key", "S3ObjectVersion"),
                    default={},
                ),
                *(
                    Param(p)
                    for p in (
                        "Description",
                        "CompatibleRuntimes",
                        "LicenseInfo",
                        "CompatibleArchitectures",
                    )
                ),
            ),
            physical=member("LayerVersionArn"),
            attributes={"LayerVersionArn": member("LayerVersionArn")},
        )
    ),
    # Ref: the function's ARN. GetAtt: FunctionArn, FunctionUrl.
    SpecHandler(
        Spec(
            "AWS::Lambda::Url",
            "lambda",
            "CreateFunctionUrlConfig",
            "DeleteFunctionUrlConfig",
            _MISSING,
            keys=(key("TargetFunctionArn", "FunctionName"), Param("Qualifier")),
            params=(
                Param("AuthType", required=True),
                Param("InvokeMode"),
                Param("Cors", conv=_cors, truthy=True),
            ),
            physical=member("FunctionArn"),
            attributes={"FunctionArn": member("FunctionArn"), "FunctionUrl": member("FunctionUrl")},
            update="UpdateFunctionUrlConfig",
            update_defaults={"Cors": {}},
            update_attributes=True,
        )
    ),
    SpecHandler(
        Spec(
            "AWS::Lambda::EventInvokeConfig",
            "lambda",
            "PutFunctionEventInvokeConfig",
            "DeleteFunctionEventInvokeConfig",
            _MISSING,
            keys=(_FUNCTION, Param("Qualifier", conv=text, default="$LATEST")),
            params=(
                Param("MaximumEventAgeInSeconds", conv=as_int),
                Param("MaximumRetryAttempts", conv=as_int),
                Param("DestinationConfig", truthy=True),
            ),
            physical=_qualified,
            # Put again, whole: the configuration is keyed by function and qualifier.
            update="PutFunctionEventInvokeConfig",
        )
    ),
]
