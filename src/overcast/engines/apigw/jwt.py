"""JWT validation for JWT authorizers: signature against a JWKS, then iss/aud/exp/nbf/scopes.

The caller fetches the JWKS (I/O) and passes it in with the current time.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


class JwtError(ValueError):
    """The token is not acceptable (→ 401 Unauthorized)."""


@dataclass(frozen=True, slots=True)
class JwtToken:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _int(part: str) -> int:
    return int.from_bytes(_b64(part), "big")


def parse_token(token: str) -> JwtToken:
    """Split and decode a compact JWS (no verification)."""
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    parts = token.split(".")
    if len(parts) != 3:
        raise JwtError("malformed token")
    try:
        header = json.loads(_b64(parts[0]))
        claims = json.loads(_b64(parts[1]))
        sig = _b64(parts[2])
    except ValueError as exc:
        raise JwtError("malformed token") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JwtError("malformed token")
    return JwtToken(header, claims, f"{parts[0]}.{parts[1]}".encode(), sig)


_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}


def _verify(tok: JwtToken, jwk: dict[str, Any]) -> None:
    alg = str(tok.header.get("alg", ""))
    h = _HASHES.get(alg[2:])
    if h is None:
        raise JwtError(f"unsupported alg {alg}")
    try:
        if alg.startswith("RS") and jwk.get("kty") == "RSA":
            pub = rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"])).public_key()
            pub.verify(tok.signature, tok.signing_input, padding.PKCS1v15(), h())
            return
        if alg.startswith("ES") and jwk.get("kty") == "EC":
            curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}[
                jwk["crv"]
            ]
            epub = ec.EllipticCurvePublicNumbers(_int(jwk["x"]), _int(jwk["y"]), curve).public_key()
            half = len(tok.signature) // 2
            der = encode_dss_signature(
                int.from_bytes(tok.signature[:half], "big"),
                int.from_bytes(tok.signature[half:], "big"),
            )
            epub.verify(der, tok.signing_input, ec.ECDSA(h()))
            return
    except (InvalidSignature, KeyError, ValueError) as exc:
        raise JwtError("signature verification failed") from exc
    raise JwtError("key type does not match alg")


def validate(
    token: str,
    jwks: dict[str, Any],
    *,
    issuer: str,
    audiences: list[str],
    now: float,
    required_scopes: list[str] | None = None,
) -> dict[str, Any]:
    """The token's claims, once its signature, issuer, audience, times and scopes check out."""
    tok = parse_token(token)
    kid = tok.header.get("kid")
    keys = [k for k in jwks.get("keys", []) if isinstance(k, dict)]
    candidates = [k for k in keys if kid is None or k.get("kid") == kid]
    if not candidates:
        raise JwtError("no matching key")
    last: JwtError | None = None
    for k in candidates:
        try:
            _verify(tok, k)
            break
        except JwtError as exc:
            last = exc
    else:
        raise last or JwtError("signature verification failed")
    c = tok.claims
    if c.get("iss") != issuer:
        raise JwtError("issuer mismatch")
    aud = c.get("aud", c.get("client_id"))
    auds = aud if isinstance(aud, list) else [aud]
    if audiences and not any(a in audiences for a in auds):
        raise JwtError("audience mismatch")
    if "exp" in c and float(c["exp"]) <= now:
        raise JwtError("token expired")
    if "nbf" in c and float(c["nbf"]) > now:
        raise JwtError("token not yet valid")
    if required_scopes:
        have = set(str(c.get("scope", "")).split()) | set(
            c.get("scp", []) if isinstance(c.get("scp"), list) else str(c.get("scp", "")).split()
        )
        if not any(s in have for s in required_scopes):
            raise JwtError("insufficient scope")
    return c
