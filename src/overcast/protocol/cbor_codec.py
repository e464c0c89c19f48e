"""The `smithy-rpc-v2-cbor` protocol: POST /service/{Service}/operation/{Operation}, CBOR bodies.

Responses carry `Smithy-Protocol: rpc-v2-cbor`; timestamps are CBOR tag 1 (epoch seconds); errors
are CBOR maps with `__type` and `message` (plus `x-amzn-query-error` for query-compatible
services, as in the json protocol).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

import cbor2
from botocore.model import OperationModel, ServiceModel, Shape

from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.core.http import HttpRequest, HttpResponse
from overcast.protocol.base import Codec
from overcast.protocol.errors import MalformedInput, protocol_error
from overcast.protocol.eventstream import CONTENT_TYPE as EVENT_STREAM
from overcast.protocol.eventstream import EventStreamWriter, initial_response
from overcast.protocol.json_codec import error_document
from overcast.protocol.values import Conv, Converters

_EMPTY_MAP = b"\xa0"


@dataclass(slots=True)
class _Plan:
    decode: Conv | None
    encode: Conv | None
    stream: tuple[str, EventStreamWriter] | None = None  # an event-stream output member


def _cbor_default(encoder: Any, value: Any) -> None:
    # Unmodelled error fields: anything cbor2 cannot encode travels as text.
    encoder.encode(str(value))


class CborCodec(Codec):
    """Smithy RPC v2 CBOR codec."""

    def __init__(
        self, service: str, model: ServiceModel, protocol: str = "smithy-rpc-v2-cbor"
    ) -> None:
        super().__init__(service, model, protocol)
        self.values = Converters("cbor")
        self._ops = {name: model.operation_model(name) for name in model.operation_names}
        self._query_compatible = "awsQueryCompatible" in model.metadata
        self._plans: dict[str, _Plan] = {}

    def _plan(self, op: OperationModel) -> _Plan:
        plan = self._plans.get(op.name)
        if plan is None:
            inp, out = op.input_shape, op.output_shape
            plan = _Plan(
                self.values.structure_decoder(inp) if inp is not None else None,
                self.values.structure_encoder(out) if out is not None else None,
            )
            stream = out.event_stream_name if out is not None else None
            if stream:
                writer = EventStreamWriter(out.members[stream], self.event_body, "application/cbor")
                plan.stream = (stream, writer)
            self._plans[op.name] = plan
        return plan

    def match(self, req: HttpRequest) -> OperationModel:
        """By the path's last segment: /service/{Service}/operation/{Operation}."""
        parts = req.path.split("/")
        op = None
        if len(parts) >= 5 and parts[-2] == "operation" and parts[-4] == "service":
            op = self._ops.get(parts[-1])
        if op is None:
            raise protocol_error(
                "UnknownOperationException",
                f"Operation at {req.path} is not supported by {self.service}",
                404,
            )
        return op

    def parse(self, op: OperationModel, req: HttpRequest) -> dict[str, Any]:
        """The CBOR body, decoded by the input shape."""
        plan = self._plan(op)
        body = self.body(req)
        if plan.decode is None or not body:
            return {}
        try:
            doc = cbor2.loads(body)
        except (cbor2.CBORDecodeError, ValueError, TypeError) as exc:
            raise self.malformed(MalformedInput(f"Malformed CBOR body: {exc}")) from None
        try:
            params: dict[str, Any] = plan.decode(doc)
        except MalformedInput as exc:
            raise self.malformed(exc) from None
        return params

    def serialize(
        self, op: OperationModel, result: dict[str, Any], ctx: RequestContext
    ) -> HttpResponse:
        """200 with the CBOR map of the output shape."""
        plan = self._plan(op)
        content_type = "application/cbor"
        if plan.stream is not None:
            name, writer = plan.stream
            rest = {k: v for k, v in result.items() if k != name}
            doc = plan.encode(rest) if plan.encode is not None else {}
            body = initial_response(cbor2.dumps(doc, datetime_as_timestamp=True), content_type)
            body += writer.encode(result.get(name) or ())
            content_type = EVENT_STREAM
        elif plan.encode is not None and result:
            body = cbor2.dumps(plan.encode(result), datetime_as_timestamp=True)
        else:
            body = _EMPTY_MAP
        headers = [
            ("Content-Type", content_type),
            ("Smithy-Protocol", "rpc-v2-cbor"),
            *self.request_id_headers(ctx),
        ]
        return HttpResponse(ctx.response_status or 200, self.finish(headers, ctx), body)

    def event_body(self, shape: Shape, value: dict[str, Any]) -> bytes:
        """The CBOR payload of one event of an event stream."""
        encode = self.values.encoder(shape)
        doc = value if encode is None else encode(value)
        return cbor2.dumps(doc, datetime_as_timestamp=True)

    def serialize_error(
        self, op: OperationModel | None, err: ServiceError, ctx: RequestContext
    ) -> HttpResponse:
        """A CBOR map with `__type`, the message and the error shape's members."""
        spec, status, sender_fault = self.errors.status_and_fault(err)
        doc = error_document(self.values, spec.shape, spec.type_name, err)
        headers = [
            ("Content-Type", "application/cbor"),
            ("Smithy-Protocol", "rpc-v2-cbor"),
            *self.request_id_headers(ctx),
        ]
        if self._query_compatible:
            fault = "Sender" if sender_fault else "Receiver"
            headers.append(("x-amzn-query-error", f"{spec.code};{fault}"))
        body = cbor2.dumps(doc, datetime_as_timestamp=True, timezone=UTC, default=_cbor_default)
        return HttpResponse(status, self.finish(headers, ctx, err), body)

    def malformed(self, problem: MalformedInput) -> ServiceError:
        return protocol_error("SerializationException", problem.message)
