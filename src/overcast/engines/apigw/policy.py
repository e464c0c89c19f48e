"""Evaluate the IAM policy a Lambda authorizer returns against the method ARN being invoked."""

from __future__ import annotations

import ipaddress
import json
import re
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=4096)
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.DOTALL
    )


def arn_matches(pattern: str, arn: str) -> bool:
    """IAM wildcard match (* any run of characters, ? one character)."""
    return _glob(pattern).fullmatch(arn) is not None


def _as_list(v: Any) -> list[Any]:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def evaluate_policy(policy: Any, method_arn: str, action: str = "execute-api:Invoke") -> bool:
    """True when the policy allows `action` on `method_arn` and no statement denies it."""
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return False
    if not isinstance(policy, dict):
        return False
    allowed = False
    for st in _as_list(policy.get("Statement")):
        if not isinstance(st, dict):
            continue
        actions = [str(a) for a in _as_list(st.get("Action"))]
        if not any(arn_matches(a, action) or a == "*" for a in actions):
            continue
        resources = [str(r) for r in _as_list(st.get("Resource"))]
        if not any(arn_matches(r, method_arn) for r in resources):
            continue
        effect = str(st.get("Effect", "")).lower()
        if effect == "deny":
            return False
        if effect == "allow":
            allowed = True
    return allowed


def _condition_holds(operator: str, key: str, wanted: Any, context: dict[str, str]) -> bool:
    values = [str(v) for v in _as_list(wanted)]
    actual = context.get(key.lower())
    if operator in ("IpAddress", "NotIpAddress"):
        if actual is None:
            return operator == "NotIpAddress"
        try:
            ip = ipaddress.ip_address(actual)
            inside = any(ip in ipaddress.ip_network(v, strict=False) for v in values)
        except ValueError:
            return False
        return inside if operator == "IpAddress" else not inside
    if operator in ("StringEquals", "StringLike"):
        if actual is None:
            return False
        return any(arn_matches(v, actual) if operator == "StringLike" else v == actual
                   for v in values)  # fmt: skip
    if operator in ("StringNotEquals", "StringNotLike"):
        if actual is None:
            return True
        return not any(arn_matches(v, actual) if operator == "StringNotLike" else v == actual
                       for v in values)  # fmt: skip
    return False


def resource_policy_decision(policy: Any, method_arn: str, context: dict[str, str]) -> str:
    """A REST API resource policy's answer for an anonymous caller: 'deny' (explicit), 'allow'
    or 'implicit' (no statement allows). `context` holds condition keys (aws:SourceIp...)."""
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return "implicit"
    if not isinstance(policy, dict):
        return "implicit"
    allowed = False
    for st in _as_list(policy.get("Statement")):
        if not isinstance(st, dict):
            continue
        actions = [str(a) for a in _as_list(st.get("Action"))]
        if not any(arn_matches(a, "execute-api:Invoke") for a in actions):
            continue
        resources = [str(r) for r in _as_list(st.get("Resource"))]
        if resources and not any(arn_matches(r, method_arn) for r in resources):
            continue
        if resources == [] and "NotResource" in st:
            if any(arn_matches(str(r), method_arn) for r in _as_list(st["NotResource"])):
                continue
        conditions = st.get("Condition") or {}
        if not all(_condition_holds(op, key, wanted, context)
                   for op, pairs in conditions.items() if isinstance(pairs, dict)
                   for key, wanted in pairs.items()):  # fmt: skip
            continue
        effect = str(st.get("Effect", "")).lower()
        if effect == "deny":
            return "deny"
        if effect == "allow":
            allowed = True
    return "allow" if allowed else "implicit"
