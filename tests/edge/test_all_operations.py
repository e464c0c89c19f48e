"""Every operation of every service in scope, as botocore sends it: detect() names the service and
the region, authenticate() accepts the real signature of a known key and rejects a tampered one.

Three ways of signing are covered: the CRT signers botocore uses when awscrt is installed (as
here), botocore's pure-Python signers, and S3 virtual-host addressing through `localhost`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import botocore.auth
import pytest
from botocore.config import Config

from overcast.core.errors import ServiceError
from overcast.core.http import HttpRequest
from overcast.edge.detect import detect
from overcast.edge.sigv4 import Credential, authenticate
from tests.edge.wire import AK, ENDPOINT, SECRET, capture, make_client, minimal_params

SERVICES = [
    "lambda", "apigateway", "apigatewayv2", "stepfunctions", "events", "scheduler", "pipes",
    "sqs", "sns", "dynamodb", "dynamodbstreams", "s3", "logs", "cloudwatch", "xray",
    "cloudformation", "iam", "sts", "secretsmanager", "kms", "ssm", "cognito-idp",
    "cognito-identity",
]  # fmt: skip
REGION = "eu-central-1"
KNOWN = Credential(AK, SECRET, "123456789012", "arn:aws:iam::123456789012:user/dev")


def _lookup(key: str) -> Credential | None:
    return KNOWN if key == AK else None


@contextmanager
def _signers(kind: str) -> Iterator[None]:
    if kind != "python":
        yield
        return
    python = {
        "v4": botocore.auth.SigV4Auth,
        "v4-query": botocore.auth.SigV4QueryAuth,
        "s3v4": botocore.auth.S3SigV4Auth,
        "s3v4-query": botocore.auth.S3SigV4QueryAuth,
    }
    with mock.patch.dict(botocore.auth.AUTH_TYPE_MAPS, python):
        yield


def _tampered(req: HttpRequest) -> HttpRequest:
    auth = req.headers["authorization"]
    bad = auth[:-1] + ("0" if auth[-1] != "0" else "1")
    return dataclasses.replace(
        req,
        headers={**req.headers, "authorization": bad},
        header_list=[(k, bad if k == "authorization" else v) for k, v in req.header_list],
    )


@pytest.mark.parametrize("signer", ["crt", "python", "virtual-host"])
@pytest.mark.parametrize("service", SERVICES)
def test_every_operation(service: str, signer: str) -> None:
    virtual = signer == "virtual-host"
    with _signers(signer):
        client = make_client(
            service,
            region=REGION,
            endpoint="http://localhost:4566" if virtual else ENDPOINT,
            config=Config(s3={"addressing_style": "virtual"}) if virtual else None,
        )
        methods = {v: k for k, v in client.meta.method_to_api_mapping.items()}
        unsigned = 0
        failures: list[str] = []
        for op in client.meta.service_model.operation_names:
            req = capture(client, methods[op], **minimal_params(client, op))
            d = detect(req)
            signed = "authorization" in req.headers
            if d.service != service or (signed and d.region != REGION):
                failures.append(f"{op}: detected {d}")
                continue
            if service == "s3" and virtual and req.headers["host"].startswith("bucket."):
                assert d.s3_bucket_host == "bucket", op
            now = time.time()
            result = authenticate(req, d, _lookup, strict=True, now=now)
            if not signed:
                unsigned += 1
                assert result.anonymous, op
                continue
            assert result.verified and result.account_id == "123456789012", op
            try:
                authenticate(_tampered(req), d, _lookup, strict=True, now=now)
                failures.append(f"{op}: tampered signature accepted")
            except ServiceError as err:
                assert err.status in (400, 403), op
        assert not failures, failures
        modelled_unsigned = {
            "sts": 2,
            "cognito-idp": 34,
            "cognito-identity": 4,
        }
        assert unsigned == modelled_unsigned.get(service, 0)
