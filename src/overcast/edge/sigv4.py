"""Server-side AWS request signatures: read them (`parse_authorization`), check them (`verify`),
and the policy that decides who a request acts as (`authenticate`).

Signature Version 4 in the Authorization header and in presigned query strings, the S3 chunk
signatures that chain from it, and S3's Signature Version 2 (header `AWS AK:sig` and presigned
`AWSAccessKeyId/Signature/Expires`). Error codes and messages differ per service family (S3, query,
JSON, REST-JSON); the table is in services.json (`curated.auth_errors`).
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl

from overcast.core.context import DEFAULT_ACCOUNT
from overcast.core.errors import ServiceError
from overcast.core.http import HttpRequest
from overcast.core.memo import Memo
from overcast.edge import sigv2
from overcast.edge.canonical import (
    ALGORITHM,
    EMPTY_SHA256,
    UNSIGNED_PAYLOAD,
    canonical_requests,
    hmac_hex,
    signing_key,
    string_to_sign,
)
from overcast.edge.detect import Detection, bucket_from_host, tables

ALGORITHM_V4A = "AWS4-ECDSA-P256-SHA256"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
_PAYLOAD_SENTINELS = frozenset(
    {
        UNSIGNED_PAYLOAD,
        STREAMING_SIGNED,
        STREAMING_SIGNED_TRAILER,
        STREAMING_UNSIGNED_TRAILER,
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
    }
)
MAX_SKEW_SECONDS = 15 * 60
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
_HEX = frozenset("0123456789abcdef")
_V4_QUERY_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
)


@dataclass(slots=True)
class SigInfo:
    """What a request's signature states. `version` is "v4", "v4a" or "v2"; `location` is
    "header" or "query". `expires` is X-Amz-Expires (seconds, v4 query) or Expires (epoch seconds,
    v2 query)."""

    version: str
    location: str
    access_key_id: str
    signature: str
    signed_headers: tuple[str, ...] = ()
    scope_date: str = ""
    region: str = ""
    service: str = ""
    amz_date: str = ""
    expires: int | None = None
    security_token: str | None = None

    @property
    def credential_scope(self) -> str:
        return f"{self.scope_date}/{self.region}/{self.service}/aws4_request"


# ---------------------------------------------------------------------------------------------
# Errors


def auth_error(
    service: str, kind: str, detail: str = "", fields: dict[str, Any] | None = None
) -> ServiceError:
    """The error AWS answers with for `kind` of auth failure, in `service`'s family."""
    t = tables()
    code, status, message = t.curated["auth_errors"][t.family(service)][kind]
    return ServiceError(
        message.replace("{detail}", detail), code=code, status=status, fields=fields or {}
    )


def _family(service: str) -> str:
    return tables().family(service)


# ---------------------------------------------------------------------------------------------
# Parsing


def parse_authorization(req: HttpRequest, service: str = "s3") -> SigInfo | None:
    """Read the signature of a request: SigV4 (header or presigned query), SigV4a (header, read
    but not checkable), SigV2 for S3 (header or presigned query). None when unsigned. Malformed
    signatures raise the family's error for `service` (botocore's service name)."""
    headers = req.headers
    auth = headers.get("authorization")
    if auth:
        if auth.startswith(ALGORITHM + " ") or auth.startswith(ALGORITHM_V4A + " "):
            return _parse_v4_header(req, auth, service)
        if auth.startswith("AWS "):
            ak, _, sig = auth[4:].partition(":")
            if not ak or not sig:
                raise auth_error(
                    service, "malformed_header", "expected 'AWS AccessKeyId:Signature'"
                )
            date = headers.get("x-amz-date") or headers.get("date") or ""
            return SigInfo("v2", "header", ak.strip(), sig.strip(), amz_date=date)
        return None
    qs = req.query_string
    if not qs:
        return None
    if "X-Amz-Signature=" in qs or "X-Amz-Credential=" in qs or "X-Amz-Algorithm=" in qs:
        return _parse_v4_query(req, service)
    if "Signature=" in qs and "AWSAccessKeyId=" in qs:
        params = dict(req.query_params())
        ak, sig = params.get("AWSAccessKeyId", ""), params.get("Signature", "")
        if not ak or not sig:
            return None
        expires = params.get("Expires")
        try:
            exp = int(expires) if expires is not None else None
        except ValueError:
            raise auth_error(service, "malformed_query", f"Invalid Expires: '{expires}'")
        token = params.get("x-amz-security-token") or params.get("SecurityToken")
        return SigInfo("v2", "query", ak, sig, expires=exp, security_token=token)
    return None


# A client signs every request with the same header up to `, Signature=` (algorithm, credential
# scope, signed headers) for a day: keep that head parsed.
_v4_heads: Memo[str, dict[str, str]] = Memo()


def _v4_header_parts(rest: str) -> dict[str, str]:
    head, sep, signature = rest.rpartition(", Signature=")
    if sep and "," not in signature:
        cached = _v4_heads.get(head)
        if cached is None:
            cached = _v4_heads.remember(head, _v4_parts(head))
        # The general parse of `rest`: the head's items, then the signature (the last item wins).
        return {**cached, "Signature": signature.strip()}
    return _v4_parts(rest)


_signed_header_lists: Memo[str, tuple[str, ...]] = Memo()


def _signed_header_list(value: str) -> tuple[str, ...]:
    # Clients send the same few lists over and over: keep them (bounded).
    found = _signed_header_lists.get(value)
    if found is None:
        found = _signed_header_lists.remember(
            value, tuple(h for h in value.lower().split(";") if h)
        )
    return found


def _v4_parts(text: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for item in text.split(","):
        name, eq, value = item.strip().partition("=")
        if eq:
            parts[name.strip()] = value.strip()
    return parts


def _parse_v4_header(req: HttpRequest, auth: str, service: str) -> SigInfo:
    algorithm, _, rest = auth.partition(" ")
    parts = _v4_header_parts(rest)
    missing = [p for p in ("Credential", "SignedHeaders", "Signature") if p not in parts]
    if missing:
        detail = " ".join(f"Authorization header requires '{p}' parameter." for p in missing)
        raise auth_error(service, "malformed_header", f"{detail} Authorization={auth}")
    headers = req.headers
    amz_date = headers.get("x-amz-date") or _http_date_to_amz(headers.get("date"))
    if not amz_date:
        raise auth_error(
            service,
            "missing_date",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
            f"header. Authorization={auth}",
        )
    info = SigInfo(
        "v4a" if algorithm == ALGORITHM_V4A else "v4",
        "header",
        "",
        parts["Signature"],
        signed_headers=_signed_header_list(parts["SignedHeaders"]),
        amz_date=amz_date,
        security_token=headers.get("x-amz-security-token"),
    )
    _fill_scope(info, parts["Credential"], service, "malformed_header", req)
    return info


def _parse_v4_query(req: HttpRequest, service: str) -> SigInfo:
    params: dict[str, str] = {}
    for name, value in req.query_params():
        params.setdefault(name, value)
    required = _V4_QUERY_PARAMS + (("X-Amz-Expires",) if _family(service) == "s3" else ())
    if any(p not in params for p in required):
        raise auth_error(
            service,
            "malformed_query",
            "Query-string authentication version 4 requires the X-Amz-Algorithm, "
            "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
            "X-Amz-Expires parameters.",
        )
    algorithm = params["X-Amz-Algorithm"]
    if algorithm not in (ALGORITHM, ALGORITHM_V4A):
        raise auth_error(
            service,
            "malformed_query",
            f'X-Amz-Algorithm only supports "{ALGORITHM}" and "{ALGORITHM_V4A}"',
        )
    expires: int | None = None
    if "X-Amz-Expires" in params:
        try:
            expires = int(params["X-Amz-Expires"])
        except ValueError:
            raise auth_error(service, "malformed_query", "X-Amz-Expires should be a number")
        if expires < 0:
            raise auth_error(service, "malformed_query", "X-Amz-Expires must be non-negative")
    info = SigInfo(
        "v4a" if algorithm == ALGORITHM_V4A else "v4",
        "query",
        "",
        params["X-Amz-Signature"],
        signed_headers=tuple(h for h in params["X-Amz-SignedHeaders"].lower().split(";") if h),
        amz_date=params["X-Amz-Date"],
        expires=expires,
        security_token=params.get("X-Amz-Security-Token"),
    )
    _fill_scope(info, params["X-Amz-Credential"], service, "malformed_query", req)
    return info


# Valid SigV4 credential scopes seen, split (a client uses one per day and region).
_v4_scopes: Memo[str, tuple[str, str, str, str]] = Memo()


def _fill_scope(info: SigInfo, credential: str, service: str, kind: str, req: HttpRequest) -> None:
    if info.version == "v4":
        scope = _v4_scopes.get(credential)
        if scope is not None:
            info.access_key_id, info.scope_date, info.region, info.service = scope
            return
    parts = credential.split("/")
    if info.version == "v4a":
        if len(parts) < 4 or parts[-1] != "aws4_request":
            raise auth_error(
                service, kind, f"Credential should be scoped correctly: '{credential}'"
            )
        info.access_key_id = "/".join(parts[:-3])
        info.scope_date, info.service = parts[-3], parts[-2]
        info.region = req.headers.get("x-amz-region-set", "")
        return
    if len(parts) < 5 or parts[-1] != "aws4_request" or not parts[0]:
        raise auth_error(
            service,
            kind,
            f"Credential should be scoped to a valid region and service: '{credential}'",
        )
    info.access_key_id = "/".join(parts[:-4])
    info.scope_date, info.region, info.service = parts[-4], parts[-3], parts[-2]
    _v4_scopes.remember(
        credential, (info.access_key_id, info.scope_date, info.region, info.service)
    )


def _http_date_to_amz(value: str | None) -> str:
    if not value:
        return ""
    try:
        return time.strftime("%Y%m%dT%H%M%SZ", parsedate_to_datetime(value).utctimetuple())
    except (TypeError, ValueError):
        return ""


def amz_date_to_epoch(value: str) -> float | None:
    """`20130524T000000Z` → epoch seconds; None when it is not ISO-8601 basic format."""
    if len(value) != 16 or value[8] != "T" or value[15] != "Z":
        return None
    digits = value[:8] + value[9:15]
    if not digits.isdigit():
        return None
    try:
        t = (int(value[0:4]), int(value[4:6]), int(value[6:8]))
        c = (int(value[9:11]), int(value[11:13]), int(value[13:15]))
        if not (1 <= t[1] <= 12 and 1 <= t[2] <= 31 and c[0] < 24 and c[1] < 60 and c[2] < 61):
            return None
        return float(calendar.timegm((*t, *c, 0, 0, 0)))
    except ValueError:
        return None


def _amz(epoch: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


# ---------------------------------------------------------------------------------------------
# Verification


@dataclass(slots=True)
class ChunkSigner:
    """Checks the chained signatures of an aws-chunked body (STREAMING-AWS4-HMAC-SHA256-PAYLOAD
    and -TRAILER): each chunk's signature covers the previous one, starting from the request's."""

    key: bytes
    amz_date: str
    scope: str
    previous: str
    access_key_id: str = ""

    def verify_chunk(self, data: bytes | memoryview, signature: str) -> None:
        """Check one chunk's signature (the final chunk has empty data); raise on mismatch."""
        sts = (
            f"AWS4-HMAC-SHA256-PAYLOAD\n{self.amz_date}\n{self.scope}\n{self.previous}\n"
            f"{EMPTY_SHA256}\n{hashlib.sha256(data).hexdigest()}"
        )
        self._check(sts, signature)

    def verify_trailer(self, canonical_trailer: bytes, signature: str) -> None:
        """Check the trailing headers' signature (`name:value\\n` for each trailer)."""
        sts = (
            f"AWS4-HMAC-SHA256-TRAILER\n{self.amz_date}\n{self.scope}\n{self.previous}\n"
            f"{hashlib.sha256(canonical_trailer).hexdigest()}"
        )
        self._check(sts, signature)

    def _check(self, sts: str, signature: str) -> None:
        expected = hmac_hex(self.key, sts)
        if not hmac.compare_digest(expected, signature.strip().lower()):
            raise auth_error(
                "s3",
                "signature",
                fields={
                    "AWSAccessKeyId": self.access_key_id,
                    "StringToSign": sts,
                    "SignatureProvided": signature,
                },
            )
        self.previous = expected


def check_payload_hash(req: HttpRequest, service: str) -> None:
    """Check the body against a hex `x-amz-content-sha256`, and that any other value is one AWS
    defines. Runs whether or not the signature itself is checked."""
    declared = req.headers.get("x-amz-content-sha256")
    if declared is None or declared in _PAYLOAD_SENTINELS:
        return
    if len(declared) == 64 and set(declared) <= _HEX:
        actual = req.body_sha256 or hashlib.sha256(req.body).hexdigest()
        if actual != declared:
            fields = {}
            if _family(service) == "s3":
                fields = {
                    "ClientComputedContentSHA256": declared,
                    "S3ComputedContentSHA256": actual,
                }
            raise auth_error(service, "content_sha", fields=fields)
        return
    if _family(service) == "s3":
        raise auth_error(service, "bad_content_sha")


def check_time(info: SigInfo, service: str, now: float) -> None:
    """Reject a header signature more than 15 minutes from `now`, and an expired presigned URL
    or one dated more than 15 minutes ahead (S3 honours X-Amz-Expires up to 7 days; other
    services allow 15 minutes either way)."""
    s3 = _family(service) == "s3"
    if info.version == "v2":
        _check_time_v2(info, service, now)
        return
    t = amz_date_to_epoch(info.amz_date)
    if t is None:
        kind = "malformed_query" if info.location == "query" else "missing_date"
        raise auth_error(
            service,
            kind,
            f"Date must be in ISO-8601 'basic format'. Got '{info.amz_date}'. See "
            "http://en.wikipedia.org/wiki/ISO_8601",
        )
    if info.location == "query" and s3:
        expires = info.expires or 0
        if expires > MAX_PRESIGN_SECONDS:
            raise auth_error(
                service,
                "malformed_query",
                "X-Amz-Expires must be less than a week (in seconds) that is 604800",
            )
        if t > now + MAX_SKEW_SECONDS:  # signed by a clock that runs ahead
            raise auth_error(
                service,
                "not_yet_valid",
                fields={
                    "X-Amz-Date": str(int(t * 1000)),
                    "Expires": _iso(t + expires),
                    "ServerTime": _iso(now),
                },
            )
        if now > t + expires:
            raise auth_error(
                service,
                "expired",
                fields={
                    "X-Amz-Expires": str(expires),
                    "Expires": _iso(t + expires),
                    "ServerTime": _iso(now),
                },
            )
        return
    if abs(now - t) <= MAX_SKEW_SECONDS:
        return
    if s3:
        raise auth_error(
            service,
            "skew",
            fields={
                "RequestTime": info.amz_date,
                "ServerTime": _iso(now),
                "MaxAllowedSkewMilliseconds": str(MAX_SKEW_SECONDS * 1000),
            },
        )
    if t < now:
        detail = (
            f"Signature expired: {info.amz_date} is now earlier than "
            f"{_amz(now - MAX_SKEW_SECONDS)} ({_amz(now)} - 15 min.)"
        )
    else:
        detail = (
            f"Signature not yet current: {info.amz_date} is still later than "
            f"{_amz(now + MAX_SKEW_SECONDS)} ({_amz(now)} + 15 min.)"
        )
    raise auth_error(service, "skew", detail)


def _check_time_v2(info: SigInfo, service: str, now: float) -> None:
    if info.location == "query":
        if info.expires is not None and now > info.expires:
            raise auth_error(
                service,
                "expired",
                fields={"Expires": _iso(info.expires), "ServerTime": _iso(now)},
            )
        return
    t = amz_date_to_epoch(_http_date_to_amz(info.amz_date) or info.amz_date)
    if t is None:
        raise auth_error(service, "missing_date")
    if abs(now - t) > MAX_SKEW_SECONDS:
        raise auth_error(
            service,
            "skew",
            fields={
                "RequestTime": info.amz_date,
                "ServerTime": _iso(now),
                "MaxAllowedSkewMilliseconds": str(MAX_SKEW_SECONDS * 1000),
            },
        )


def verify(
    req: HttpRequest,
    info: SigInfo,
    secret_key: str,
    now: float,
    *,
    service: str | None = None,
) -> ChunkSigner | None:
    """Check a request's signature with the caller's secret key, as AWS does: the time window,
    the body hash, then the signature. `service` (botocore's name, from `detect`) picks the error
    family; by default the credential scope's. Returns a ChunkSigner when the body is a signed
    aws-chunked stream whose chunk signatures must be checked next, else None."""
    svc = service or _service_of_signing_name(info.service)
    check_time(info, svc, now)
    check_payload_hash(req, svc)
    if info.version == "v2":
        _verify_v2(req, info, secret_key, svc)
        return None
    if info.version == "v4a":
        raise auth_error(
            svc,
            "unsupported",
            "Overcast cannot check SigV4a (AWS4-ECDSA-P256-SHA256) signatures; sign with SigV4.",
        )
    s3 = _family(svc) == "s3"
    if info.location == "header" and info.scope_date != info.amz_date[:8]:
        if s3:
            raise auth_error(
                svc,
                "malformed_header",
                "Invalid credential date. Date is not the same as X-Amz-Date.",
            )
        raise _signature_mismatch(svc, info, None, None)
    if s3 and info.location == "header" and "x-amz-content-sha256" not in req.headers:
        raise auth_error(svc, "missing_content_sha")
    key = signing_key(secret_key, info.scope_date, info.region, info.service)
    scope = info.credential_scope
    provided = info.signature.strip().lower()
    first: tuple[str, str] | None = None
    for creq in canonical_requests(req, info.signed_headers, info.location == "query", s3):
        sts = string_to_sign(info.amz_date, scope, creq)
        if hmac.compare_digest(hmac_hex(key, sts), provided):
            break
        first = first or (creq, sts)
    else:
        assert first is not None
        raise _signature_mismatch(svc, info, *first)
    body_hash = req.headers.get("x-amz-content-sha256", "")
    if info.location == "header" and body_hash in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER):
        return ChunkSigner(key, info.amz_date, scope, provided, info.access_key_id)
    return None


def _signature_mismatch(
    service: str, info: SigInfo, creq: str | None, sts: str | None
) -> ServiceError:
    if _family(service) == "s3":
        fields = {"AWSAccessKeyId": info.access_key_id, "SignatureProvided": info.signature}
        if sts is not None and creq is not None:
            fields.update(
                StringToSign=sts,
                StringToSignBytes=" ".join(f"{b:02x}" for b in sts.encode()),
                CanonicalRequest=creq,
                CanonicalRequestBytes=" ".join(f"{b:02x}" for b in creq.encode()),
            )
        return auth_error(service, "signature", fields=fields)
    err = auth_error(service, "signature")
    if creq is not None and sts is not None:
        err.message += (
            f"\n\nThe Canonical String for this request should have been\n'{creq}'\n\n"
            f"The String-to-Sign should have been\n'{sts}'\n"
        )
    else:
        err.message = (
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{info.scope_date}' != '{info.amz_date[:8]}', from '{info.amz_date}'."
        )
    err.args = (err.message,)
    return err


def _service_of_signing_name(signing: str) -> str:
    names = tables().signing_names.get(signing)
    return names[0] if names else signing


def _verify_v2(req: HttpRequest, info: SigInfo, secret_key: str, service: str) -> None:
    expires = info.expires if info.location == "query" else None
    bucket = bucket_from_host(req.headers.get("host", ""))
    provided = info.signature.strip()
    candidates = sigv2.strings_to_sign(req, expires, bucket)
    for sts in candidates:
        if hmac.compare_digest(sigv2.signature(secret_key, sts), provided):
            return
    raise auth_error(
        service,
        "signature",
        fields={
            "AWSAccessKeyId": info.access_key_id,
            "StringToSign": candidates[0],
            "SignatureProvided": provided,
            "StringToSignBytes": " ".join(f"{b:02x}" for b in candidates[0].encode()),
        },
    )


# ---------------------------------------------------------------------------------------------
# Policy


@dataclass(frozen=True, slots=True)
class Credential:
    """An access key Overcast knows (created through IAM or STS): its secret and its owner."""

    access_key_id: str
    secret_access_key: str
    account_id: str
    principal_arn: str
    session_token: str | None = None
    expiration: float | None = None


@dataclass(frozen=True, slots=True)
class AuthResult:
    """Who a request acts as. `verified` is True when its signature was checked against a known
    key; `chunk_signer` checks the chunk signatures of a signed aws-chunked body next."""

    account_id: str
    access_key_id: str | None
    principal_arn: str | None
    verified: bool = False
    anonymous: bool = False
    chunk_signer: ChunkSigner | None = None


def is_loopback(ip: str) -> bool:
    """True for 127.0.0.0/8 and ::1 (also IPv4-mapped), the addresses a local client uses."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ip == "localhost"
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_loopback


def account_of_key(access_key_id: str) -> str:
    """The account an unknown access key acts in: a twelve-digit key names its account;
    anything else is the default account."""
    if len(access_key_id) == 12 and access_key_id.isdigit():
        return access_key_id
    return DEFAULT_ACCOUNT


def operation_hint(req: HttpRequest) -> str | None:
    """The operation a JSON (X-Amz-Target), RPCv2 (path) or query (Action) request names."""
    target = req.headers.get("x-amz-target")
    if target:
        return target.rpartition(".")[2]
    if req.path.startswith("/service/") and "/operation/" in req.path:
        return req.path.rsplit("/", 1)[1]
    if "Action=" in req.query_string:
        return dict(req.query_params()).get("Action")
    ctype = req.headers.get("content-type", "")
    if ctype.startswith("application/x-www-form-urlencoded") and b"Action=" in req.body[:65536]:
        for name, value in parse_qsl(req.body.decode("utf-8", "replace")):
            if name == "Action":
                return value
    return None


def anonymous_allowed(req: HttpRequest, service: str) -> bool:
    """Unsigned requests AWS serves: operations modelled without auth (STS
    AssumeRoleWithWebIdentity, Cognito sign-in...) and S3, whose bucket policies and ACLs decide."""
    if _family(service) == "s3":
        return True
    info = tables().services.get(service)
    if not info or not info["unsigned_operations"]:
        return False
    return operation_hint(req) in info["unsigned_operations"]


# The verdict for header signatures by keys Overcast did not issue, by the header's text up to
# `, Signature=` (algorithm, credential scope, signed headers).
_unchecked: Memo[str, AuthResult] = Memo()


def unchecked_verdict(
    req: HttpRequest, service: str, lookup: Callable[[str], Credential | None]
) -> AuthResult | None:
    """The common case on loopback, when not strict: a header signature by a key Overcast did
    not issue, whose verdict was reached before (None when it was not). The verdict depends only
    on the header up to the signature (remembered by `authenticate`), on the key still being
    unknown, and on the per-request checks repeated here; it needs no clock."""
    headers = req.headers
    auth = headers.get("authorization")
    if auth is None:
        return None
    head, sep, signature = auth.rpartition(", Signature=")
    known = _unchecked.get(head) if sep else None
    if (
        known is not None
        and signature
        and "," not in signature
        and headers.get("x-amz-date")
        and lookup(known.access_key_id) is None  # type: ignore[arg-type]
    ):
        if "x-amz-content-sha256" in headers:
            check_payload_hash(req, service)
        return known
    return None


def authenticate(
    req: HttpRequest,
    detection: Detection,
    lookup: Callable[[str], Credential | None],
    strict: bool,
    now: float,
) -> AuthResult:
    """Decide who a request acts as. A key Overcast knows must sign correctly (and its session
    token must match and be unexpired). An unknown key is accepted unchecked unless `strict`; it
    acts in the account its twelve digits name, else 000000000000. Unsigned requests pass for
    S3 and unsigned operations, and for anything when not strict. Presigned URLs expire and a
    hex x-amz-content-sha256 must match the body in every mode."""
    service = detection.service
    if not strict:
        known = unchecked_verdict(req, service, lookup)
        if known is not None:
            return known
    info = parse_authorization(req, service)
    if info is None:
        if strict and not anonymous_allowed(req, service):
            raise auth_error(service, "missing")
        check_payload_hash(req, service)
        return AuthResult(DEFAULT_ACCOUNT, None, None, anonymous=True)
    ak = info.access_key_id
    cred = lookup(ak)
    if cred is None:
        if strict:
            fields = {"AWSAccessKeyId": ak} if _family(service) == "s3" else None
            raise auth_error(service, "invalid_key", fields=fields)
        if info.location == "query" and (info.version == "v2" or _family(service) == "s3"):
            check_time(info, service, now)
        check_payload_hash(req, service)
        account = account_of_key(ak)
        result = AuthResult(account, ak, f"arn:aws:iam::{account}:root")
        if info.location == "header" and info.version == "v4":
            _unchecked.remember(req.headers["authorization"].rpartition(", Signature=")[0], result)
        return result
    if cred.session_token is not None:
        if info.security_token != cred.session_token:
            raise auth_error(service, "invalid_token")
        if cred.expiration is not None and now >= cred.expiration:
            raise auth_error(service, "expired_token")
    signer = verify(req, info, cred.secret_access_key, now, service=service)
    return AuthResult(cred.account_id, ak, cred.principal_arn, verified=True, chunk_signer=signer)
