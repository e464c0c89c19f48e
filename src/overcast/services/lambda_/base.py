"""What every part of the Lambda provider shares: the database, names and ARNs, loading records."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from overcast.core.arns import arn
from overcast.core.clock import Clock
from overcast.core.context import RequestContext
from overcast.dispatch import Dispatcher
from overcast.runtime import Pool
from overcast.services.lambda_.errors import (
    InvalidParameterValue,
    ResourceNotFound,
    ValidationException,
    function_not_found,
)
from overcast.store import Database

LATEST = "$LATEST"
_NAME = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
_FUNCTION_REF = re.compile(
    r"^(?:arn:(?P<partition>[a-z-]+):lambda:(?P<region>[a-z0-9-]+):(?P<acct>\d{12}):function:"
    r"|(?P<acct2>\d{12}):function:)?(?P<name>[a-zA-Z0-9-_]+)(?::(?P<qual>\$LATEST|[a-zA-Z0-9-_]+))?$"
)


@dataclass(slots=True)
class FunctionVersion:
    """One version ($LATEST or a number) of a function: its configuration document as AWS
    returns it (FunctionConfiguration) and the blob of its code zip."""

    account_id: str
    region: str
    name: str
    version: str
    config: dict[str, Any]
    code_blob: str

    @property
    def arn(self) -> str:
        return str(self.config["FunctionArn"])


@dataclass(slots=True)
class FunctionRef:
    """A FunctionName parameter resolved: which function, and the qualifier it carried."""

    account_id: str
    region: str
    name: str
    qualifier: str | None


def now_iso(clock: Clock) -> str:
    """LastModified as Lambda writes it: 2019-09-24T18:20:35.054+0000."""
    t = datetime.fromtimestamp(clock.now(), UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"


def function_arn(ctx_or_ref: RequestContext | FunctionRef, name: str, qualifier: str = "") -> str:
    acct = ctx_or_ref.account_id
    base = arn("lambda", ctx_or_ref.region, acct, f"function:{name}")
    return f"{base}:{qualifier}" if qualifier else base


class LambdaBase:
    """State and helpers shared by the provider's parts."""

    db: Database
    clock: Clock
    dispatcher: Dispatcher
    pool: Pool
    work_root: Path
    edge_url: str | None
    # Parsed records for the invoke path; cleared on every write (`invalidate`).
    _fv_cache: dict[tuple[str, str, str, str], FunctionVersion]
    _meta_cache: dict[tuple[str, ...], Any]

    def invalidate(self) -> None:
        """Forget cached records (call after any write to functions or their settings)."""
        self._fv_cache.clear()
        self._meta_cache.clear()

    # -- names --------------------------------------------------------------------------------

    def ref(self, ctx: RequestContext, value: str, qualifier: str | None = None) -> FunctionRef:
        """Resolve a function name, partial ARN or ARN (maybe with a qualifier)."""
        m = _FUNCTION_REF.match(value or "")
        if not m or len(m.group("name")) > 64:
            raise ValidationException(
                f"1 validation error detected: Value '{value}' at 'functionName' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
                "(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
            )
        acct = m.group("acct") or m.group("acct2") or ctx.account_id
        region = m.group("region") or ctx.region
        qual = m.group("qual")
        if qual and qualifier and qual != qualifier:
            raise InvalidParameterValue(
                "The derived qualifier from the function name does not "
                "match the specified qualifier."
            )
        return FunctionRef(acct, region, m.group("name"), qual or qualifier)

    # -- loading ------------------------------------------------------------------------------

    def load(
        self, ref: FunctionRef, version: str = LATEST, *, cached: bool = False
    ) -> FunctionVersion | None:
        """A version's record. `cached=True` (the invoke path only, which never mutates it)
        may return a shared parsed copy."""
        key = (ref.account_id, ref.region, ref.name, version)
        if cached:
            hit = self._fv_cache.get(key)
            if hit is not None:
                return hit
        row = self.db.query_one(
            "SELECT config, code_blob FROM functions WHERE account_id = ? AND region = ?"
            " AND name = ? AND version = ?",
            (ref.account_id, ref.region, ref.name, version),
        )
        if row is None:
            return None
        fv = FunctionVersion(
            ref.account_id, ref.region, ref.name, version, orjson.loads(row[0]), row[1]
        )
        if cached:
            self._fv_cache[key] = FunctionVersion(
                fv.account_id, fv.region, fv.name, fv.version, orjson.loads(row[0]), fv.code_blob
            )
            return self._fv_cache[key]
        return fv

    def require(
        self, ref: FunctionRef, version: str = LATEST, *, cached: bool = False
    ) -> FunctionVersion:
        fv = self.load(ref, version, cached=cached)
        if fv is None:
            if version != LATEST and self.load(ref) is not None:
                raise ResourceNotFound(
                    f"Function not found: {function_arn(ref, ref.name, version)}"
                )
            raise function_not_found(
                function_arn(ref, ref.name, "" if version == LATEST else version)
            )
        return fv

    def alias(self, ref: FunctionRef, name: str, *, cached: bool = False) -> dict[str, Any] | None:
        """An alias's configuration. `cached=True` (the invoke path only, which never mutates
        it) may return a shared copy, dropped with the other caches on any write."""
        key = ("alias", ref.account_id, ref.region, ref.name, name)
        if cached and key in self._meta_cache:
            return self._meta_cache[key]  # type: ignore[no-any-return]
        row = self.db.query_one(
            "SELECT config FROM aliases WHERE account_id = ? AND region = ? AND function = ?"
            " AND name = ?",
            (ref.account_id, ref.region, ref.name, name),
        )
        config = None if row is None else dict(orjson.loads(row[0]))
        if cached:
            self._meta_cache[key] = None if config is None else dict(config)
            return self._meta_cache[key]  # type: ignore[no-any-return]
        return config

    def resolve_version(
        self, ref: FunctionRef, *, cached: bool = False
    ) -> tuple[FunctionVersion, str | None]:
        """The version a qualified reference names (version number, $LATEST or alias), and the
        alias name if it went through one (routing weights are applied by the caller)."""
        q = ref.qualifier or LATEST
        if q == LATEST or q.isdigit():
            return self.require(ref, q, cached=cached), None
        alias = self.alias(ref, q, cached=cached)
        if alias is None:
            self.require(ref)
            raise function_not_found(function_arn(ref, ref.name, q))
        return self.require(ref, alias["FunctionVersion"], cached=cached), q

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that drops the invoke path's caches once it commits."""
        with self.db.transaction() as tx:
            self.db.after_commit(self.invalidate)
            yield tx

    def save(self, fv: FunctionVersion) -> None:
        with self.write() as tx:
            tx.execute(
                "INSERT INTO functions (account_id, region, name, version, config, code_blob,"
                " created) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, region, name,"
                " version) DO UPDATE SET config = excluded.config, code_blob = excluded.code_blob",
                (
                    fv.account_id,
                    fv.region,
                    fv.name,
                    fv.version,
                    orjson.dumps(fv.config),
                    fv.code_blob,
                    self.clock.now(),
                ),
            )

    def meta(self, ref: FunctionRef) -> dict[str, Any]:
        row = self.db.query_one(
            "SELECT tags, reserved_concurrency, next_version FROM function_meta"
            " WHERE account_id = ? AND region = ? AND name = ?",
            (ref.account_id, ref.region, ref.name),
        )
        if row is None:
            return {"tags": {}, "reserved": None, "next_version": 1}
        return {"tags": orjson.loads(row[0]), "reserved": row[1], "next_version": row[2]}

    def check_name(self, name: str) -> None:
        if not _NAME.match(name):
            raise ValidationException(
                f"1 validation error detected: Value '{name}' at 'functionName' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
                "(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
            )

    def code_dir(self, fv: FunctionVersion) -> Path:
        sha = str(fv.config["CodeSha256"]).replace("/", "_").replace("+", "-").rstrip("=")
        return self.work_root / "code" / fv.account_id / fv.region / fv.name / sha
