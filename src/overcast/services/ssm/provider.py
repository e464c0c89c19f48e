"""SSM Parameter Store: String, StringList and SecureString parameters with versions, paths
and tags. SecureString values are stored as given (there is no KMS here yet) and returned as
given only WithDecryption; otherwise masked as AWS returns them encrypted."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from typing import Any

from overcast.core.clock import Clock
from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.store import Migration, Store

# The columns the current row of a parameter and each row of its history share.
_VERSION_COLUMNS = """
            account_id TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            version INTEGER NOT NULL,
            type TEXT NOT NULL,
            value TEXT NOT NULL,
            description TEXT,
            allowed_pattern TEXT,
            tier TEXT NOT NULL,
            data_type TEXT NOT NULL,
            key_id TEXT,
            modified REAL NOT NULL,"""

MIGRATIONS = [
    Migration(
        "0001_parameters",
        f"""
        CREATE TABLE parameters ({_VERSION_COLUMNS}
            tags TEXT NOT NULL,
            PRIMARY KEY (account_id, region, name)
        );
        CREATE TABLE parameter_history ({_VERSION_COLUMNS}
            PRIMARY KEY (account_id, region, name, version)
        );
        """,
    )
]

_NAME = re.compile(r"^[a-zA-Z0-9_.\-/]+$")
TYPES = ("String", "StringList", "SecureString")


def _error(code: str) -> type[ServiceError]:
    """A ServiceError class for one of SSM's error codes."""
    return type(code, (ServiceError,), {"code": code, "__module__": __name__})


ParameterNotFound = _error("ParameterNotFound")
ParameterAlreadyExists = _error("ParameterAlreadyExists")
ParameterPatternMismatchException = _error("ParameterPatternMismatchException")
UnsupportedParameterType = _error("UnsupportedParameterType")
SsmValidationException = _error("ValidationException")
ParameterVersionNotFound = _error("ParameterVersionNotFound")
InvalidNextToken = _error("InvalidNextToken")


class SsmProvider:
    SERVICE = "ssm"

    def __init__(self, store: Store, clock: Clock) -> None:
        self.db = store.open("ssm", MIGRATIONS)
        self.clock = clock

    # -- helpers -------------------------------------------------------------------------------

    def _arn(self, ctx: RequestContext, name: str) -> str:
        path = name if name.startswith("/") else "/" + name
        return f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:parameter{path}"

    def _row(self, ctx: RequestContext, name: str) -> Any:
        return self.db.query_one(
            "SELECT * FROM parameters WHERE account_id = ? AND region = ? AND name = ?",
            (ctx.account_id, ctx.region, name),
        )

    def _shape(
        self, ctx: RequestContext, row: Any, decrypt: bool, selector: str | None = None
    ) -> dict[str, Any]:
        value = row["value"]
        if row["type"] == "SecureString" and not decrypt:
            value = base64.b64encode(("kms:" + value).encode()).decode()
        out = {
            "Name": row["name"],
            "Type": row["type"],
            "Value": value,
            "Version": row["version"],
            "LastModifiedDate": datetime.fromtimestamp(row["modified"], UTC),
            "ARN": self._arn(ctx, row["name"]),
            "DataType": row["data_type"],
        }
        if selector:
            out["Selector"] = selector
        return out

    def _metadata(self, ctx: RequestContext, row: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Name": row["name"],
            "ARN": self._arn(ctx, row["name"]),
            "Type": row["type"],
            "LastModifiedDate": datetime.fromtimestamp(row["modified"], UTC),
            "LastModifiedUser": ctx.principal_arn or f"arn:aws:iam::{ctx.account_id}:root",
            "Version": row["version"],
            "Tier": row["tier"],
            "Policies": [],
            "DataType": row["data_type"],
        }
        if row["description"]:
            out["Description"] = row["description"]
        if row["allowed_pattern"]:
            out["AllowedPattern"] = row["allowed_pattern"]
        if row["key_id"]:
            out["KeyId"] = row["key_id"]
        return out

    def _lookup(self, ctx: RequestContext, name: str) -> tuple[Any, str | None]:
        """The row for `name`, which may carry a `:version` selector (version rows from history)."""
        base, _, sel = name.partition(":")
        row = self._row(ctx, base)
        if row is None:
            return None, None
        if not sel:
            return row, None
        if not sel.isdigit():
            raise SsmValidationException(f"Parameter label {sel} is not supported by Overcast")
        hist = self.db.query_one(
            "SELECT * FROM parameter_history WHERE account_id = ? AND region = ? AND name = ? "
            "AND version = ?",
            (ctx.account_id, ctx.region, base, int(sel)),
        )
        if hist is None:
            raise ParameterVersionNotFound(
                f"Systems Manager could not find version {sel} of {base}. Verify the version and "
                "try again."
            )
        return hist, ":" + sel

    # -- operations ----------------------------------------------------------------------------

    def put_parameter(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        value = params["Value"]
        if not _NAME.match(name) or len(name) > 2048:
            raise SsmValidationException(
                'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). '
                "It must use only letters, numbers, or the following symbols: . (period), - "
                "(hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if "
                'specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.'
            )
        if name.lower().lstrip("/").startswith(("aws", "ssm")):
            raise SsmValidationException("No access to reserved parameter name: " + name + ".")
        existing = self._row(ctx, name)
        ptype = params.get("Type") or (existing["type"] if existing else None)
        if ptype is None:
            raise SsmValidationException(
                "A parameter type is required when you create a parameter."
            )
        if ptype not in TYPES:
            raise UnsupportedParameterType(ptype)
        if existing is not None and not params.get("Overwrite"):
            raise ParameterAlreadyExists(
                "The parameter already exists. To overwrite this value, "
                "set the overwrite option in the request to true."
            )
        if existing is not None and params.get("Tags"):
            raise SsmValidationException(
                "Invalid request: tags and overwrite can't be used together. "
                "To create a parameter with tags, please remove overwrite "
                "flag. To update tags for an existing parameter, please "
                "use AddTagsToResource or RemoveTagsFromResource."
            )
        pattern = params.get("AllowedPattern") or (
            existing["allowed_pattern"] if existing else None
        )
        if pattern and not re.fullmatch(pattern, value):
            raise ParameterPatternMismatchException(
                f"Parameter value, cannot be validated against allowedPattern: {pattern}"
            )
        tier = params.get("Tier") or (existing["tier"] if existing else "Standard")
        if tier == "Intelligent-Tiering":
            tier = "Standard" if len(value.encode()) <= 4096 else "Advanced"
        limit = 4096 if tier == "Standard" else 8192
        if len(value.encode()) > limit:
            raise SsmValidationException(
                f"Standard tier parameters support a maximum parameter value of {limit} "
                "characters. To create a larger parameter value, upgrade the parameter to use the "
                "advanced-parameter tier."
            )
        version = (existing["version"] + 1) if existing else 1
        now = self.clock.now()
        description = params.get("Description", existing["description"] if existing else None)
        data_type = params.get("DataType") or (existing["data_type"] if existing else "text")
        key_id = params.get("KeyId") or (existing["key_id"] if existing else None)
        if ptype == "SecureString" and not key_id:
            key_id = "alias/aws/ssm"
        tags = existing["tags"] if existing else json.dumps(params.get("Tags") or [])
        row = (
            ctx.account_id,
            ctx.region,
            name,
            version,
            ptype,
            value,
            description,
            pattern,
            tier,
            data_type,
            key_id,
            now,
        )
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT OR REPLACE INTO parameters VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", (*row, tags)
            )
            tx.execute("INSERT INTO parameter_history VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", row)
        return {"Version": version, "Tier": tier}

    def get_parameter(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        row, selector = self._lookup(ctx, name)
        if row is None:
            raise ParameterNotFound(f"Parameter {name.partition(':')[0]} not found.")
        return {"Parameter": self._shape(ctx, row, bool(params.get("WithDecryption")), selector)}

    def get_parameters(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        names = params["Names"]
        if len(names) > 10:
            raise SsmValidationException(
                "1 validation error detected: Value at 'names' failed to satisfy constraint: "
                "Member must have length less than or equal to 10"
            )
        found, invalid = [], []
        for name in dict.fromkeys(names):
            try:
                row, selector = self._lookup(ctx, name)
            except ParameterVersionNotFound:
                row, selector = None, None
            if row is None:
                invalid.append(name)
            else:
                found.append(self._shape(ctx, row, bool(params.get("WithDecryption")), selector))
        return {"Parameters": found, "InvalidParameters": invalid}

    def delete_parameter(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        if not self._delete(ctx, name):
            raise ParameterNotFound(f"Parameter {name} not found.")
        return {}

    def _delete(self, ctx: RequestContext, name: str) -> bool:
        with self.db.transaction() as tx:
            n = tx.execute(
                "DELETE FROM parameters WHERE account_id = ? AND region = ? AND name = ?",
                (ctx.account_id, ctx.region, name),
            ).rowcount
            tx.execute(
                "DELETE FROM parameter_history WHERE account_id = ? AND region = ? AND name = ?",
                (ctx.account_id, ctx.region, name),
            )
        return n > 0

    def delete_parameters(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        deleted: list[str] = []
        invalid: list[str] = []
        for name in params["Names"]:
            (deleted if self._delete(ctx, name) else invalid).append(name)
        return {"DeletedParameters": deleted, "InvalidParameters": invalid}

    def _all(self, ctx: RequestContext) -> list[Any]:
        return self.db.query(
            "SELECT * FROM parameters WHERE account_id = ? AND region = ? ORDER BY name",
            (ctx.account_id, ctx.region),
        )

    def _page(
        self, items: list[Any], params: dict[str, Any], default: int
    ) -> tuple[list[Any], str | None]:
        token = params.get("NextToken")
        start = 0
        if token:
            try:
                start = int(base64.b64decode(token).decode())
            except ValueError:
                raise InvalidNextToken("The specified token is not valid.") from None
        size = int(params.get("MaxResults") or default)
        end = start + size
        nxt = base64.b64encode(str(end).encode()).decode() if end < len(items) else None
        return items[start:end], nxt

    def get_parameters_by_path(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        path = params["Path"]
        if not path.startswith("/"):
            raise SsmValidationException(
                "The parameter doesn't meet the parameter name requirements. The parameter name "
                'must begin with a forward slash "/".'
            )
        prefix = path if path.endswith("/") else path + "/"
        recursive = bool(params.get("Recursive"))
        rows = []
        for row in self._all(ctx):
            name = row["name"]
            if not name.startswith(prefix):
                continue
            if not recursive and "/" in name[len(prefix) :]:
                continue
            if not _filters_match(row, params.get("ParameterFilters") or []):
                continue
            rows.append(row)
        page, token = self._page(rows, params, 10)
        out: dict[str, Any] = {
            "Parameters": [self._shape(ctx, r, bool(params.get("WithDecryption"))) for r in page]
        }
        if token:
            out["NextToken"] = token
        return out

    def describe_parameters(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        filters = list(params.get("ParameterFilters") or [])
        for f in params.get("Filters") or []:
            filters.append({"Key": f["Key"], "Option": "Equals", "Values": f["Values"]})
        rows = [r for r in self._all(ctx) if _filters_match(r, filters)]
        page, token = self._page(rows, params, 50)
        out: dict[str, Any] = {"Parameters": [self._metadata(ctx, r) for r in page]}
        if token:
            out["NextToken"] = token
        return out

    def get_parameter_history(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["Name"]
        rows = self.db.query(
            "SELECT * FROM parameter_history WHERE account_id = ? AND region = ? AND name = ? "
            "ORDER BY version",
            (ctx.account_id, ctx.region, name),
        )
        if not rows:
            raise ParameterNotFound(f"Parameter {name} not found.")
        page, token = self._page(rows, params, 50)
        items = []
        for r in page:
            item = {
                **self._metadata(ctx, r),
                "Value": self._shape(ctx, r, bool(params.get("WithDecryption")))["Value"],
                "Labels": [],
            }
            item.pop("ARN", None)
            items.append(item)
        out: dict[str, Any] = {"Parameters": items}
        if token:
            out["NextToken"] = token
        return out

    # -- tags ----------------------------------------------------------------------------------

    def _tags(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> tuple[Any, list[dict[str, str]]]:
        if params.get("ResourceType") != "Parameter":
            raise SsmValidationException("Overcast supports tags on parameters only")
        row = self._row(ctx, params["ResourceId"])
        if row is None:
            raise ServiceError(
                f"Parameter {params['ResourceId']} not found.", code="InvalidResourceId"
            )
        return row, json.loads(row["tags"])

    def _set_tags(self, ctx: RequestContext, name: str, tags: list[dict[str, str]]) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE parameters SET tags = ? WHERE account_id = ? AND region = ? AND name = ?",
                (json.dumps(tags), ctx.account_id, ctx.region, name),
            )

    def add_tags_to_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        row, tags = self._tags(ctx, params)
        merged = {t["Key"]: t["Value"] for t in tags}
        merged.update({t["Key"]: t["Value"] for t in params["Tags"]})
        self._set_tags(ctx, row["name"], [{"Key": k, "Value": v} for k, v in merged.items()])
        return {}

    def remove_tags_from_resource(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        row, tags = self._tags(ctx, params)
        drop = set(params["TagKeys"])
        self._set_tags(ctx, row["name"], [t for t in tags if t["Key"] not in drop])
        return {}

    def list_tags_for_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _, tags = self._tags(ctx, params)
        return {"TagList": tags}


def _filters_match(row: Any, filters: list[dict[str, Any]]) -> bool:
    for f in filters:
        key, option = f["Key"], f.get("Option", "Equals")
        values = f.get("Values") or []
        if key == "Name":
            name = row["name"]
            if option == "BeginsWith":
                ok = any(name.startswith(v) or name.startswith("/" + v.lstrip("/")) for v in values)
            elif option == "Contains":
                ok = any(v in name for v in values)
            else:
                ok = name in values or name.lstrip("/") in [v.lstrip("/") for v in values]
        elif key == "Type":
            ok = row["type"] in values
        elif key == "KeyId":
            ok = row["key_id"] in values
        elif key == "Path":
            prefix = values[0] if values else "/"
            prefix = prefix if prefix.endswith("/") else prefix + "/"
            rest = row["name"][len(prefix) :] if row["name"].startswith(prefix) else None
            ok = rest is not None and (option == "Recursive" or "/" not in rest)
        elif key == "Tier":
            ok = row["tier"] in values
        elif key == "DataType":
            ok = row["data_type"] in values
        elif key.startswith("tag:"):
            tags = {t["Key"]: t["Value"] for t in json.loads(row["tags"])}
            ok = key[4:] in tags and (not values or tags[key[4:]] in values)
        else:
            raise ServiceError(
                f"The following filter key is not valid: {key}", code="InvalidFilterKey"
            )
        if not ok:
            return False
    return True
