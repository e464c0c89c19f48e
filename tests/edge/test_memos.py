"""The edge's per-request memos answer exactly as the general path: for each request of a table,
the answer with the memos full of other requests' entries (and of its own) is the answer with
them empty."""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

import pytest

from overcast.core.http import HttpRequest
from overcast.edge import detect as detection
from overcast.edge import sigv4
from overcast.edge.detect import detect
from overcast.edge.sigv4 import Credential, authenticate

SCOPE = "AKIDEXAMPLE/20260101/us-west-2/{svc}/aws4_request"
HEADS = "content-type;host;x-amz-date"
SIG = "a" * 64


def _v4(svc: str, rest: str = f", SignedHeaders={HEADS}, Signature={SIG}") -> str:
    return f"AWS4-HMAC-SHA256 Credential={SCOPE.format(svc=svc)}{rest}"


AUTHORIZATIONS = [
    _v4("sts"),
    _v4("sqs"),
    _v4("dynamodb"),
    _v4("s3"),
    _v4("apigateway"),
    _v4("execute-api"),
    _v4("sts", ""),  # no comma at all
    _v4("sts", ","),
    _v4("sts", f",SignedHeaders={HEADS},Signature={SIG}"),
    _v4("sts", f", SignedHeaders={HEADS}, Signature="),
    _v4("sts", f", SignedHeaders={HEADS}, Signature=ab,cd"),
    _v4("sts", f", SignedHeaders={HEADS}"),
    _v4("nosuchservice"),
    f"AWS4-HMAC-SHA256 SignedHeaders={HEADS}, Credential={SCOPE.format(svc='sqs')}, "
    f"Signature={SIG}",
    f"AWS4-HMAC-SHA256 SignedHeaders={HEADS}, Credential={SCOPE.format(svc='sts')}, "
    f"Signature={SIG}",
    f"AWS4-HMAC-SHA256  Credential={SCOPE.format(svc='sqs')}, SignedHeaders=host, Signature={SIG}",
    f"AWS4-HMAC-SHA256 Credential= {SCOPE.format(svc='sqs')} , SignedHeaders=host, Signature={SIG}",
    "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-west-2/sts, SignedHeaders=host, Signature=ab",
    "AWS4-HMAC-SHA256 Credential=123456789012/20260101/eu-west-1/sts/aws4_request, "
    f"SignedHeaders=host, Signature={SIG}",
    f"AWS4-ECDSA-P256-SHA256 Credential=AKID/20260101/sts/aws4_request, SignedHeaders=host, "
    f"Signature={SIG}",
    "AWS AKIDEXAMPLE:c2lnbmF0dXJl",
    "Bearer token",
    None,
]
TARGETS = [None, "DynamoDB_20120810.GetItem", "DynamoDBStreams_20120810.ListStreams", "X.Y"]
FORMS = [
    (b"Action=GetCallerIdentity&Version=2011-06-15", "/"),
    (b"Action=ListQueues&Version=2012-11-05", "/"),
    (b"", "/restapis"),
    (b"", "/bucket/key"),
]


def _requests() -> list[HttpRequest]:
    out = []
    for auth, target, (body, path) in itertools.product(AUTHORIZATIONS, TARGETS, FORMS):
        headers = {
            "host": "127.0.0.1:4566",
            "content-type": "application/x-www-form-urlencoded; charset=utf-8",
            "x-amz-date": "20260101T000000Z",
        }
        if auth is not None:
            headers["authorization"] = auth
        if target is not None:
            headers["x-amz-target"] = target
        out.append(HttpRequest("POST", path, "", headers, body, list(headers.items())))
    return out


def _outcome(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # the error is part of the answer
        return (type(exc).__name__, str(exc), getattr(exc, "code", None))


def _clear_detection_memos() -> None:
    detection._by_credential.clear()
    detection._by_credential_target.clear()
    detection._v4_scopes.clear()


def test_detect_answers_with_its_memos_as_without() -> None:
    reqs = _requests()
    cold = []
    for req in reqs:
        _clear_detection_memos()
        cold.append(_outcome(detect, req))
    _clear_detection_memos()
    for order in (reqs, reqs[::-1], reqs):  # warm: every request's entries, in two orders
        for req, expected in zip(order, cold if order is reqs else cold[::-1], strict=True):
            assert _outcome(detect, req) == expected, req.headers


KNOWN = Credential("AKIDKNOWN", "secret", "111111111111", "arn:aws:iam::111111111111:user/u")


def _lookup(key: str) -> Credential | None:
    return KNOWN if key == "AKIDKNOWN" else None


def _auth_requests() -> list[HttpRequest]:
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    good = hashlib.sha256(body).hexdigest()
    out = []
    variants: list[dict[str, str | None]] = [
        {},
        {"x-amz-date": None},
        {"x-amz-date": ""},
        {"x-amz-content-sha256": good},
        {"x-amz-content-sha256": "0" * 64},
        {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
        {"x-amz-content-sha256": "not-a-hash"},
    ]
    auths = [a for a in AUTHORIZATIONS if a is not None] + [
        _v4("sts").replace("AKIDEXAMPLE", "AKIDKNOWN"),
        _v4("sts").replace("AKIDEXAMPLE", "123456789012"),
    ]
    for auth, extra in itertools.product(auths, variants):
        headers: dict[str, str] = {"host": "127.0.0.1:4566", "x-amz-date": "20260101T000000Z"}
        headers["authorization"] = auth
        for k, v in extra.items():
            if v is None:
                headers.pop(k, None)
            else:
                headers[k] = v
        out.append(HttpRequest("POST", "/", "", headers, body, list(headers.items())))
    return out


@pytest.mark.parametrize("strict", [False, True])
def test_authenticate_answers_with_its_memo_as_without(strict: bool) -> None:
    now = 1767225600.0  # 2026-01-01T00:00:00Z, the requests' date
    d = detection.Detection("sts", None, "us-west-2", "AKIDEXAMPLE", None)
    reqs = _auth_requests()
    cold = []
    for req in reqs:
        sigv4._unchecked.clear()
        cold.append(_outcome(authenticate, req, d, _lookup, strict, now))
    sigv4._unchecked.clear()
    for _ in range(2):  # warm: the verdicts of every request (and its own) remembered
        for req, expected in zip(reqs, cold, strict=True):
            assert _outcome(authenticate, req, d, _lookup, strict, now) == expected, req.headers
            if not strict:
                fast = _outcome(sigv4.unchecked_verdict, req, "sts", _lookup)
                assert fast is None or fast == expected, req.headers
