"""XML for the query and rest-xml protocols: a shape-compiled writer and reader.

Writer: `XmlWriter.element(shape)` compiles, once per shape, a function that appends markup for a
value to a list of strings (joined once at the end; much faster than building an ElementTree).
It follows the model's XML traits: member `locationName`, list `member` names, `flattened` lists
and maps, map `entry`/`key`/`value` names, `xmlAttribute` members and `xmlNamespace` declarations.

Reader: `XmlReader.decoder(shape)` compiles the inverse over `xml.etree` elements, namespaces
ignored (tags compared by local name). Used for rest-xml request payloads (S3's XML bodies).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

from botocore.model import Shape

from overcast.core.memo import Memo
from overcast.protocol import timestamps
from overcast.protocol.errors import MalformedInput
from overcast.protocol.shapes import ShapeKey, compiled

Emit = Callable[[list[str], str, Any, str], None]
"""(out, tag, value, extra attributes of the opening tag) → appends the element to out."""
Children = Callable[[list[str], Any], None]
"""(out, structure value) → appends the member elements of the structure to out."""
Read = Callable[[Any], Any]

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
_NEEDS_ESCAPE = re.compile(r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\"]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_NEEDS_ESCAPE_SEARCH = _NEEDS_ESCAPE.search


def _char_ref(match: re.Match[str]) -> str:
    return f"&#x{ord(match.group(0)):X};"


# Text found to need no escaping. Responses repeat the same ids, ARNs and names request after
# request: a lookup is several times cheaper than the search, which costs ~5 ns a character.
_KNOWN_PLAIN: Memo[str, bool] = Memo(4096)
_REMEMBER_UP_TO = 256  # characters; longer text is searched each time


def _is_plain(text: str) -> bool:
    """Whether `text` goes into XML as it is (and remember the short text that does)."""
    if _NEEDS_ESCAPE_SEARCH(text) is not None:
        return False
    if len(text) <= _REMEMBER_UP_TO:
        _KNOWN_PLAIN.remember(text, True)
    return True


def escape(text: str) -> str:
    """Text or attribute content, escaped. `\r` becomes a reference (parsers would fold it);
    other control characters, which XML 1.0 cannot carry, become references as S3 writes them."""
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    text = (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\r", "&#xD;")
    )
    if _CONTROL.search(text) is not None:
        text = _CONTROL.sub(_char_ref, text)
    return text


def member_xml_name(name: str, member: Shape) -> str:
    """The element name of a structure member (a flattened list takes its member's name)."""
    if member.type_name == "list" and member.serialization.get("flattened"):
        inner = member.member.serialization.get("name")
        if inner:
            return str(inner)
    return str(member.serialization.get("name", name))


def namespace_attrs(shape: Shape) -> str:
    """The xmlns declaration a shape carries in the model, as attribute text."""
    ns = shape.serialization.get("xmlNamespace")
    if not ns:
        return ""
    if isinstance(ns, dict):
        prefix = ns.get("prefix")
        attr = f"xmlns:{prefix}" if prefix else "xmlns"
        return f' {attr}="{escape(ns["uri"])}"'
    return f' xmlns="{escape(str(ns))}"'


def scalar_text(shape: Shape) -> Callable[[Any], str]:
    """value → element text for a scalar shape."""
    t = shape.type_name
    if t == "boolean":
        return lambda v: "true" if v else "false"
    if t in ("integer", "long", "short", "byte"):
        return lambda v: str(int(v))
    if t in ("float", "double"):
        return _float_text
    if t == "timestamp":
        fmt = shape.serialization.get("timestampFormat")
        return timestamps.formatter(fmt) if fmt else timestamps.iso8601
    if t == "blob":
        return _blob_text
    return _string_text


def _string_text(value: Any) -> str:
    # escape(str(value)) with the common case (plain text) in one call.
    text = value if type(value) is str else str(value)
    if text in _KNOWN_PLAIN or _is_plain(text):
        return text
    return escape(text)


def _float_text(value: Any) -> str:
    value = float(value)
    if math.isfinite(value):
        return repr(value)
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _blob_text(value: Any) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(value).decode("ascii")


class XmlWriter:
    """Compiled element writers for the shapes of one model."""

    def __init__(self) -> None:
        self._cache: dict[ShapeKey, Emit] = {}
        self._children: dict[tuple[str, bool], Children] = {}

    def element(self, shape: Shape) -> Emit:
        """The writer of one element of `shape` (the tag is given by the caller)."""
        return compiled(self._cache, shape, self._build)

    def members(self, shape: Shape, *, body_only: bool = False) -> Emit:
        """A structure writer; `body_only` leaves out members bound to HTTP locations."""
        if not body_only:
            return self.element(shape)
        return self._structure(shape, body_only=True)

    def _build(self, shape: Shape) -> Emit:
        t = shape.type_name
        if t == "structure":
            return self._structure(shape)
        if t == "list":
            return self._list(shape)
        if t == "map":
            return self._map(shape)
        return self._scalar(shape)

    def _scalar(self, shape: Shape) -> Emit:
        text = scalar_text(shape)
        ns = namespace_attrs(shape)

        def emit_scalar(out: list[str], tag: str, value: Any, attrs: str) -> None:
            out.append(f"<{tag}{ns}{attrs}>{text(value)}</{tag}>")

        return emit_scalar

    def children(self, shape: Shape, *, body_only: bool = False) -> Children:
        """A writer of a structure's member elements only, without its own tag (for error bodies
        and the query protocol's result wrapper)."""
        key = (shape.name, body_only)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = self._structure_parts(shape, body_only=body_only)[1]
        return found

    def _structure(self, shape: Shape, *, body_only: bool = False) -> Emit:
        ns = namespace_attrs(shape)
        attributes, emit_children = self._structure_parts(shape, body_only=body_only)

        def emit_structure(out: list[str], tag: str, value: Any, attrs: str) -> None:
            extra = attrs
            if attributes:
                for key, (attr_name, text) in attributes.items():
                    item = value.get(key)
                    if item is not None:
                        extra += f' {attr_name}="{text(item)}"'
            out.append(f"<{tag}{ns}{extra}>")
            emit_children(out, value)
            out.append(f"</{tag}>")

        return emit_structure

    def _structure_parts(
        self, shape: Shape, *, body_only: bool
    ) -> tuple[dict[str, tuple[str, Callable[[Any], str]]], Children]:
        # Scalars are written inline (open tag + text + close tag), the rest by their emitter.
        children: dict[str, tuple[str, str, str, Callable[[Any], str] | None, Emit]] = {}
        attributes: dict[str, tuple[str, Callable[[Any], str]]] = {}
        for name, member in shape.members.items():
            if body_only and "location" in member.serialization:
                continue
            if member.serialization.get("xmlAttribute"):
                attributes[name] = (member.serialization["name"], scalar_text(member))
                continue
            tag = member_xml_name(name, member)
            scalar = member.type_name not in ("structure", "list", "map")
            open_tag = f"<{tag}{namespace_attrs(member)}>"
            text = scalar_text(member) if scalar else None
            children[name] = (tag, open_tag, f"</{tag}>", text, self.element(member))

        # String members by name: their open and close tags.
        strings = {k: (v[1], v[2]) for k, v in children.items() if v[3] is _string_text}
        known, plain = _KNOWN_PLAIN, _is_plain

        def emit_children(out: list[str], value: Any) -> None:
            for key, item in value.items():
                tags = strings.get(key)
                if tags is not None and type(item) is str and (item in known or plain(item)):
                    out += (tags[0], item, tags[1])  # plain text, the common case
                    continue
                entry = children.get(key)
                if entry is None or item is None:
                    continue
                text = entry[3]
                if text is not None:
                    out.append(entry[1] + text(item) + entry[2])
                else:
                    entry[4](out, entry[0], item, "")

        return attributes, emit_children

    def _list(self, shape: Shape) -> Emit:
        item = self.element(shape.member)
        if shape.serialization.get("flattened"):

            def emit_flat_list(out: list[str], tag: str, value: Any, attrs: str) -> None:
                for v in value:
                    if v is not None:
                        item(out, tag, v, attrs)

            return emit_flat_list
        item_tag = shape.member.serialization.get("name", "member")
        ns = namespace_attrs(shape)

        def emit_list(out: list[str], tag: str, value: Any, attrs: str) -> None:
            out.append(f"<{tag}{ns}{attrs}>")
            for v in value:
                if v is not None:
                    item(out, item_tag, v, "")
            out.append(f"</{tag}>")

        return emit_list

    def _map(self, shape: Shape) -> Emit:
        key_tag = shape.key.serialization.get("name", "key")
        value_tag = shape.value.serialization.get("name", "value")
        key_emit = self.element(shape.key)
        value_emit = self.element(shape.value)
        flattened = bool(shape.serialization.get("flattened"))

        def emit_map(out: list[str], tag: str, value: Any, attrs: str) -> None:
            if not flattened:
                out.append(f"<{tag}{attrs}>")
            for k, v in value.items():
                if v is None:
                    continue
                out.append(f"<{tag}>" if flattened else "<entry>")
                key_emit(out, key_tag, k, "")
                value_emit(out, value_tag, v, "")
                out.append(f"</{tag}>" if flattened else "</entry>")
            if not flattened:
                out.append(f"</{tag}>")

        return emit_map


# -- reading ----------------------------------------------------------------------------------


def parse_document(body: bytes) -> ElementTree.Element:
    """The root element of an XML body (raises MalformedInput)."""
    try:
        return ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise MalformedInput(f"The XML you provided was not well-formed: {exc}") from exc


def local_name(tag: str) -> str:
    """`{namespace}Name` → `Name`."""
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def _children(node: ElementTree.Element) -> dict[str, list[ElementTree.Element]]:
    grouped: dict[str, list[ElementTree.Element]] = {}
    for child in node:
        grouped.setdefault(local_name(child.tag), []).append(child)
    return grouped


class XmlReader:
    """Compiled element readers for the shapes of one model."""

    def __init__(self) -> None:
        self._cache: dict[ShapeKey, Read] = {}

    def decoder(self, shape: Shape) -> Read:
        """element → provider value for `shape` (raises MalformedInput)."""
        return compiled(self._cache, shape, self._build)

    def members(self, shape: Shape, *, body_only: bool = False) -> Read:
        """A structure reader; `body_only` skips members bound to HTTP locations."""
        if not body_only:
            return self.decoder(shape)
        return self._structure(shape, body_only=True)

    def _build(self, shape: Shape) -> Read:
        t = shape.type_name
        if t == "structure":
            return self._structure(shape)
        if t == "list":
            return self._list(shape)
        if t == "map":
            return self._map(shape)
        return self._scalar(shape)

    def _structure(self, shape: Shape, *, body_only: bool = False) -> Read:
        elements: list[tuple[str, str, bool, Read]] = []
        attributes: list[tuple[str, str, Read]] = []
        for name, member in shape.members.items():
            if body_only and "location" in member.serialization:
                continue
            if member.serialization.get("xmlAttribute"):
                attr = str(member.serialization["name"]).rpartition(":")[2]
                attributes.append((name, attr, self._scalar(member)))
                continue
            flat = member.type_name in ("list", "map") and bool(
                member.serialization.get("flattened")
            )
            elements.append((name, member_xml_name(name, member), flat, self.decoder(member)))

        def read_structure(node: Any) -> dict[str, Any]:
            grouped = _children(node)
            out: dict[str, Any] = {}
            for name, tag, flat, read in elements:
                found = grouped.get(tag)
                if found:
                    out[name] = read(found) if flat else read(found[0])
            for name, attr, read in attributes:
                for key, text in node.attrib.items():
                    if local_name(key) == attr:
                        out[name] = read(text)
            return out

        return read_structure

    def _list(self, shape: Shape) -> Read:
        item = self.decoder(shape.member)
        if shape.serialization.get("flattened"):
            # The parent hands over every sibling element with the list's name.
            return lambda nodes: [item(n) for n in nodes]
        return lambda node: [item(n) for n in node]

    def _map(self, shape: Shape) -> Read:
        key_tag = shape.key.serialization.get("name", "key")
        value_tag = shape.value.serialization.get("name", "value")
        key_read = self.decoder(shape.key)
        value_read = self.decoder(shape.value)

        def read_entries(entries: Any) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for entry in entries:
                k = v = None
                for part in entry:
                    tag = local_name(part.tag)
                    if tag == key_tag:
                        k = key_read(part)
                    elif tag == value_tag:
                        v = value_read(part)
                if k is not None and v is not None:
                    out[k] = v
            return out

        if shape.serialization.get("flattened"):
            return read_entries
        return lambda node: read_entries(list(node))

    def _scalar(self, shape: Shape) -> Read:
        convert = text_reader(shape)

        def read_scalar(node: Any) -> Any:
            text = node if isinstance(node, str) else (node.text or "")
            return convert(text)

        return read_scalar


def text_reader(shape: Shape) -> Callable[[str], Any]:
    """text → value for a scalar shape, as query strings, XML and headers carry them."""
    t = shape.type_name
    name = shape.name
    if t == "boolean":

        def read_bool(text: str) -> bool:
            low = text.strip().lower()
            if low == "true":
                return True
            if low == "false":
                return False
            raise MalformedInput(f"Invalid boolean value for {name}: {text!r}", "value")

        return read_bool
    if t in ("integer", "long", "short", "byte"):

        def read_int(text: str) -> int:
            try:
                return int(text.strip())
            except ValueError as exc:
                raise MalformedInput(
                    f"Invalid integer value for {name}: {text!r}", "value"
                ) from exc

        return read_int
    if t in ("float", "double"):

        def read_float(text: str) -> float:
            try:
                return float(text.strip())
            except ValueError as exc:
                raise MalformedInput(f"Invalid number value for {name}: {text!r}", "value") from exc

        return read_float
    if t == "timestamp":

        def read_timestamp(text: str) -> Any:
            try:
                return timestamps.parse(text)
            except (ValueError, OverflowError, OSError) as exc:
                raise MalformedInput(f"Invalid timestamp for {name}: {text!r}", "value") from exc

        return read_timestamp
    if t == "blob":

        def read_blob(text: str) -> bytes:
            try:
                return base64.b64decode(text)
            except (binascii.Error, ValueError) as exc:
                raise MalformedInput(f"Invalid base64 value for {name}", "value") from exc

        return read_blob
    return lambda text: text
