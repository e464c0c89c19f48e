"""The `rest-xml` protocol (S3): routed requests, XML bodies; errors as
`<Error><Code/><Message/>...<RequestId/><HostId/></Error>`, with no body at all for HEAD.

The model leaves out what the root elements of output bodies are called and which namespace they
carry; quirks.json supplies both (`xml_root_names`, `xml_namespace`), and names the outputs whose
body is a single root element holding text (`xml_root_text`: S3's GetBucketLocation).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape

from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.protocol.base import host_id
from overcast.protocol.errors import MalformedInput, protocol_error
from overcast.protocol.query_codec import error_fields
from overcast.protocol.rest import RestCodec
from overcast.protocol.xml import (
    XML_DECLARATION,
    XmlReader,
    XmlWriter,
    escape,
    parse_document,
    scalar_text,
)

MALFORMED_XML = (
    "The XML you provided was not well-formed or did not validate against our published schema"
)


class RestXmlCodec(RestCodec):
    """rest-xml codec."""

    content_type = "application/xml"

    def __init__(self, service: str, model: ServiceModel, protocol: str = "rest-xml") -> None:
        super().__init__(service, model, protocol)
        self.reader = XmlReader()
        self.writer = XmlWriter()
        ns = model.metadata.get("xmlNamespace") or self.quirks.get("xml_namespace")
        self._xmlns = f' xmlns="{escape(ns)}"' if ns else ""
        self._root_names: dict[str, str] = self.quirks.get("xml_root_names", {})
        self._root_text: dict[str, str] = self.quirks.get("xml_root_text", {})

    def root_name(self, op: OperationModel | None, shape: Shape) -> str:
        """The root element of an output body: from quirks, the model, or `{Op}Result`."""
        if op is None:
            return str(shape.serialization.get("name", shape.name))
        name = self._root_names.get(op.name) or shape.serialization.get("name")
        return str(name or f"{op.name}Result")

    def body_reader(self, shape: Shape) -> Callable[[bytes], dict[str, Any]]:
        read = self.reader.members(shape, body_only=True)
        return lambda body: read(parse_document(body))  # type: ignore[no-any-return]

    def structure_reader(self, shape: Shape) -> Callable[[bytes], Any]:
        read = self.reader.decoder(shape)
        return lambda body: read(parse_document(body))

    def body_writer(
        self, op: OperationModel | None, shape: Shape
    ) -> Callable[[dict[str, Any]], bytes]:
        xmlns = self._xmlns
        text_member = self._root_text.get(op.name) if op is not None else None
        if text_member is not None:
            # The whole body is one element whose text is the member (GetBucketLocation).
            text = scalar_text(shape.members[text_member])

            def write_root_text(value: dict[str, Any]) -> bytes:
                item = value.get(text_member)
                inner = "" if item is None else text(item)
                return f"{XML_DECLARATION}<{text_member}{xmlns}>{inner}</{text_member}>".encode()

            return write_root_text
        root = self.root_name(op, shape)
        emit = self.writer.members(shape, body_only=True)

        def write_body(value: dict[str, Any]) -> bytes:
            out = [XML_DECLARATION]
            emit(out, root, value, xmlns)
            return "".join(out).encode("utf-8")

        return write_body

    def structure_writer(self, shape: Shape, root: str) -> Callable[[Any], bytes]:
        emit = self.writer.element(shape)
        xmlns = "" if shape.serialization.get("xmlNamespace") else self._xmlns

        def write_payload(value: Any) -> bytes:
            out = [XML_DECLARATION]
            emit(out, root, value, xmlns)
            return "".join(out).encode("utf-8")

        return write_payload

    def event_body(self, shape: Shape, value: dict[str, Any]) -> bytes:
        out: list[str] = []
        self.writer.element(shape)(out, shape.name, value, "")
        return "".join(out).encode("utf-8")

    def error_body(self, code: str, err: ServiceError, ctx: RequestContext) -> bytes:
        spec = self.errors.spec(err.code)
        out = [
            XML_DECLARATION,
            f"<Error><Code>{escape(code)}</Code><Message>{escape(err.message)}</Message>",
        ]
        error_fields(self.writer, spec.shape, err.fields, out)
        out.append(
            f"<RequestId>{escape(ctx.request_id)}</RequestId>"
            f"<HostId>{host_id(ctx.request_id)}</HostId></Error>"
        )
        return "".join(out).encode("utf-8")

    def malformed(self, problem: MalformedInput) -> ServiceError:
        if problem.where == "body":
            return protocol_error("MalformedXML", MALFORMED_XML)
        return protocol_error("InvalidArgument", problem.message)
