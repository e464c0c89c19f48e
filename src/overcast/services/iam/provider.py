"""IAM roles and policies, stored (enforcement comes later): roles with inline and attached
policies and tags, customer managed policies with versions. AWS managed policies
(`arn:aws:iam::aws:policy/...`) can be attached without being created first."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from overcast.core import ids
from overcast.core.clock import Clock
from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.store import Migration, Store

MIGRATIONS = [
    Migration(
        "0001_roles_policies",
        """
        CREATE TABLE roles (
            account_id TEXT NOT NULL,
            name TEXT NOT NULL,
            role_id TEXT NOT NULL,
            path TEXT NOT NULL,
            trust_policy TEXT NOT NULL,
            description TEXT,
            max_session INTEGER NOT NULL,
            boundary TEXT,
            tags TEXT NOT NULL,
            created REAL NOT NULL,
            PRIMARY KEY (account_id, name)
        );
        CREATE TABLE role_policies (
            account_id TEXT NOT NULL,
            role_name TEXT NOT NULL,
            policy_name TEXT NOT NULL,
            document TEXT NOT NULL,
            PRIMARY KEY (account_id, role_name, policy_name)
        );
        CREATE TABLE role_attachments (
            account_id TEXT NOT NULL,
            role_name TEXT NOT NULL,
            policy_arn TEXT NOT NULL,
            PRIMARY KEY (account_id, role_name, policy_arn)
        );
        CREATE TABLE policies (
            account_id TEXT NOT NULL,
            arn TEXT NOT NULL,
            name TEXT NOT NULL,
            policy_id TEXT NOT NULL,
            path TEXT NOT NULL,
            description TEXT,
            default_version TEXT NOT NULL,
            next_version INTEGER NOT NULL,
            tags TEXT NOT NULL,
            created REAL NOT NULL,
            updated REAL NOT NULL,
            PRIMARY KEY (account_id, arn)
        );
        CREATE TABLE policy_versions (
            account_id TEXT NOT NULL,
            arn TEXT NOT NULL,
            version_id TEXT NOT NULL,
            document TEXT NOT NULL,
            created REAL NOT NULL,
            PRIMARY KEY (account_id, arn, version_id)
        );
        """,
    )
]

_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_POLICY_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")


class NoSuchEntity(ServiceError):
    code = "NoSuchEntity"
    status = 404


class EntityAlreadyExists(ServiceError):
    code = "EntityAlreadyExists"
    status = 409


class DeleteConflict(ServiceError):
    code = "DeleteConflict"
    status = 409


class MalformedPolicyDocument(ServiceError):
    code = "MalformedPolicyDocument"


class InvalidInput(ServiceError):
    code = "InvalidInput"


class IamValidationError(ServiceError):
    code = "ValidationError"


def _ts(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _document(text: str) -> str:
    """A policy document checked to be JSON with a Statement, returned as given."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise MalformedPolicyDocument("This policy contains invalid Json") from None
    if not isinstance(doc, dict) or "Statement" not in doc:
        raise MalformedPolicyDocument("Syntax errors in policy.")
    return text


def _name(value: str, field: str, pattern: re.Pattern[str] = _NAME) -> str:
    if not pattern.match(value):
        raise IamValidationError(
            f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        )
    return value


def _page(items: list[Any], params: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    start = int(params["Marker"]) if str(params.get("Marker") or "").isdigit() else 0
    size = int(params.get("MaxItems") or 100)
    end = start + size
    if end < len(items):
        return items[start:end], {"IsTruncated": True, "Marker": str(end)}
    return items[start:end], {"IsTruncated": False}


class IamProvider:
    SERVICE = "iam"

    def __init__(self, store: Store, clock: Clock) -> None:
        self.db = store.open("iam", MIGRATIONS)
        self.clock = clock

    # -- roles ---------------------------------------------------------------------------------

    def _role_row(self, ctx: RequestContext, name: str) -> Any:
        row = self.db.query_one(
            "SELECT * FROM roles WHERE account_id = ? AND name = ?", (ctx.account_id, name)
        )
        if row is None:
            raise NoSuchEntity(f"The role with name {name} cannot be found.")
        return row

    def _role(self, ctx: RequestContext, row: Any, full: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Path": row["path"],
            "RoleName": row["name"],
            "RoleId": row["role_id"],
            "Arn": f"arn:aws:iam::{ctx.account_id}:role{row['path']}{row['name']}",
            "CreateDate": _ts(row["created"]),
            "AssumeRolePolicyDocument": quote(row["trust_policy"]),
            "MaxSessionDuration": row["max_session"],
        }
        if row["description"]:
            out["Description"] = row["description"]
        if row["boundary"]:
            out["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": row["boundary"],
            }
        tags = json.loads(row["tags"])
        if tags and full:
            out["Tags"] = tags
        if full:
            out["RoleLastUsed"] = {}
        return out

    def create_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = _name(params["RoleName"], "roleName")
        path = params.get("Path") or "/"
        if not path.startswith("/") or not path.endswith("/"):
            raise IamValidationError(
                "The specified value for path is invalid. It must begin and "
                "end with / and contain only alphanumeric characters and/or "
                "/ characters."
            )
        trust = _document(params["AssumeRolePolicyDocument"])
        max_session = int(params.get("MaxSessionDuration") or 3600)
        if not 3600 <= max_session <= 43200:
            raise IamValidationError(
                f"1 validation error detected: Value '{max_session}' at 'maxSessionDuration' "
                "failed to satisfy constraint: Member must have value less than or equal to 43200"
            )
        with self.db.transaction() as tx:
            if tx.execute(
                "SELECT 1 FROM roles WHERE account_id = ? AND name = ? COLLATE NOCASE",
                (ctx.account_id, name),
            ).fetchone():
                raise EntityAlreadyExists(f"Role with name {name} already exists.")
            tx.execute(
                "INSERT INTO roles VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    ctx.account_id,
                    name,
                    ids.upper_id(21, "AROA"),
                    path,
                    trust,
                    params.get("Description"),
                    max_session,
                    params.get("PermissionsBoundary"),
                    json.dumps(params.get("Tags") or []),
                    self.clock.now(),
                ),
            )
        return {"Role": self._role(ctx, self._role_row(ctx, name), full=False)}

    def get_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Role": self._role(ctx, self._role_row(ctx, params["RoleName"]))}

    def list_roles(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        prefix = params.get("PathPrefix") or "/"
        rows = [
            r
            for r in self.db.query(
                "SELECT * FROM roles WHERE account_id = ? ORDER BY name", (ctx.account_id,)
            )
            if r["path"].startswith(prefix)
        ]
        page, more = _page(rows, params)
        return {"Roles": [self._role(ctx, r, full=False) for r in page], **more}

    def update_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._role_row(ctx, params["RoleName"])
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE roles SET description = ?, max_session = ? WHERE account_id = ? AND name = ?",
                (
                    params.get("Description", row["description"]),
                    int(params.get("MaxSessionDuration") or row["max_session"]),
                    ctx.account_id,
                    row["name"],
                ),
            )
        return {}

    def update_assume_role_policy(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        row = self._role_row(ctx, params["RoleName"])
        doc = _document(params["PolicyDocument"])
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE roles SET trust_policy = ? WHERE account_id = ? AND name = ?",
                (doc, ctx.account_id, row["name"]),
            )
        return {}

    def delete_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._role_row(ctx, params["RoleName"])
        name = row["name"]
        if self.db.query_one(
            "SELECT 1 FROM role_policies WHERE account_id = ? AND role_name = ?",
            (ctx.account_id, name),
        ):
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if self.db.query_one(
            "SELECT 1 FROM role_attachments WHERE account_id = ? AND role_name = ?",
            (ctx.account_id, name),
        ):
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        with self.db.transaction() as tx:
            tx.execute(
                "DELETE FROM roles WHERE account_id = ? AND name = ?", (ctx.account_id, name)
            )
        return {}

    def tag_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._role_row(ctx, params["RoleName"])
        tags = {t["Key"]: t["Value"] for t in json.loads(row["tags"])}
        tags.update({t["Key"]: t["Value"] for t in params["Tags"]})
        self._set_role_tags(ctx, row["name"], tags)
        return {}

    def untag_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._role_row(ctx, params["RoleName"])
        tags = {t["Key"]: t["Value"] for t in json.loads(row["tags"])}
        for key in params["TagKeys"]:
            tags.pop(key, None)
        self._set_role_tags(ctx, row["name"], tags)
        return {}

    def list_role_tags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._role_row(ctx, params["RoleName"])
        page, more = _page(json.loads(row["tags"]), params)
        return {"Tags": page, **more}

    def _set_role_tags(self, ctx: RequestContext, name: str, tags: dict[str, str]) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE roles SET tags = ? WHERE account_id = ? AND name = ?",
                (
                    json.dumps([{"Key": k, "Value": v} for k, v in tags.items()]),
                    ctx.account_id,
                    name,
                ),
            )

    # -- inline role policies ------------------------------------------------------------------

    def put_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._role_row(ctx, params["RoleName"])
        pname = _name(params["PolicyName"], "policyName", _POLICY_NAME)
        doc = _document(params["PolicyDocument"])
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO role_policies VALUES (?,?,?,?)",
                (ctx.account_id, row["name"], pname, doc),
            )
        return {}

    def get_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._role_row(ctx, params["RoleName"])
        pol = self.db.query_one(
            "SELECT * FROM role_policies WHERE account_id = ? AND role_name = ? AND policy_name = ?",
            (ctx.account_id, row["name"], params["PolicyName"]),
        )
        if pol is None:
            raise NoSuchEntity(f"The role policy with name {params['PolicyName']} cannot be found.")
        return {
            "RoleName": row["name"],
            "PolicyName": pol["policy_name"],
            "PolicyDocument": quote(pol["document"]),
        }

    def _delete_one(self, sql: str, args: tuple[Any, ...], missing: str) -> dict[str, Any]:
        """Delete a row; none deleted means the entity does not exist."""
        with self.db.transaction() as tx:
            if not tx.execute(sql, args).rowcount:
                raise NoSuchEntity(missing)
        return {}

    def delete_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._role_row(ctx, params["RoleName"])
        return self._delete_one(
            "DELETE FROM role_policies WHERE account_id = ? AND role_name = ? AND policy_name = ?",
            (ctx.account_id, row["name"], params["PolicyName"]),
            f"The role policy with name {params['PolicyName']} cannot be found.",
        )

    def _role_page(
        self, ctx: RequestContext, params: dict[str, Any], table: str, column: str
    ) -> tuple[list[Any], dict[str, Any]]:
        """One page of a column of the rows a role owns in `table` (its policies, attachments)."""
        row = self._role_row(ctx, params["RoleName"])
        values = [
            r[column]
            for r in self.db.query(
                f"SELECT {column} FROM {table} WHERE account_id = ? AND role_name = ? "
                f"ORDER BY {column}",
                (ctx.account_id, row["name"]),
            )
        ]
        return _page(values, params)

    def list_role_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        page, more = self._role_page(ctx, params, "role_policies", "policy_name")
        return {"PolicyNames": page, **more}

    # -- attached policies ---------------------------------------------------------------------

    def _attachable(self, ctx: RequestContext, arn: str) -> None:
        if arn.startswith("arn:aws:iam::aws:policy/"):
            return
        if self._policy_row(ctx, arn, required=False) is None:
            raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")

    def attach_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._role_row(ctx, params["RoleName"])
        self._attachable(ctx, params["PolicyArn"])
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT OR IGNORE INTO role_attachments VALUES (?,?,?)",
                (ctx.account_id, row["name"], params["PolicyArn"]),
            )
        return {}

    def detach_role_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._role_row(ctx, params["RoleName"])
        return self._delete_one(
            "DELETE FROM role_attachments WHERE account_id = ? AND role_name = ? AND policy_arn = ?",
            (ctx.account_id, row["name"], params["PolicyArn"]),
            f"Policy {params['PolicyArn']} was not found.",
        )

    def list_attached_role_policies(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        page, more = self._role_page(ctx, params, "role_attachments", "policy_arn")
        return {
            "AttachedPolicies": [
                {"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in page
            ],
            **more,
        }

    # -- managed policies ----------------------------------------------------------------------

    def _policy_row(self, ctx: RequestContext, arn: str, required: bool = True) -> Any:
        row = self.db.query_one(
            "SELECT * FROM policies WHERE account_id = ? AND arn = ?", (ctx.account_id, arn)
        )
        if row is None and required:
            raise NoSuchEntity(f"Policy {arn} was not found.")
        return row

    def _policy(self, ctx: RequestContext, row: Any) -> dict[str, Any]:
        count = self.db.query_one(
            "SELECT COUNT(*) FROM role_attachments WHERE account_id = ? AND policy_arn = ?",
            (ctx.account_id, row["arn"]),
        )
        out: dict[str, Any] = {
            "PolicyName": row["name"],
            "PolicyId": row["policy_id"],
            "Arn": row["arn"],
            "Path": row["path"],
            "DefaultVersionId": row["default_version"],
            "AttachmentCount": count[0] if count else 0,
            "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": True,
            "CreateDate": _ts(row["created"]),
            "UpdateDate": _ts(row["updated"]),
        }
        if row["description"]:
            out["Description"] = row["description"]
        tags = json.loads(row["tags"])
        if tags:
            out["Tags"] = tags
        return out

    def create_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = _name(params["PolicyName"], "policyName", _POLICY_NAME)
        path = params.get("Path") or "/"
        doc = _document(params["PolicyDocument"])
        arn = f"arn:aws:iam::{ctx.account_id}:policy{path}{name}"
        now = self.clock.now()
        with self.db.transaction() as tx:
            if tx.execute(
                "SELECT 1 FROM policies WHERE account_id = ? AND arn = ?", (ctx.account_id, arn)
            ).fetchone():
                raise EntityAlreadyExists(
                    f"A policy called {name} already exists. Duplicate names are not allowed."
                )
            tx.execute(
                "INSERT INTO policies VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    ctx.account_id,
                    arn,
                    name,
                    ids.upper_id(21, "ANPA"),
                    path,
                    params.get("Description"),
                    "v1",
                    2,
                    json.dumps(params.get("Tags") or []),
                    now,
                    now,
                ),
            )
            tx.execute(
                "INSERT INTO policy_versions VALUES (?,?,?,?,?)",
                (ctx.account_id, arn, "v1", doc, now),
            )
        return {"Policy": self._policy(ctx, self._policy_row(ctx, arn))}

    def get_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Policy": self._policy(ctx, self._policy_row(ctx, params["PolicyArn"]))}

    def list_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("Scope") == "AWS":
            return {"Policies": [], "IsTruncated": False}
        rows = self.db.query(
            "SELECT * FROM policies WHERE account_id = ? ORDER BY name", (ctx.account_id,)
        )
        items = [
            self._policy(ctx, r)
            for r in rows
            if r["path"].startswith(params.get("PathPrefix") or "/")
        ]
        if params.get("OnlyAttached"):
            items = [p for p in items if p["AttachmentCount"]]
        page, more = _page(items, params)
        return {"Policies": page, **more}

    def delete_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._policy_row(ctx, params["PolicyArn"])
        if self.db.query_one(
            "SELECT 1 FROM role_attachments WHERE account_id = ? AND policy_arn = ?",
            (ctx.account_id, row["arn"]),
        ):
            raise DeleteConflict("Cannot delete a policy attached to entities.")
        with self.db.transaction() as tx:
            tx.execute(
                "DELETE FROM policies WHERE account_id = ? AND arn = ?",
                (ctx.account_id, row["arn"]),
            )
            tx.execute(
                "DELETE FROM policy_versions WHERE account_id = ? AND arn = ?",
                (ctx.account_id, row["arn"]),
            )
        return {}

    def create_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._policy_row(ctx, params["PolicyArn"])
        doc = _document(params["PolicyDocument"])
        version = f"v{row['next_version']}"
        now = self.clock.now()
        with self.db.transaction() as tx:
            count = tx.execute(
                "SELECT COUNT(*) FROM policy_versions WHERE account_id = ? AND arn = ?",
                (ctx.account_id, row["arn"]),
            ).fetchone()[0]
            if count >= 5:
                raise ServiceError(
                    "A managed policy can have up to 5 versions. Before you create a new version, "
                    "you must delete an existing version.",
                    code="LimitExceeded",
                    status=409,
                )
            tx.execute(
                "INSERT INTO policy_versions VALUES (?,?,?,?,?)",
                (ctx.account_id, row["arn"], version, doc, now),
            )
            default = version if params.get("SetAsDefault") else row["default_version"]
            tx.execute(
                "UPDATE policies SET next_version = ?, default_version = ?, updated = ? "
                "WHERE account_id = ? AND arn = ?",
                (row["next_version"] + 1, default, now, ctx.account_id, row["arn"]),
            )
        return {
            "PolicyVersion": {
                "VersionId": version,
                "IsDefaultVersion": default == version,
                "CreateDate": _ts(now),
            }
        }

    def get_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._policy_row(ctx, params["PolicyArn"])
        ver = self.db.query_one(
            "SELECT * FROM policy_versions WHERE account_id = ? AND arn = ? AND version_id = ?",
            (ctx.account_id, row["arn"], params["VersionId"]),
        )
        if ver is None:
            raise NoSuchEntity(f"Policy {row['arn']} version {params['VersionId']} does not exist.")
        return {
            "PolicyVersion": {
                "Document": quote(ver["document"]),
                "VersionId": ver["version_id"],
                "IsDefaultVersion": ver["version_id"] == row["default_version"],
                "CreateDate": _ts(ver["created"]),
            }
        }

    def list_policy_versions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._policy_row(ctx, params["PolicyArn"])
        vers = self.db.query(
            "SELECT * FROM policy_versions WHERE account_id = ? AND arn = ? ORDER BY created DESC",
            (ctx.account_id, row["arn"]),
        )
        page, more = _page(list(vers), params)
        return {
            "Versions": [
                {
                    "VersionId": v["version_id"],
                    "CreateDate": _ts(v["created"]),
                    "IsDefaultVersion": v["version_id"] == row["default_version"],
                }
                for v in page
            ],
            **more,
        }

    def delete_policy_version(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row = self._policy_row(ctx, params["PolicyArn"])
        if params["VersionId"] == row["default_version"]:
            raise DeleteConflict("Cannot delete the default version of a policy.")
        return self._delete_one(
            "DELETE FROM policy_versions WHERE account_id = ? AND arn = ? AND version_id = ?",
            (ctx.account_id, row["arn"], params["VersionId"]),
            f"Policy {row['arn']} version {params['VersionId']} does not exist.",
        )
