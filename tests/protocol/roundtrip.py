"""The property checks behind test_roundtrip.py, one service and protocol at a time.

For every operation:
- input: hypothesis generates parameters from the input shape; botocore's serializer writes the
  request; our codec must match the same operation and parse the same parameters back;
- output: hypothesis generates a result from the output shape; our codec writes the response;
  botocore's parser must read the same result back;
and for every modelled error shape: our serialize_error, read by botocore's parser, must resolve to
the same exception (the way a boto3 client resolves it) with the same members, status and message.

Normalisations (both sides alike, see wire.normalize): timestamps at millisecond precision (whole
seconds in headers); query and XML treat empty containers as absent; at the top level of rest
protocols empty header/querystring lists and header-prefix maps count as absent (botocore does
not send them), an empty blob/string payload counts as absent, an absent structure payload as
`{}` (botocore sends `{}` for a missing rest-json payload, and its parser reads an empty body as
an empty structure), and an absent statusCode
member is not compared (botocore fills it from the status line).
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

from botocore.model import OperationModel, Shape
from botocore.parsers import create_parser
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.core.http import HttpRequest
from overcast.protocol import get_codec
from overcast.protocol.base import Codec
from overcast.protocol.models import protocols_of
from tests.protocol import strategies
from tests.protocol.wire import (
    MISSING,
    botocore_parse,
    botocore_request,
    fresh_model,
    normalize,
    response_dict,
)

SERVICES = [
    "lambda",
    "apigateway",
    "apigatewayv2",
    "stepfunctions",
    "events",
    "scheduler",
    "pipes",
    "sqs",
    "sns",
    "dynamodb",
    "dynamodbstreams",
    "s3",
    "logs",
    "cloudwatch",
    "xray",
    "cloudformation",
    "iam",
    "sts",
    "secretsmanager",
    "kms",
    "ssm",
    "cognito-idp",
    "cognito-identity",
]
# Deterministic and small by default (CI); OVERCAST_PROTOCOL_EXAMPLES=50 and
# OVERCAST_PROTOCOL_RANDOM=1 explore further.
EXAMPLES = int(os.environ.get("OVERCAST_PROTOCOL_EXAMPLES", "3"))
_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=not os.environ.get("OVERCAST_PROTOCOL_RANDOM"),
    database=None,
    deadline=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck),
)
REST = ("rest-json", "rest-xml")


def cases() -> list[tuple[str, str]]:
    """Every (service, protocol) pair in scope."""
    return [(s, p) for s in SERVICES for p in protocols_of(fresh_model(s))]


@dataclass
class Coverage:
    """What one (service, protocol) run covered."""

    service: str
    protocol: str
    operations: int = 0
    inputs: int = 0
    outputs: int = 0
    error_shapes: int = 0
    errors: int = 0
    not_covered: dict[str, str] = field(default_factory=dict)
    twins: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def _run(strategy: st.SearchStrategy[Any], check: Callable[[Any], None]) -> None:
    @_SETTINGS
    @given(strategy)
    def run(value: Any) -> None:
        check(value)

    run()


def _failure(what: str, exc: BaseException) -> str:
    notes = "\n".join(getattr(exc, "__notes__", []))
    tail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return f"{what}: {tail[:1500]}\n{notes[:1500]}"


# -- comparison -------------------------------------------------------------------------------


def _top(shape: Shape | None, value: dict[str, Any], protocol: str, *, output: bool) -> Any:
    """Normalise a top-level input or output (see the module docstring)."""
    if shape is None:
        return {}
    prune = protocol in ("query", "rest-xml")
    out: dict[str, Any] = {}
    payload = shape.serialization.get("payload")
    for name, member in shape.members.items():
        if member.serialization.get("eventstream"):
            continue  # compared event by event in check_output
        item = value.get(name)
        location = member.serialization.get("location") if protocol in REST else None
        if protocol in REST and name == payload and member.type_name in ("blob", "string"):
            got = normalize(member, item)
            if got in (b"", ""):
                got = MISSING
        elif protocol in REST and name == payload:
            got = normalize(member, item or {}, prune=prune)
            got = {} if got is MISSING else got
        elif location in ("header", "headers", "querystring"):
            got = normalize(member, item, seconds=location != "querystring", prune=True)
        else:
            got = normalize(member, item, prune=prune)
        if got is not MISSING:
            out[name] = got
    return out


# -- checks -----------------------------------------------------------------------------------


def _twin(codec: Codec, op: OperationModel, matched: OperationModel) -> bool:
    """Whether `matched` is a wire-identical twin that wins over `op` (a deprecated or
    quirk-preferred operation with the same method and requestUri)."""
    same_method = op.http.get("method") == matched.http.get("method")
    same = same_method and op.http.get("requestUri") == matched.http.get("requestUri")
    preferred = codec.quirks.get("route_preference", [])
    return same and (bool(op.deprecated) or matched.name in preferred)


def check_input(codec: Codec, op: OperationModel, cov: Coverage) -> None:
    """botocore-serialized requests → our match + parse."""
    protocol = codec.protocol
    ours = codec.model.operation_model(op.name)

    def check(params: dict[str, Any]) -> None:
        req = botocore_request(op, protocol, params)
        matched = codec.match(req)
        if matched.name != op.name:
            assert _twin(codec, op, matched), f"routed to {matched.name}"
            cov.twins[op.name] = matched.name
        parsed = codec.parse(ours, req)
        if "content-length" in req.headers and op.input_shape is not None:
            # botocore always sends Content-Length; a member bound to it reads it back.
            for name, member in op.input_shape.members.items():
                wire = str(member.serialization.get("name", "")).lower()
                if wire == "content-length" and name not in params:
                    parsed.pop(name, None)
        expected = _top(op.input_shape, params, protocol, output=False)
        got = _top(op.input_shape, parsed, protocol, output=False)
        assert got == expected, f"\nexpected {expected!r}\n     got {got!r}"

    if op.input_shape is None:
        check({})
    else:
        _run(strategies.for_shape(op.input_shape, strategies.Ctx("input", protocol)), check)


def check_output(codec: Codec, op: OperationModel) -> None:
    """our serialize → botocore's parser."""
    protocol = codec.protocol
    ours = codec.model.operation_model(op.name)
    root_text = codec.quirks.get("xml_root_text", {}).get(op.name)

    def check(result: dict[str, Any]) -> None:
        ctx = RequestContext("req-1", http=HttpRequest(op.http.get("method", "POST"), "/"))
        resp = codec.serialize(ours, result, ctx)
        if root_text is not None:
            # botocore reads this body in a handler, not its parser: the root's text is the value.
            root = ElementTree.fromstring(resp.body)  # type: ignore[arg-type]
            assert (root.text or "") == (result.get(root_text) or "")
            return
        parsed = botocore_parse(protocol, resp, op, op.output_shape)
        assert resp.status < 300, resp
        parsed.pop("ResponseMetadata", None)
        shape = op.output_shape
        if shape is not None:
            for name, member in shape.members.items():
                if member.serialization.get("location") == "statusCode" and name not in result:
                    parsed.pop(name, None)
        stream = shape.event_stream_name if shape is not None else None
        if stream:
            assert shape is not None
            events = list(parsed.pop(stream))
            stream_shape = shape.members[stream]
            prune = protocol == "rest-xml"
            want = [normalize(stream_shape, e, prune=prune) for e in result.get(stream, [])]
            have = [normalize(stream_shape, e, prune=prune) for e in events]
            assert have == want, f"\nevents expected {want!r}\n            got {have!r}"
            result = {k: v for k, v in result.items() if k != stream}
        expected = _top(shape, result, protocol, output=True)
        got = _top(shape, parsed, protocol, output=True)
        assert got == expected, f"\nexpected {expected!r}\n     got {got!r}\nbody {resp.body!r}"

    if op.output_shape is None:
        check({})
    else:
        _run(strategies.for_shape(op.output_shape, strategies.Ctx("output", protocol)), check)


def check_error(codec: Codec, shape: Shape, op: OperationModel | None) -> None:
    """our serialize_error → botocore's parser and a client's exception lookup."""
    protocol = codec.protocol
    model = fresh_model(codec.service)
    spec = codec.errors.spec(shape.name)
    message_keys = {"message", "Message"}
    fields_strategy = strategies.for_shape(shape, strategies.Ctx("output", protocol))
    message_strategy = st.text(
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn")), max_size=12
    )

    def check(value: tuple[dict[str, Any], str]) -> None:
        fields, message = value
        fields = {k: v for k, v in fields.items() if k not in message_keys}
        for code in dict.fromkeys((shape.name, spec.code)):
            err = ServiceError(message, code=code, fields=fields)
            method = op.http.get("method", "POST") if op is not None else "POST"
            ctx = RequestContext("req-1", http=HttpRequest(method, "/"))
            resp = codec.serialize_error(op, err, ctx)
            out_shape = op.output_shape if op is not None else None
            parsed = botocore_parse(protocol, resp, op, out_shape)
            error = parsed["Error"]
            got_code = error["Code"]
            # botocore's after-call.sqs handler (_handle_sqs_compatible_error) picks the class
            # by the __type it keeps as QueryErrorCode.
            if codec.service == "sqs":
                got_code = error.get("QueryErrorCode") or got_code
            found = model.shape_for_error_code(got_code)
            assert found is not None, f"botocore knows no error {got_code!r}"
            assert found.error_code == shape.error_code, f"{got_code} is {found.name}"
            # botocore reads an empty <Message/> as None
            assert (error.get("Message") or "") == message, error
            status = shape.metadata.get("error", {}).get("httpStatusCode") or spec.status or 400
            assert resp.status == status, (resp.status, status)
            modeled = create_parser(protocol).parse(response_dict(resp, op), found)
            modeled = {k: v for k, v in modeled.items() if k not in message_keys}
            expected = _top(shape, fields, protocol, output=False)
            got = _top(shape, modeled, protocol, output=False)
            assert got == expected, f"\nexpected {expected!r}\n     got {got!r}\nbody {resp.body!r}"

    _run(st.tuples(fields_strategy, message_strategy), check)


def run(service: str, protocol: str) -> Coverage:
    """All checks for one service and protocol; failures are collected, not raised."""
    codec = get_codec(service, protocol)
    model = fresh_model(service)
    cov = Coverage(service, protocol)
    error_ops: dict[str, OperationModel] = {}
    for name in model.operation_names:
        op = model.operation_model(name)
        cov.operations += 1
        for err in op.error_shapes:
            if op.http.get("method") != "HEAD":
                error_ops.setdefault(err.name, op)
        try:
            check_input(codec, op, cov)
            cov.inputs += 1
        except Exception as exc:
            cov.failures.append(_failure(f"{name} input", exc))
        try:
            check_output(codec, op)
            cov.outputs += 1
        except Exception as exc:
            cov.failures.append(_failure(f"{name} output", exc))
    for shape in model.error_shapes:
        cov.error_shapes += 1
        try:
            check_error(codec, shape, error_ops.get(shape.name))
            cov.errors += 1
        except Exception as exc:
            cov.failures.append(_failure(f"error {shape.name}", exc))
    return cov
