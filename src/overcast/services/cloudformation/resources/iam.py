"""AWS::IAM::Role, ::Policy and ::ManagedPolicy through the IAM API (stored now, enforced
later)."""

from __future__ import annotations

from typing import Any

from overcast.services.cloudformation.resources.base import (
    ResourceContext,
    ResourceHandler,
    Result,
    as_int,
    as_json_text,
    changed,
    ignore_missing,
    tags_list,
)

_MISSING = ("NoSuchEntity",)


class Role(ResourceHandler):
    """Ref: the role name. GetAtt: Arn, RoleId."""

    TYPE = "AWS::IAM::Role"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        name = str(props.get("RoleName") or rc.physical_name(64))
        params: dict[str, Any] = {
            "RoleName": name,
            "AssumeRolePolicyDocument": as_json_text(props.get("AssumeRolePolicyDocument", {})),
            "Path": props.get("Path", "/"),
        }
        if props.get("Description"):
            params["Description"] = props["Description"]
        if props.get("MaxSessionDuration"):
            params["MaxSessionDuration"] = as_int(props["MaxSessionDuration"])
        if props.get("PermissionsBoundary"):
            params["PermissionsBoundary"] = props["PermissionsBoundary"]
        tags = tags_list(props)
        if tags:
            params["Tags"] = tags
        out = await rc.call("iam", "CreateRole", params)
        try:
            await self._attach(rc, name, {}, props)
        except Exception:
            await self.delete(rc, name, props)
            raise
        role = out["Role"]
        return Result(name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    async def _attach(
        self, rc: ResourceContext, name: str, old: dict[str, Any], new: dict[str, Any]
    ) -> None:
        old_arns = set(old.get("ManagedPolicyArns") or [])
        new_arns = set(new.get("ManagedPolicyArns") or [])
        for arn in sorted(new_arns - old_arns):
            await rc.call("iam", "AttachRolePolicy", {"RoleName": name, "PolicyArn": arn})
        for arn in sorted(old_arns - new_arns):
            await ignore_missing(
                rc.call("iam", "DetachRolePolicy", {"RoleName": name, "PolicyArn": arn}), *_MISSING
            )
        old_inline = {p["PolicyName"]: p for p in old.get("Policies") or []}
        new_inline = {p["PolicyName"]: p for p in new.get("Policies") or []}
        for pname, pol in new_inline.items():
            if old_inline.get(pname) != pol:
                await rc.call(
                    "iam",
                    "PutRolePolicy",
                    {
                        "RoleName": name,
                        "PolicyName": pname,
                        "PolicyDocument": as_json_text(pol["PolicyDocument"]),
                    },
                )
        for pname in old_inline.keys() - new_inline.keys():
            await ignore_missing(
                rc.call("iam", "DeleteRolePolicy", {"RoleName": name, "PolicyName": pname}),
                *_MISSING,
            )

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        if old.get("AssumeRolePolicyDocument") != new.get("AssumeRolePolicyDocument"):
            await rc.call(
                "iam",
                "UpdateAssumeRolePolicy",
                {
                    "RoleName": physical_id,
                    "PolicyDocument": as_json_text(new.get("AssumeRolePolicyDocument", {})),
                },
            )
        if changed(old, new, "Description", "MaxSessionDuration"):
            params: dict[str, Any] = {
                "RoleName": physical_id,
                "Description": new.get("Description", ""),
            }
            if new.get("MaxSessionDuration"):
                params["MaxSessionDuration"] = as_int(new["MaxSessionDuration"])
            await rc.call("iam", "UpdateRole", params)
        await self._attach(rc, physical_id, old, new)
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        # A role must be empty before it can be deleted, as in IAM.
        try:
            attached = await rc.call("iam", "ListAttachedRolePolicies", {"RoleName": physical_id})
        except Exception as exc:
            if getattr(exc, "code", "") in _MISSING:
                return
            raise
        for pol in attached.get("AttachedPolicies", []):
            await ignore_missing(
                rc.call(
                    "iam",
                    "DetachRolePolicy",
                    {"RoleName": physical_id, "PolicyArn": pol["PolicyArn"]},
                ),
                *_MISSING,
            )
        inline = await rc.call("iam", "ListRolePolicies", {"RoleName": physical_id})
        for pname in inline.get("PolicyNames", []):
            await ignore_missing(
                rc.call("iam", "DeleteRolePolicy", {"RoleName": physical_id, "PolicyName": pname}),
                *_MISSING,
            )
        await ignore_missing(rc.call("iam", "DeleteRole", {"RoleName": physical_id}), *_MISSING)


def _names(value: Any) -> list[str]:
    return [str(v) for v in value or []]


class Policy(ResourceHandler):
    """An inline policy put on roles (users and groups are not modelled yet). Ref: a generated
    id."""

    TYPE = "AWS::IAM::Policy"

    async def _put(self, rc: ResourceContext, props: dict[str, Any]) -> None:
        for role in _names(props.get("Roles")):
            await rc.call(
                "iam",
                "PutRolePolicy",
                {
                    "RoleName": role,
                    "PolicyName": props["PolicyName"],
                    "PolicyDocument": as_json_text(props["PolicyDocument"]),
                },
            )

    async def _remove(self, rc: ResourceContext, props: dict[str, Any], keep: set[str]) -> None:
        for role in _names(props.get("Roles")):
            if role in keep:
                continue
            await ignore_missing(
                rc.call(
                    "iam", "DeleteRolePolicy", {"RoleName": role, "PolicyName": props["PolicyName"]}
                ),
                *_MISSING,
            )

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        await self._put(rc, props)
        physical = f"{rc.stack_name[:5]}-{rc.physical_name(20).rsplit('-', 1)[1]}"
        return Result(physical, {"Id": physical})

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        keep = (
            set(_names(new.get("Roles")))
            if old.get("PolicyName") == new.get("PolicyName")
            else set()
        )
        await self._remove(rc, old, keep)
        await self._put(rc, new)
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        await self._remove(rc, props, set())


class ManagedPolicy(ResourceHandler):
    """Ref: the policy ARN. GetAtt: PolicyArn, PolicyId, ... ."""

    TYPE = "AWS::IAM::ManagedPolicy"

    async def create(self, rc: ResourceContext, props: dict[str, Any]) -> Result:
        name = str(props.get("ManagedPolicyName") or rc.physical_name(128))
        params: dict[str, Any] = {
            "PolicyName": name,
            "PolicyDocument": as_json_text(props["PolicyDocument"]),
            "Path": props.get("Path", "/"),
        }
        if props.get("Description"):
            params["Description"] = props["Description"]
        out = (await rc.call("iam", "CreatePolicy", params))["Policy"]
        arn = out["Arn"]
        for role in _names(props.get("Roles")):
            await rc.call("iam", "AttachRolePolicy", {"RoleName": role, "PolicyArn": arn})
        attrs = {
            "PolicyArn": arn,
            "PolicyId": out.get("PolicyId"),
            "PolicyName": name,
            "DefaultVersionId": out.get("DefaultVersionId", "v1"),
        }
        return Result(arn, attrs)

    async def update(
        self,
        rc: ResourceContext,
        physical_id: str,
        old: dict[str, Any],
        new: dict[str, Any],
        attributes: dict[str, Any],
    ) -> Result:
        if old.get("PolicyDocument") != new.get("PolicyDocument"):
            await rc.call(
                "iam",
                "CreatePolicyVersion",
                {
                    "PolicyArn": physical_id,
                    "SetAsDefault": True,
                    "PolicyDocument": as_json_text(new["PolicyDocument"]),
                },
            )
        old_roles, new_roles = set(_names(old.get("Roles"))), set(_names(new.get("Roles")))
        for role in sorted(new_roles - old_roles):
            await rc.call("iam", "AttachRolePolicy", {"RoleName": role, "PolicyArn": physical_id})
        for role in sorted(old_roles - new_roles):
            await ignore_missing(
                rc.call("iam", "DetachRolePolicy", {"RoleName": role, "PolicyArn": physical_id}),
                *_MISSING,
            )
        return Result(physical_id, attributes)

    async def delete(self, rc: ResourceContext, physical_id: str, props: dict[str, Any]) -> None:
        for role in _names(props.get("Roles")):
            await ignore_missing(
                rc.call("iam", "DetachRolePolicy", {"RoleName": role, "PolicyArn": physical_id}),
                *_MISSING,
            )
        await ignore_missing(rc.call("iam", "DeletePolicy", {"PolicyArn": physical_id}), *_MISSING)


HANDLERS = [Role(), Policy(), ManagedPolicy()]
