"""The `json` protocol (awsJson1_0 / awsJson1_1): POST /, X-Amz-Target: Prefix.Operation.

Errors carry `__type` (the shape name) and `message`, plus the `x-amzn-ErrorType` header; services
marked awsQueryCompatible (SQS, CloudWatch) add `x-amzn-query-error: <query code>;Sender|Receiver`,
which botocore uses to raise the modelled exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from botocore.model import OperationModel, ServiceModel, Shape

from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.core.http import HttpRequest, HttpResponse
from overcast.protocol.base import Codec
from overcast.protocol.errors import MalformedInput, protocol_error
from overcast.protocol.eventstream import CONTENT_TYPE as EVENT_STREAM
from overcast.protocol.eventstream import EventStreamWriter, initial_response
from overcast.protocol.values import Conv, Converters, member_wire_name


@dataclass(slots=True)
class _Plan:
    decode: Conv | None
    encode: Conv | None
    fast: Conv | None  # the optimistic twin of encode (see Converters)
    # Output members a value may skip the encoders under, as it is its own wire document:
    # list or map members holding an orjson.Fragment (their encoders hand it on), and scalar
    # members without an encoder holding a str, int or bool.
    raw: frozenset[str] = frozenset()
    scalar: frozenset[str] = frozenset()
    stream: tuple[str, EventStreamWriter] | None = None  # an event-stream output member


def json_default(value: Any) -> Any:
    """orjson fallback for unmodelled error fields: bytes and anything else as text."""
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", "replace")
    return str(value)


def _holds_null(body: bytes) -> bool:
    """Whether a JSON document may hold a null (text that merely contains `null` only costs an
    exact re-encoding; one search, as each costs about as much as orjson's whole encoding)."""
    return b"null" in body


# Scalar types whose values travel as they are when their shape has no encoder.
_PLAIN_SCALARS = frozenset(("string", "character", "integer", "long", "short", "byte", "boolean"))
_AS_IS = (str, int, bool)
_RAW = orjson.Fragment


def _as_is(result: dict[str, Any], raw: frozenset[str], scalar: frozenset[str]) -> bool:
    """Whether a result is already its own wire document: stored wire JSON (a Fragment, as
    DynamoDB hands on its items) in list or map members, and plain scalars. The exact encoder
    would return it unchanged, and it can hold no null: no encoding, no search for one."""
    for key, value in result.items():
        t = type(value)
        if t is _RAW:
            if key not in raw:
                return False
        elif t not in _AS_IS or key not in scalar:
            return False
    return True


def message_key(shape: Shape | None) -> str:
    """`Message` when the error shape models it with a capital, else `message`."""
    if shape is not None and "Message" in shape.members and "message" not in shape.members:
        return "Message"
    return "message"


class JsonCodec(Codec):
    """awsJson 1.0/1.1 codec."""

    def __init__(self, service: str, model: ServiceModel, protocol: str = "json") -> None:
        super().__init__(service, model, protocol)
        self.values = Converters("json")
        self.fast_values = Converters("json", optimistic=True)
        prefix = model.metadata.get("targetPrefix", "")
        self._targets: dict[str, OperationModel] = {}
        self._by_name: dict[str, OperationModel] = {}
        for name in model.operation_names:
            op = model.operation_model(name)
            self._targets[f"{prefix}.{name}"] = op
            self._by_name[name] = op
        self._content_type = f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.0')}"
        self._query_compatible = "awsQueryCompatible" in model.metadata
        self._plans: dict[str, _Plan] = {}

    def _plan(self, op: OperationModel) -> _Plan:
        plan = self._plans.get(op.name)
        if plan is None:
            inp, out = op.input_shape, op.output_shape
            plan = _Plan(
                self.values.structure_decoder(inp) if inp is not None else None,
                self.values.structure_encoder(out) if out is not None else None,
                self.fast_values.structure_encoder(out) if out is not None else None,
            )
            if out is not None:
                plan.raw, plan.scalar = self._passthrough(out)
            stream = out.event_stream_name if out is not None else None
            if stream:
                writer = EventStreamWriter(out.members[stream], self.event_body, "application/json")
                plan.stream = (stream, writer)
            self._plans[op.name] = plan
        return plan

    def _passthrough(self, out: Shape) -> tuple[frozenset[str], frozenset[str]]:
        raw, scalar = set(), set()
        for name, member in out.members.items():
            if member_wire_name(name, member) != name:
                continue
            if member.type_name in ("list", "map"):
                raw.add(name)
            elif member.type_name in _PLAIN_SCALARS and self.values.encoder(member) is None:
                scalar.add(name)
        return frozenset(raw), frozenset(scalar)

    def match(self, req: HttpRequest) -> OperationModel:
        """By X-Amz-Target (an unknown prefix is tolerated when the operation name is known)."""
        target = req.headers.get("x-amz-target", "")
        op = self._targets.get(target)
        if op is None:
            op = self._by_name.get(target.rpartition(".")[2])
        if op is None:
            raise protocol_error(
                "UnknownOperationException",
                f"Operation {target or '(no X-Amz-Target)'} is not supported by {self.service}",
            )
        return op

    def parse(self, op: OperationModel, req: HttpRequest) -> dict[str, Any]:
        """The JSON body, decoded by the input shape."""
        plan = self._plans.get(op.name) or self._plan(op)
        body = self.body(req)
        if plan.decode is None:
            return {}
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            if not body.strip():  # an empty body is an empty input
                return {}
            raise self.malformed(MalformedInput(f"Malformed JSON body: {exc}")) from None
        try:
            params: dict[str, Any] = plan.decode(doc)
        except MalformedInput as exc:
            raise self.malformed(exc) from None
        return params

    def serialize(
        self, op: OperationModel, result: dict[str, Any], ctx: RequestContext
    ) -> HttpResponse:
        """200 with the JSON document of the output shape."""
        plan = self._plans.get(op.name) or self._plan(op)
        content_type = self._content_type
        events = None
        if plan.stream is not None and result:
            events = result.get(plan.stream[0])
            result = {k: v for k, v in result.items() if k != plan.stream[0]}
        if plan.fast is not None and result:
            if _as_is(result, plan.raw, plan.scalar):
                body = orjson.dumps(result)
            else:
                body = orjson.dumps(plan.fast(result))
                if _holds_null(body):  # a None was handed on: encode exactly (it drops them)
                    body = orjson.dumps(plan.encode(result) if plan.encode is not None else result)
        else:
            body = b"{}"
        if plan.stream is not None:
            body = initial_response(body, "application/json") + plan.stream[1].encode(events or ())
            content_type = EVENT_STREAM
        return HttpResponse(
            ctx.response_status or 200, self.success_headers(ctx, content_type), body
        )

    def event_body(self, shape: Shape, value: dict[str, Any]) -> bytes:
        """The JSON payload of one event of an event stream."""
        encode = self.values.encoder(shape)
        return orjson.dumps(value if encode is None else encode(value))

    def serialize_error(
        self, op: OperationModel | None, err: ServiceError, ctx: RequestContext
    ) -> HttpResponse:
        """`{"__type": ..., "message": ...}` with the error shape's own members."""
        spec, status, sender_fault = self.errors.status_and_fault(err)
        doc = error_document(self.values, spec.shape, spec.type_name, err)
        headers = [
            ("Content-Type", self._content_type),
            *self.request_id_headers(ctx),
            ("x-amzn-ErrorType", spec.type_name),
        ]
        if self._query_compatible:
            fault = "Sender" if sender_fault else "Receiver"
            headers.append(("x-amzn-query-error", f"{spec.code};{fault}"))
        body = orjson.dumps(doc, default=json_default)
        return HttpResponse(status, self.finish(headers, ctx, err), body)

    def malformed(self, problem: MalformedInput) -> ServiceError:
        return protocol_error("SerializationException", problem.message)


def error_document(
    values: Converters, shape: Shape | None, type_name: str, err: ServiceError
) -> dict[str, Any]:
    """The body of a JSON or CBOR error: `__type`, the message, and the error's fields."""
    doc: dict[str, Any] = {"__type": type_name}
    fields = err.fields
    if fields:
        if shape is not None:
            doc.update(values.structure_encoder(shape)(fields))
            modelled = shape.members
            for key, value in fields.items():
                if key not in modelled and value is not None:
                    doc[key] = value
        else:
            doc.update({k: v for k, v in fields.items() if v is not None})
    key = message_key(shape)
    if key not in doc:
        doc[key] = err.message
    return doc
