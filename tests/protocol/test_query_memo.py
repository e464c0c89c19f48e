"""The query codec's memo of operations by form body answers exactly as a fresh codec does: for
each request of a table, match() and parse() with the memo full of other bodies (and of its own)
give what they give with it empty."""

from __future__ import annotations

from typing import Any

import pytest

from overcast.core.http import HttpRequest
from overcast.protocol.models import service_model
from overcast.protocol.query_codec import QueryCodec

BODIES = [
    b"Action=GetCallerIdentity&Version=2011-06-15",
    b"Action=GetCallerIdentity",
    b"Action=GetCallerIdentity&",
    b"Action=GetCallerIdentity&Version=2011-06-15&Extra=1",
    b"Action=Get%43allerIdentity&Version=2011-06-15",
    b"Action=GetCallerIdentity+&Version=2011-06-15",
    b"Version=2011-06-15&Action=GetCallerIdentity",
    b"Action=GetSessionToken&Version=2011-06-15",
    b"Action=GetSessionToken&Version=2011-06-15&DurationSeconds=900",
    b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&RoleSessionName=s",
    b"Action=GetCallerIdentity&Version=2011-06-15&bad=\xff",
    b"Action=\xff",
    b"Action=NoSuchAction&Version=2011-06-15",
    b"Action=",
    b"Action",
    b"",
    b"Action=GetCallerIdentity&Version=2011-06-15" + b"&Pad=" + b"x" * 300,
]
QUERIES = ["", "Action=GetSessionToken"]
ENCODINGS = [None, "identity"]


def _requests() -> list[HttpRequest]:
    out = []
    for body in BODIES:
        for query in QUERIES:
            for encoding in ENCODINGS:
                headers = {"content-type": "application/x-www-form-urlencoded"}
                if encoding is not None:
                    headers["content-encoding"] = encoding
                out.append(HttpRequest("POST", "/", query, headers, body, list(headers.items())))
    return out


def _answer(codec: QueryCodec, req: HttpRequest) -> Any:
    try:
        op = codec.match(req)
        return op.name, codec.parse(op, req)
    except Exception as exc:  # the error is part of the answer
        return type(exc).__name__, str(exc), getattr(exc, "code", None)


@pytest.mark.parametrize("service", ["sts", "sqs", "iam"])
def test_match_answers_with_its_memo_as_without(service: str) -> None:
    model = service_model(service)
    reqs = _requests()
    if service != "sts":
        extra = b"Action=ListQueues&Version=2012-11-05" if service == "sqs" else b"Action=ListUsers"
        reqs += [HttpRequest("POST", "/", "", {}, extra, [])]
    cold = [_answer(QueryCodec(service, model), req) for req in reqs]
    warm = QueryCodec(service, model)
    for _ in range(2):  # the memo holds every body seen, its own included
        for req, expected in zip(reqs, cold, strict=True):
            assert _answer(warm, req) == expected, (req.body, req.query_string)
    assert len(warm._by_body) > 0 or service != "sts"  # the memo was used
