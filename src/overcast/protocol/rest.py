"""What rest-json and rest-xml share: routing, and members bound to HTTP locations.

Request members live in uri labels, querystring parameters (scalars, lists, a map of the rest),
headers (scalars, comma-separated lists, base64 JSON values, RFC 822 timestamps), header-prefix
maps (`x-amz-meta-*`), a payload (raw blob/string, or one structure), or the body document.
Response members go to the status code, headers, a payload or the body. The two subclasses say
only how a body document is read and written (JSON or XML).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from email.header import Header
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson
from botocore.model import OperationModel, ServiceModel, Shape

from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.core.http import FileBody, HttpRequest, HttpResponse
from overcast.protocol import timestamps
from overcast.protocol.base import Codec
from overcast.protocol.errors import MalformedInput, protocol_error
from overcast.protocol.eventstream import CONTENT_TYPE as EVENT_STREAM
from overcast.protocol.eventstream import EventStreamWriter
from overcast.protocol.routing import Route, Router
from overcast.protocol.xml import scalar_text, text_reader

Reader = Callable[[str], Any]
Writer = Callable[[Any], str]


@dataclass(slots=True)
class RequestPlan:
    """How to read one operation's input from a request."""

    route: Route
    labels: list[tuple[str, Reader]] = field(default_factory=list)
    query: list[tuple[str, str, bool, Reader]] = field(default_factory=list)  # wire, name, list?
    query_map: tuple[str, bool] | None = None  # member, values are lists?
    claimed_query: frozenset[str] = frozenset()
    headers: list[tuple[str, str, Reader]] = field(default_factory=list)
    # The same by wire name, when no two members share one: a request carries a handful of the
    # dozens of headers some inputs model, so looking up what came is the shorter walk.
    header_index: dict[str, tuple[str, Reader]] | None = None
    prefix_maps: list[tuple[str, str]] = field(default_factory=list)
    prefixes: tuple[str, ...] = ()  # the prefix maps' prefixes, for one startswith per header
    # Where each label of `labels` sits in the path: segment index, greedy?, member, reader.
    label_slots: list[tuple[int, bool, str, Reader]] = field(default_factory=list)
    payload: tuple[str, str, Callable[[bytes], Any] | None] | None = None  # name, kind, reader
    body: Callable[[bytes], dict[str, Any]] | None = None
    # Only operations modelled with requestcompression get their gzip undone: elsewhere a
    # Content-Encoding belongs to the payload itself (an S3 object uploaded gzipped stays so).
    decompress: bool = False


@dataclass(slots=True)
class ResponsePlan:
    """How to write one output (or error) shape into a response."""

    status_member: str | None = None
    headers: list[tuple[str, str, Writer]] = field(default_factory=list)
    header_index: dict[str, tuple[str, Writer]] = field(default_factory=dict)  # by member name
    prefix_maps: list[tuple[str, str]] = field(default_factory=list)
    payload: tuple[str, str, Callable[[Any], bytes] | None] | None = None  # name, kind, writer
    body: Callable[[dict[str, Any]], bytes] | None = None
    has_body_members: bool = False
    models_content_type: bool = False  # the shape has its own Content-Type header member


def split_header_list(value: str) -> list[str]:
    """`a, "b,c", "d\\"e"` → ["a", "b,c", 'd"e'] (how botocore writes list headers)."""
    items: list[str] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and value[i] in " \t":
            i += 1
        if i < n and value[i] == '"':
            i += 1
            buf = []
            while i < n and value[i] != '"':
                if value[i] == "\\" and i + 1 < n:
                    i += 1
                buf.append(value[i])
                i += 1
            items.append("".join(buf))
            i += 1
            while i < n and value[i] != ",":
                i += 1
        else:
            j = value.find(",", i)
            j = n if j < 0 else j
            items.append(value[i:j].strip())
            i = j
        i += 1
    return items


def header_reader(member: Shape) -> Reader:
    """header text → value, for one header-bound member."""
    t = member.type_name
    if t == "list":
        item = text_reader(member.member)
        return lambda text: [item(v) for v in split_header_list(text)]
    if t == "string" and member.serialization.get("jsonvalue"):

        def read_json_value(text: str) -> Any:
            try:
                return orjson.loads(base64.b64decode(text))
            except (binascii.Error, ValueError) as exc:
                raise MalformedInput(
                    f"Invalid JSON header value for {member.name}", "header"
                ) from exc

        return read_json_value
    return text_reader(member)


def _header_text(text: str) -> str:
    # HTTP header values are latin-1 on the wire; S3 sends other text RFC 2047-encoded.
    if text.isascii():
        return text
    return Header(text, "utf-8").encode()


def _write_string(value: Any) -> str:
    text = value if type(value) is str else str(value)
    return text if text.isascii() else _header_text(text)  # the check first: most are ASCII


def header_writer(member: Shape) -> Writer:
    """value → header text, for one header-bound member."""
    t = member.type_name
    if t == "timestamp":
        fmt = member.serialization.get("timestampFormat")
        return timestamps.formatter(fmt) if fmt else timestamps.rfc822
    if t == "list":
        item = header_writer(member.member)
        quote = member.member.type_name == "string"

        def write_list(value: Any) -> str:
            parts = []
            for v in value:
                text = item(v)
                if quote and ('"' in text or "," in text):
                    text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
                parts.append(text)
            return ",".join(parts)

        return write_list
    if t == "string" and member.serialization.get("jsonvalue"):
        return lambda v: base64.b64encode(orjson.dumps(v)).decode("ascii")
    if t == "string":
        return _write_string
    text = scalar_text(member)
    return text


class RestCodec(Codec):
    """Routing and HTTP-bound members; subclasses supply the body format."""

    content_type = ""

    def __init__(self, service: str, model: ServiceModel, protocol: str) -> None:
        super().__init__(service, model, protocol)
        self.router = Router(model, self.quirks.get("route_preference"))
        self._requests: dict[str, RequestPlan] = {}
        self._responses: dict[str, ResponsePlan] = {}
        self._last_query: tuple[str | None, list[tuple[str, str]], dict[str, list[str]]] = (
            None,
            [],
            {},
        )

    def _query(self, query_string: str) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
        """The decoded query string as pairs and as name → values. match() and parse() of one
        request both need it; the last one is kept (strings are immutable: identity suffices)."""
        cached = self._last_query
        if cached[0] is query_string:
            return cached[1], cached[2]
        pairs = parse_qsl(query_string, keep_blank_values=True) if query_string else []
        multi: dict[str, list[str]] = {}
        for key, value in pairs:
            multi.setdefault(key, []).append(value)
        self._last_query = (query_string, pairs, multi)
        return pairs, multi

    # -- body format hooks -------------------------------------------------------------------

    def body_reader(self, shape: Shape) -> Callable[[bytes], dict[str, Any]]:
        """bytes → the body members of a top-level input shape."""
        raise NotImplementedError

    def structure_reader(self, shape: Shape) -> Callable[[bytes], Any]:
        """bytes → value, for a structure payload member."""
        raise NotImplementedError

    def body_writer(
        self, op: OperationModel | None, shape: Shape
    ) -> Callable[[dict[str, Any]], bytes]:
        """The body members of a top-level output (or error) shape → bytes."""
        raise NotImplementedError

    def structure_writer(self, shape: Shape, root: str) -> Callable[[Any], bytes]:
        """A structure payload member → bytes."""
        raise NotImplementedError

    def event_body(self, shape: Shape, value: dict[str, Any]) -> bytes:
        """The payload document of one event of an event stream."""
        raise NotImplementedError

    def error_body(self, code: str, err: ServiceError, ctx: RequestContext) -> bytes:
        """The body of an error response (`code`: the code its format carries)."""
        raise NotImplementedError

    # -- requests ----------------------------------------------------------------------------

    def match(self, req: HttpRequest) -> OperationModel:
        """By method, path template, query literals and (for twins) required parameters."""
        route = self.router.find(
            req.method, req.path, self._query(req.query_string)[1], req.headers
        )
        if route is None:
            raise self.no_route(req)
        return route.op

    def no_route(self, req: HttpRequest) -> ServiceError:
        """The error for a request no route takes (quirks may give the service's own)."""
        spec = self.quirks.get("no_route_error")
        if spec:
            return protocol_error(spec["code"], spec["message"], spec.get("status", 400))
        return protocol_error(
            "UnknownOperationException",
            f"No operation of {self.service} answers {req.method} {req.path}",
            404,
        )

    def request_plan(self, op: OperationModel) -> RequestPlan:
        """The compiled input plan of `op` (built on first use)."""
        plan = self._requests.get(op.name)
        if plan is not None:
            return plan
        plan = RequestPlan(route=self.router.routes[op.name])
        plan.decompress = bool(op.request_compression)
        shape = op.input_shape
        if shape is not None:
            self._fill_request_plan(plan, shape)
        self._requests[op.name] = plan
        return plan

    def _fill_request_plan(self, plan: RequestPlan, shape: Shape) -> None:
        claimed = {key for key, _ in plan.route.query_literals}
        body_members = False
        payload = shape.serialization.get("payload")
        label_names = {label.member for label in plan.route.labels}
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if location == "uri":
                if name in label_names:
                    plan.labels.append((name, text_reader(member)))
            elif location == "querystring":
                if member.type_name == "map":
                    plan.query_map = (name, member.value.type_name == "list")
                else:
                    is_list = member.type_name == "list"
                    reader = text_reader(member.member if is_list else member)
                    plan.query.append((wire, name, is_list, reader))
                    claimed.add(wire)
            elif location == "header":
                plan.headers.append((wire.lower(), name, header_reader(member)))
            elif location == "headers":
                plan.prefix_maps.append((wire.lower(), name))
            elif name == payload:
                if member.type_name in ("blob", "string"):
                    plan.payload = (name, member.type_name, None)
                else:
                    plan.payload = (name, "structure", self.structure_reader(member))
            elif location is None:
                body_members = True
        plan.claimed_query = frozenset(claimed)
        plan.prefixes = tuple(prefix for prefix, _ in plan.prefix_maps)
        slots = {label.member: label for label in plan.route.labels}
        plan.label_slots = [
            (slots[name].index, slots[name].greedy, name, read) for name, read in plan.labels
        ]
        index = {wire: (name, read) for wire, name, read in plan.headers}
        if len(index) == len(plan.headers):
            plan.header_index = index
        if body_members and payload is None:
            plan.body = self.body_reader(shape)

    def parse(self, op: OperationModel, req: HttpRequest) -> dict[str, Any]:
        """Labels, querystring, headers, payload and body members of `op`."""
        plan = self.request_plan(op)
        try:
            return self._parse(plan, req)
        except MalformedInput as exc:
            raise self.malformed(exc) from None

    def _parse(self, plan: RequestPlan, req: HttpRequest) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if plan.label_slots:
            segs = req.path.split("/")
            for i, greedy, name, read in plan.label_slots:
                # As Route.label_values: segment i of the path after its leading "/".
                text = "/".join(segs[i + 1 :]) if greedy else segs[i + 1]
                params[name] = read(unquote(text) if "%" in text else text)
        if plan.query or plan.query_map:
            self._parse_query(plan, req.query_string, params)
        headers = req.headers
        index = plan.header_index
        if index is not None and len(headers) < len(plan.headers):
            # One walk over what came: modelled headers by name, prefix-map members by prefix
            # (the maps go into params after the headers, as the general walk below has it).
            prefixes = plan.prefixes
            maps: dict[str, dict[str, str]] | None = None
            for wire, text in headers.items():
                entry = index.get(wire)
                if entry is not None:
                    params[entry[0]] = entry[1](text)
                if prefixes and wire.startswith(prefixes):
                    if maps is None:
                        maps = {}
                    for prefix, name in plan.prefix_maps:
                        if wire.startswith(prefix):
                            maps.setdefault(name, {})[wire[len(prefix) :]] = text
            if maps:
                for _, name in plan.prefix_maps:
                    found_map = maps.get(name)
                    if found_map:
                        params[name] = found_map
        else:
            for wire, name, read in plan.headers:
                found_text = headers.get(wire)
                if found_text is not None:
                    params[name] = read(found_text)
            for prefix, name in plan.prefix_maps:
                found = {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)}
                if found:
                    params[name] = found
        if plan.payload is not None or plan.body is not None:
            body = self.body(req) if plan.decompress else req.body
            if plan.payload is not None:
                name, kind, reader = plan.payload
                if req.spool is not None and kind == "blob":
                    params[name] = req.spool  # a large upload, on disk (edge/spool.py)
                elif body:
                    if kind == "blob":
                        params[name] = body
                    elif kind == "string":
                        params[name] = body.decode("utf-8", "replace")
                    else:
                        assert reader is not None
                        params[name] = reader(body)
            elif plan.body is not None and body.strip():
                params.update(plan.body(body))
        return params

    def _parse_query(self, plan: RequestPlan, query_string: str, params: dict[str, Any]) -> None:
        pairs, multi = self._query(query_string)
        for wire, name, is_list, read in plan.query:
            values = multi.get(wire)
            if values:
                params[name] = [read(v) for v in values] if is_list else read(values[0])
        if plan.query_map is not None:
            name, list_values = plan.query_map
            rest: dict[str, Any] = {}
            for key, value in pairs:
                if key in plan.claimed_query:
                    continue
                if list_values:
                    rest.setdefault(key, []).append(value)
                else:
                    rest.setdefault(key, value)
            if rest:
                params[name] = rest

    # -- responses ---------------------------------------------------------------------------

    def response_plan(
        self, key: str, shape: Shape | None, op: OperationModel | None
    ) -> ResponsePlan:
        """The compiled plan for an output or error shape (built on first use)."""
        plan = self._responses.get(key)
        if plan is not None:
            return plan
        plan = ResponsePlan()
        if shape is not None:
            payload = shape.serialization.get("payload")
            for name, member in shape.members.items():
                location = member.serialization.get("location")
                wire = member.serialization.get("name", name)
                if location == "statusCode":
                    plan.status_member = name
                elif location == "header":
                    plan.headers.append((wire, name, header_writer(member)))
                    plan.header_index[name] = (wire, plan.headers[-1][2])
                    plan.models_content_type |= wire.lower() == "content-type"
                elif location == "headers":
                    plan.prefix_maps.append((wire, name))
                elif name == payload:
                    if member.serialization.get("eventstream"):
                        writer = EventStreamWriter(member, self.event_body, self.content_type)
                        plan.payload = (name, "eventstream", writer.encode)
                    elif member.type_name in ("blob", "string"):
                        plan.payload = (name, member.type_name, None)
                    else:
                        root = member.serialization.get("name", name)
                        plan.payload = (name, "structure", self.structure_writer(member, root))
                elif location is None:
                    plan.has_body_members = True
            if plan.has_body_members and payload is None:
                plan.body = self.body_writer(op, shape)
        self._responses[key] = plan
        return plan

    def serialize(
        self, op: OperationModel, result: dict[str, Any], ctx: RequestContext
    ) -> HttpResponse:
        """Status, headers and payload or body of `op`'s output."""
        plan = self.response_plan(op.name, op.output_shape, op)
        status = op.http.get("responseCode", 200)
        headers: list[tuple[str, str]] = []
        body: bytes | FileBody = b""
        content_type: str | None = None
        if result:
            if plan.status_member is not None and result.get(plan.status_member) is not None:
                status = int(result[plan.status_member])
            self._write_headers(plan, result, headers)
            if plan.payload is not None:
                name, kind, writer = plan.payload
                value = result.get(name)
                if value is not None:
                    if kind == "eventstream":
                        assert writer is not None
                        body, content_type = writer(value), EVENT_STREAM
                    elif kind == "structure":
                        assert writer is not None
                        body, content_type = writer(value), self.content_type
                    elif kind == "string":
                        body = value.encode("utf-8") if isinstance(value, str) else value
                        content_type = "text/plain"
                    else:
                        body = value if isinstance(value, FileBody) else bytes(value)
                        content_type = "application/octet-stream"
        if plan.body is not None:
            # AWS always sends the document when the output has body members, even if empty.
            body, content_type = plan.body(result or {}), self.content_type
        status = ctx.response_status or status
        if status in (204, 304):
            body = b""
        if content_type and not plan.models_content_type:
            headers.append(("Content-Type", content_type))
        headers.extend(self.request_id_headers(ctx))
        return HttpResponse(status, self.finish(headers, ctx), body)

    @staticmethod
    def _write_headers(
        plan: ResponsePlan, result: dict[str, Any], out: list[tuple[str, str]]
    ) -> None:
        if len(result) < len(plan.headers):  # walk the shorter: what the result holds
            index = plan.header_index
            for name, value in result.items():
                entry = index.get(name)
                if entry is None or value is None or (type(value) is list and not value):
                    continue
                out.append((entry[0], entry[1](value)))
        else:
            for wire, name, write in plan.headers:
                value = result.get(name)
                if value is None or (type(value) is list and not value):
                    continue
                out.append((wire, write(value)))
        for prefix, name in plan.prefix_maps:
            values = result.get(name)
            if values:
                out.extend((prefix + k, _header_text(str(v))) for k, v in values.items())

    def serialize_error(
        self, op: OperationModel | None, err: ServiceError, ctx: RequestContext
    ) -> HttpResponse:
        """The protocol's error document, with the error shape's header members."""
        spec, status, _ = self.errors.status_and_fault(err)
        headers: list[tuple[str, str]] = []
        if spec.shape is not None and err.fields:
            plan = self.response_plan("error:" + spec.type_name, spec.shape, None)
            self._write_headers(plan, err.fields, headers)
        method = ctx.http.method if ctx.http is not None else (op.http.get("method") if op else "")
        headers.extend(self.error_headers(spec.type_name))
        headers.extend(self.request_id_headers(ctx))
        body = b"" if method == "HEAD" else self.error_body(spec.code, err, ctx)
        return HttpResponse(status, self.finish(headers, ctx, err), body)

    def error_headers(self, type_name: str) -> list[tuple[str, str]]:
        """Protocol-specific error headers (content type, error type)."""
        return [("Content-Type", self.content_type)]
