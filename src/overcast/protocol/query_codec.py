"""The `query` protocol (awsQuery): form-encoded `Action=...&Version=...&Name.member.1=...` requests
(in the body or the query string), XML responses.

Requests are read by turning the dotted keys into a tree (`Attribute.1.Name` →
{"Attribute": {"1": {"Name": ...}}}) and walking it with decoders compiled from the input shape:
lists as `Name.member.N` (or the member's locationName), flattened lists as `Name.N`, maps as
`Name.entry.N.key/value` (flattened: `Name.N.key`).

Responses: `<OpResponse xmlns=ns><OpResult>...</OpResult><ResponseMetadata><RequestId>`;
errors: `<ErrorResponse xmlns=ns><Error><Type/><Code/><Message/>...</Error><RequestId/>`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.model import OperationModel, ServiceModel, Shape

from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.core.http import HttpRequest, HttpResponse, parse_form
from overcast.core.memo import Memo
from overcast.protocol.base import Codec
from overcast.protocol.errors import MalformedInput, protocol_error
from overcast.protocol.shapes import ShapeKey, compiled
from overcast.protocol.xml import (
    XML_DECLARATION,
    Children,
    XmlWriter,
    escape,
    member_xml_name,
    text_reader,
)

Node = dict[Any, Any]
"""A query tree node: child name → node; the key None holds the node's own value."""
Read = Callable[[Node], Any]
_SKIP_KEYS = frozenset(("Action", "Version"))
_TEXT_XML = ("Content-Type", "text/xml")
_BODY_MEMO_LIMIT = 256  # bytes: longer bodies are not remembered


def build_tree(pairs: list[tuple[str, str]]) -> Node:
    """Dotted query keys → a tree of nodes."""
    root: Node = {}
    for key, value in pairs:
        if key in _SKIP_KEYS:
            continue
        node = root
        for part in key.split("."):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            node = child
        node[None] = value
    return root


def _indexed(node: Node, where: str) -> list[Node]:
    """The children of a list/map node in index order (`.1`, `.2`, ...)."""
    items: list[tuple[int, Node]] = []
    for key, child in node.items():
        if key is None:
            continue
        if not key.isdigit():
            raise MalformedInput(f"Unexpected key {key!r} in list or map {where}", "query")
        items.append((int(key), child))
    items.sort(key=lambda kv: kv[0])
    return [child for _, child in items]


class QueryReader:
    """Compiled tree decoders for the shapes of one model."""

    def __init__(self) -> None:
        self._cache: dict[ShapeKey, Read] = {}

    def decoder(self, shape: Shape) -> Read:
        """tree node → provider value for `shape` (raises MalformedInput)."""
        return compiled(self._cache, shape, self._build)

    def _build(self, shape: Shape) -> Read:
        t = shape.type_name
        if t == "structure":
            return self._structure(shape)
        if t == "list":
            return self._list(shape)
        if t == "map":
            return self._map(shape)
        convert = text_reader(shape)
        name = shape.name

        def read_scalar(node: Node) -> Any:
            text = node.get(None)
            if text is None:
                raise MalformedInput(f"Expected a value for {name}", "query")
            return convert(text)

        return read_scalar

    def _structure(self, shape: Shape) -> Read:
        members = [
            (name, member_xml_name(name, member), self.decoder(member))
            for name, member in shape.members.items()
        ]

        def read_structure(node: Node) -> dict[str, Any]:
            out = {}
            for name, key, read in members:
                child = node.get(key)
                if child is not None:
                    out[name] = read(child)
            return out

        return read_structure

    def _list(self, shape: Shape) -> Read:
        item = self.decoder(shape.member)
        flattened = bool(shape.serialization.get("flattened"))
        member_key = shape.member.serialization.get("name", "member")
        where = shape.name

        def read_list(node: Node) -> list[Any]:
            holder = node if flattened else node.get(member_key)
            if holder is None:
                return []
            return [item(child) for child in _indexed(holder, where)]

        return read_list

    def _map(self, shape: Shape) -> Read:
        key_read = self.decoder(shape.key)
        value_read = self.decoder(shape.value)
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        flattened = bool(shape.serialization.get("flattened"))
        where = shape.name

        def read_map(node: Node) -> dict[str, Any]:
            holder = node if flattened else node.get("entry")
            out: dict[str, Any] = {}
            if holder is None:
                return out
            for entry in _indexed(holder, where):
                k, v = entry.get(key_name), entry.get(value_name)
                if k is None or v is None:
                    raise MalformedInput(f"Map entry of {where} without key or value", "query")
                out[key_read(k)] = value_read(v)
            return out

        return read_map


@dataclass(slots=True)
class _Plan:
    read: Read | None
    wrapper: str | None  # the result element (resultWrapper), if the output has one
    write: Children | None
    # The fixed text of a response around the result's members and the request id.
    head: str = ""
    middle: str = ""
    tail: str = ""


class QueryCodec(Codec):
    """awsQuery codec."""

    def __init__(self, service: str, model: ServiceModel, protocol: str = "query") -> None:
        super().__init__(service, model, protocol)
        self.reader = QueryReader()
        self.writer = XmlWriter()
        self._ops = {name: model.operation_model(name) for name in model.operation_names}
        ns = model.metadata.get("xmlNamespace") or self.quirks.get("xml_namespace")
        self._xmlns = f' xmlns="{escape(ns)}"' if ns else ""
        self._plans: dict[OperationModel, _Plan] = {}  # by the model's (cached) operation
        self._last: tuple[str | None, bytes | None, list[tuple[str, str]]] = (None, None, [])
        # Operations without input members by the whole form body that named them (Action
        # first, e.g. `Action=GetCallerIdentity&Version=2011-06-15`): such bodies repeat exactly.
        self._by_body: Memo[bytes, OperationModel] = Memo(256)

    def _plan(self, op: OperationModel) -> _Plan:
        plan = self._plans.get(op)
        if plan is None:
            inp, out = op.input_shape, op.output_shape
            plan = _Plan(
                # An input without members reads as {} whatever the form holds (match() has
                # already read the form): skip building its tree.
                self.reader.decoder(inp) if inp is not None and inp.members else None,
                out.serialization.get("resultWrapper") if out is not None else None,
                self.writer.children(out) if out is not None else None,
            )
            wrapped = plan.write is not None and plan.wrapper
            plan.head = f"{XML_DECLARATION}<{op.name}Response{self._xmlns}>" + (
                f"<{plan.wrapper}>" if wrapped else ""
            )
            plan.middle = (f"</{plan.wrapper}>" if wrapped else "") + (
                "<ResponseMetadata><RequestId>"
            )
            plan.tail = f"</RequestId></ResponseMetadata></{op.name}Response>"
            self._plans[op] = plan
        return plan

    def _pairs(self, req: HttpRequest) -> list[tuple[str, str]]:
        # parse() (and match(), when Action is not first) of one request: decoded once, kept.
        cached = self._last
        if cached[0] is req.query_string and cached[1] is req.body:
            return cached[2]
        pairs = parse_form(req.query_string) if req.query_string else []
        body = self.body(req) if "content-encoding" in req.headers else req.body
        if body:
            pairs += parse_form(_utf8(body))
        self._last = (req.query_string, req.body, pairs)
        return pairs

    def match(self, req: HttpRequest) -> OperationModel:
        """By the Action parameter (query string or form body)."""
        action = None
        body = req.body
        action_first = (
            body[:7] == b"Action="  # body.startswith(b"Action="), cheaper
            and not req.query_string
            and "content-encoding" not in req.headers
        )
        if action_first:
            known = self._by_body.get(body)
            if known is not None:
                return known
            # The form the SDKs write, Action first: read it without splitting every pair (parse()
            # does that, when the operation has input members; it decodes the body again, which
            # costs far less than splitting it). Decoding the whole body here still rejects one
            # that is not UTF-8, as the full path would.
            text = _utf8(body)
            end = text.find("&")
            action = text[7:end] if end >= 0 else text[7:]
            if "%" in action or "+" in action:
                action = None  # encoded: the full path decodes it
        if action is None:
            for key, value in self._pairs(req):
                if key == "Action":
                    action = value
                    break
        if not action:
            raise protocol_error("MissingAction", "Could not find the Action parameter")
        op = self._ops.get(action)
        if op is None:
            raise protocol_error(
                "InvalidAction", f"The action {action} is not valid for this web service."
            )
        if action_first and len(body) <= _BODY_MEMO_LIMIT:
            plan = self._plans.get(op) or self._plan(op)
            if plan.read is None:  # nothing else in the body is read: it decides alone
                self._by_body.remember(body, op)
        return op

    def parse(self, op: OperationModel, req: HttpRequest) -> dict[str, Any]:
        """The form parameters, decoded by the input shape."""
        plan = self._plans.get(op)
        if plan is None:
            plan = self._plan(op)
        if plan.read is None:
            return {}
        try:
            params: dict[str, Any] = plan.read(build_tree(self._pairs(req)))
        except MalformedInput as exc:
            raise self.malformed(exc) from None
        return params

    def serialize(
        self, op: OperationModel, result: dict[str, Any], ctx: RequestContext
    ) -> HttpResponse:
        """`<OpResponse><OpResult>...</OpResult><ResponseMetadata>...` as text/xml."""
        plan = self._plans.get(op)
        if plan is None:
            plan = self._plan(op)
        out = [plan.head]
        if plan.write is not None:
            plan.write(out, result)
        rid = ctx.request_id
        # Whether the (unique) request id goes into XML as it is: about twice as fast as the
        # regular expression escape() searches with. A false "no" (a tab, a newline,
        # unprintable Unicode) only costs an escape() that changes nothing.
        plain = (
            rid.isprintable()
            and "<" not in rid
            and "&" not in rid
            and ">" not in rid
            and '"' not in rid
        )
        out += (plan.middle, rid if plain else escape(rid), plan.tail)
        body = "".join(out).encode()
        if self._plain_request_id is not None and not ctx.response_headers:
            headers = [_TEXT_XML, (self._plain_request_id, rid)]
        else:
            headers = self.success_headers(ctx, "text/xml")
        return HttpResponse(ctx.response_status or 200, headers, body)

    def serialize_error(
        self, op: OperationModel | None, err: ServiceError, ctx: RequestContext
    ) -> HttpResponse:
        """`<ErrorResponse><Error><Type/><Code/><Message/>fields</Error><RequestId/>`."""
        spec, status, sender_fault = self.errors.status_and_fault(err)
        out = [
            XML_DECLARATION,
            f"<ErrorResponse{self._xmlns}><Error>",
            f"<Type>{'Sender' if sender_fault else 'Receiver'}</Type>",
            f"<Code>{escape(spec.code)}</Code>",
            f"<Message>{escape(err.message)}</Message>",
        ]
        error_fields(self.writer, spec.shape, err.fields, out)
        out.append(f"</Error><RequestId>{escape(ctx.request_id)}</RequestId></ErrorResponse>")
        headers = [("Content-Type", "text/xml"), *self.request_id_headers(ctx)]
        body = "".join(out).encode("utf-8")
        return HttpResponse(status, self.finish(headers, ctx, err), body)

    def malformed(self, problem: MalformedInput) -> ServiceError:
        code = self.quirks.get("query_malformed_code", "ValidationError")
        if problem.where == "query" and "query_malformed_code" not in self.quirks:
            code = "MalformedQueryString"
        return protocol_error(code, problem.message)


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise protocol_error(
            "MalformedQueryString", "The request body is not valid UTF-8"
        ) from None


_RESERVED_ERROR_KEYS = frozenset(("Code", "Message", "message", "Type", "RequestId", "HostId"))


def error_fields(
    writer: XmlWriter, shape: Shape | None, fields: dict[str, Any], out: list[str]
) -> None:
    """The extra members of an XML error, modelled ones by the error shape, others as text."""
    if not fields:
        return
    rest = {k: v for k, v in fields.items() if k not in _RESERVED_ERROR_KEYS and v is not None}
    if shape is not None:
        writer.children(shape)(out, rest)
        rest = {k: v for k, v in rest.items() if k not in shape.members}
    for key, value in rest.items():
        out.append(f"<{key}>{escape(str(value))}</{key}>")
