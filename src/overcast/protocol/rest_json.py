"""The `rest-json` protocol: routed requests, JSON bodies; errors as `{"message": ...}` with the
code in the `x-amzn-ErrorType` header."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from botocore.model import OperationModel, ServiceModel, Shape

from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.protocol.errors import MalformedInput, protocol_error
from overcast.protocol.json_codec import json_default, message_key
from overcast.protocol.rest import RestCodec
from overcast.protocol.values import Converters


def _load(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedInput(f"Malformed JSON body: {exc}") from None


class RestJsonCodec(RestCodec):
    """rest-json codec."""

    content_type = "application/json"

    def __init__(self, service: str, model: ServiceModel, protocol: str = "rest-json") -> None:
        super().__init__(service, model, protocol)
        self.values = Converters("json")
        self._error_encoders: dict[str, Callable[[Any], Any]] = {}

    def body_reader(self, shape: Shape) -> Callable[[bytes], dict[str, Any]]:
        decode = self.values.structure_decoder(shape, body_only=True)
        return lambda body: decode(_load(body))  # type: ignore[no-any-return]

    def structure_reader(self, shape: Shape) -> Callable[[bytes], Any]:
        decode = self.values.decoder(shape)
        return lambda body: decode(_load(body))

    def body_writer(
        self, op: OperationModel | None, shape: Shape
    ) -> Callable[[dict[str, Any]], bytes]:
        encode = self.values.structure_encoder(shape, body_only=True)
        return lambda value: orjson.dumps(encode(value))

    def structure_writer(self, shape: Shape, root: str) -> Callable[[Any], bytes]:
        encode = self.values.encoder(shape)
        if encode is None:
            return orjson.dumps
        return lambda value: orjson.dumps(encode(value))

    def event_body(self, shape: Shape, value: dict[str, Any]) -> bytes:
        encode = self.values.encoder(shape)
        return orjson.dumps(value if encode is None else encode(value))

    def error_headers(self, type_name: str) -> list[tuple[str, str]]:
        return [("Content-Type", self.content_type), ("x-amzn-ErrorType", type_name)]

    def error_body(self, code: str, err: ServiceError, ctx: RequestContext) -> bytes:
        spec = self.errors.spec(err.code)
        doc: dict[str, Any] = {}
        if err.fields:
            if spec.shape is not None:
                encode = self._error_encoders.get(spec.type_name)
                if encode is None:
                    encode = self.values.structure_encoder(spec.shape, body_only=True)
                    self._error_encoders[spec.type_name] = encode
                doc.update(encode(err.fields))
                modelled = spec.shape.members
                doc.update({k: v for k, v in err.fields.items() if k not in modelled})
            else:
                doc.update(err.fields)
        key = message_key(spec.shape)
        doc.setdefault(key, err.message)
        return orjson.dumps(doc, default=json_default)

    def malformed(self, problem: MalformedInput) -> ServiceError:
        spec = self.quirks.get("malformed_error")
        if spec:
            return protocol_error(spec["code"], problem.message, spec.get("status", 400))
        return protocol_error("SerializationException", problem.message)
