"""The STS operations."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from overcast.core import ids
from overcast.core.arns import parse_arn
from overcast.core.clock import Clock
from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.store import Migration, Store

MIGRATIONS = [
    Migration(
        "0001_credentials",
        """
        CREATE TABLE credentials (
            access_key_id TEXT PRIMARY KEY,
            secret_access_key TEXT NOT NULL,
            session_token TEXT NOT NULL,
            account_id TEXT NOT NULL,
            principal_arn TEXT NOT NULL,
            user_id TEXT NOT NULL,
            expiration REAL NOT NULL
        );
        """,
    )
]

_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")


class StsValidationError(ServiceError):
    code = "ValidationError"


@dataclass(frozen=True, slots=True)
class Credential:
    """A temporary credential STS issued: what signature verification needs, and who it is."""

    access_key_id: str
    secret_access_key: str
    account_id: str
    principal_arn: str
    user_id: str
    expiration: float
    session_token: str


def _constraint(field: str, value: Any, text: str) -> StsValidationError:
    return StsValidationError(
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: "
        f"Member must {text}"
    )


def _duration(params: dict[str, Any], default: int, low: int, high: int) -> int:
    value = params.get("DurationSeconds", default)
    if value < low:
        raise _constraint("durationSeconds", value, f"have value greater than or equal to {low}")
    if value > high:
        raise _constraint("durationSeconds", value, f"have value less than or equal to {high}")
    return int(value)


class StsProvider:
    SERVICE = "sts"

    def __init__(self, store: Store, clock: Clock) -> None:
        self.db = store.open("sts", MIGRATIONS)
        self.clock = clock
        # Every request's signature check asks for its key: serve that from memory. STS is the
        # only writer of this table, so the cache (loaded from the store) stays exact.
        self._credentials: dict[str, Credential] = {
            row["access_key_id"]: _credential(row)
            for row in self.db.query(
                "SELECT * FROM credentials WHERE expiration >= ?", (clock.now(),)
            )
        }

    # -- lookups used by the edge --------------------------------------------------------------

    def credential(self, access_key_id: str) -> Credential | None:
        """A credential STS issued and that has not expired, or None."""
        cred = self._credentials.get(access_key_id)
        if cred is None or cred.expiration < self.clock.now():
            return None
        return cred

    # -- operations ----------------------------------------------------------------------------

    def get_caller_identity(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        # Runs on every identity check clients make: self.credential() inlined.
        key = ctx.access_key_id
        cred = self._credentials.get(key) if key else None
        if cred is not None and cred.expiration >= self.clock.now():
            return {"UserId": cred.user_id, "Account": cred.account_id, "Arn": cred.principal_arn}
        account = ctx.account_id
        return {
            "UserId": account,
            "Account": account,
            "Arn": ctx.principal_arn or f"arn:aws:iam::{account}:root",
        }

    def assume_role(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        role_arn = params["RoleArn"]
        session = params["RoleSessionName"]
        duration = _duration(params, 3600, 900, 43200)
        self._check_session_name(session)
        account, role_name = self._role(role_arn)
        return self._assumed(account, role_name, session, duration)

    def assume_role_with_web_identity(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        role_arn = params["RoleArn"]
        session = params["RoleSessionName"]
        duration = _duration(params, 3600, 900, 43200)
        self._check_session_name(session)
        account, role_name = self._role(role_arn)
        claims = _jwt_claims(params["WebIdentityToken"])
        out = self._assumed(account, role_name, session, duration)
        out["SubjectFromWebIdentityToken"] = str(claims.get("sub", ""))
        aud = claims.get("aud", "")
        out["Audience"] = aud[0] if isinstance(aud, list) and aud else str(aud)
        out["Provider"] = str(claims.get("iss", ""))
        return out

    def get_session_token(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        duration = _duration(params, 43200, 900, 129600)
        arn = ctx.principal_arn or f"arn:aws:iam::{ctx.account_id}:root"
        cred = self._issue(ctx.account_id, arn, ctx.account_id, duration)
        return {"Credentials": cred}

    # -- helpers -------------------------------------------------------------------------------

    def _check_session_name(self, session: str) -> None:
        if not _SESSION_NAME.match(session):
            raise _constraint(
                "roleSessionName", session, "satisfy regular expression pattern: [\\w+=,.@-]*"
            )

    def _role(self, role_arn: str) -> tuple[str, str]:
        try:
            arn = parse_arn(role_arn)
        except ValueError:
            raise StsValidationError(f"{role_arn} is invalid") from None
        if arn.service != "iam" or not arn.resource.startswith("role/"):
            raise StsValidationError(f"{role_arn} is invalid")
        return arn.account or "000000000000", arn.resource.rsplit("/", 1)[-1]

    def _assumed(self, account: str, role_name: str, session: str, duration: int) -> dict[str, Any]:
        role_id = ids.upper_id(21, "AROA")
        assumed_arn = f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}"
        user_id = f"{role_id}:{session}"
        cred = self._issue(account, assumed_arn, user_id, duration)
        return {
            "Credentials": cred,
            "AssumedRoleUser": {"AssumedRoleId": user_id, "Arn": assumed_arn},
            "PackedPolicySize": 0,
        }

    def _issue(
        self, account: str, principal_arn: str, user_id: str, duration: int
    ) -> dict[str, Any]:
        key = ids.upper_id(20, "ASIA")
        secret = base64.b64encode(ids.token(30).encode())[:40].decode()
        session_token = "FQoGZXIvYXdzE" + ids.token(96)
        expiration = self.clock.now() + duration
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO credentials VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, secret, session_token, account, principal_arn, user_id, expiration),
            )
        self._credentials[key] = Credential(
            key, secret, account, principal_arn, user_id, expiration, session_token
        )
        return {
            "AccessKeyId": key,
            "SecretAccessKey": secret,
            "SessionToken": session_token,
            "Expiration": datetime.fromtimestamp(int(expiration), UTC),
        }


def _credential(row: Any) -> Credential:
    return Credential(
        row["access_key_id"],
        row["secret_access_key"],
        row["account_id"],
        row["principal_arn"],
        row["user_id"],
        row["expiration"],
        row["session_token"],
    )


def _jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT (signature not checked: no identity provider is configured)."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = orjson.loads(base64.urlsafe_b64decode(payload))
    except (IndexError, ValueError, orjson.JSONDecodeError):
        raise ServiceError(
            "Couldn't parse the token", code="InvalidIdentityToken", status=400
        ) from None
    if not isinstance(claims, dict):
        raise ServiceError("Couldn't parse the token", code="InvalidIdentityToken", status=400)
    return claims
