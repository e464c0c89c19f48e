"""Shape-compiled converters between document values (JSON or CBOR) and provider values.

`Converters(flavor)` compiles, once per shape, a decoder (wire document → params: base64 blobs to
bytes, timestamps to datetimes, type checks) and an encoder (result → wire document: modelled
member names, blobs, timestamps, special floats, None and unknown members dropped). Recursive
shapes (DynamoDB's AttributeValue) compile through a forwarding cell. The two flavors differ in
blobs (JSON: base64 text; CBOR: byte strings) and timestamps (JSON: epoch numbers or formatted
strings; CBOR: tag 1, which cbor2 maps to datetime).
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable
from typing import Any

import orjson
from botocore.model import Shape

from overcast.protocol import timestamps
from overcast.protocol.errors import MalformedInput
from overcast.protocol.shapes import ShapeKey, compiled, shape_key

Conv = Callable[[Any], Any]

_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _bad(shape: Shape, value: Any) -> MalformedInput:
    kind = type(value).__name__
    return MalformedInput(f"Unexpected {kind} value for a {shape.type_name} ({shape.name})")


def member_wire_name(name: str, member: Shape) -> str:
    """The key a structure member travels under in a JSON or CBOR document."""
    wire: str = member.serialization.get("name", name)
    return wire


def _identity(value: Any) -> Any:
    return value


class Converters:
    """Decoders and encoders of one service model for one document flavor ("json" or "cbor")."""

    def __init__(self, flavor: str, *, optimistic: bool = False) -> None:
        self.flavor = flavor
        # Optimistic encoders hand on a plain structure (see _structure_encoder) without looking
        # for None inside it, which the exact ones drop. The caller must then check that the
        # document holds no null (JsonCodec.serialize) and else encode again exactly.
        self.optimistic = optimistic
        self._dec: dict[ShapeKey, Conv] = {}
        self._enc: dict[ShapeKey, Conv | None] = {}
        self._plain: dict[ShapeKey, frozenset[str]] = {}
        # The stand-ins of recursive shapes; a list or map holding one swaps it for the compiled
        # converter on first use, which saves a call per item.
        self._forwarders: set[Conv] = set()

    # -- decoding (request documents → params) -----------------------------------------------

    def decoder(self, shape: Shape) -> Conv:
        """wire value → provider value for `shape` (raises MalformedInput)."""
        return compiled(self._dec, shape, self._build_decoder, self._forwarders.add)

    def structure_decoder(self, shape: Shape, *, body_only: bool = False) -> Conv:
        """The decoder of a structure; `body_only` skips members bound to HTTP locations."""
        if not body_only:
            return self.decoder(shape)
        return self._structure_decoder(shape, body_only=True)

    def _build_decoder(self, shape: Shape) -> Conv:
        t = shape.type_name
        if t == "structure":
            if shape.is_document_type:
                return _identity
            return self._structure_decoder(shape)
        if t == "list":
            return self._list_decoder(shape)
        if t == "map":
            return self._map_decoder(shape)
        return self._scalar_decoder(shape)

    def _structure_decoder(self, shape: Shape, *, body_only: bool = False) -> Conv:
        # (name, decoder, the Python type a wire value of a string/number/boolean member already
        # has when it needs no conversion: tested inline, which saves a call per scalar)
        table: dict[str, tuple[str, Conv, type]] = {}
        for name, member in shape.members.items():
            if body_only and "location" in member.serialization:
                continue
            kind = _NATIVE.get(member.type_name, _Never)
            table[member_wire_name(name, member)] = (name, self.decoder(member), kind)

        def decode_structure(value: Any) -> dict[str, Any]:
            if type(value) is not dict:
                raise _bad(shape, value)
            out = {}
            for key, item in value.items():
                entry = table.get(key)
                if entry is not None and item is not None:
                    out[entry[0]] = item if type(item) is entry[2] else entry[1](item)
            return out

        return decode_structure

    def _list_decoder(self, shape: Shape) -> Conv:
        item_dec = self.decoder(shape.member)
        key = shape_key(shape.member)
        late = item_dec in self._forwarders
        kind = _NATIVE.get(shape.member.type_name, _Never)

        def decode_list(value: Any) -> list[Any]:
            nonlocal item_dec, late
            if type(value) is not list:
                raise _bad(shape, value)
            if late:
                item_dec, late = self._dec[key], False
            return [
                item if item is None or type(item) is kind else item_dec(item) for item in value
            ]

        return decode_list

    def _map_decoder(self, shape: Shape) -> Conv:
        value_dec = self.decoder(shape.value)
        key = shape_key(shape.value)
        late = value_dec in self._forwarders

        def decode_map(value: Any) -> dict[str, Any]:
            nonlocal value_dec, late
            if type(value) is not dict:
                raise _bad(shape, value)
            if late:
                value_dec, late = self._dec[key], False
            return {k: value_dec(v) for k, v in value.items() if v is not None}

        return decode_map

    def _scalar_decoder(self, shape: Shape) -> Conv:
        t = shape.type_name
        cbor = self.flavor == "cbor"

        if t in ("string", "character"):

            def decode_string(value: Any) -> Any:
                if type(value) is str:
                    return value
                raise _bad(shape, value)

            return decode_string
        if t in ("integer", "long", "short", "byte"):

            def decode_int(value: Any) -> Any:
                if type(value) is int:
                    return value
                if type(value) is float and value.is_integer():
                    return int(value)
                raise _bad(shape, value)

            return decode_int
        if t in ("float", "double"):

            def decode_float(value: Any) -> Any:
                if type(value) is float:
                    return value
                if type(value) is int:
                    return float(value)
                if type(value) is str and value in _SPECIAL_FLOATS:
                    return _SPECIAL_FLOATS[value]
                raise _bad(shape, value)

            return decode_float
        if t == "boolean":

            def decode_bool(value: Any) -> Any:
                if type(value) is bool:
                    return value
                raise _bad(shape, value)

            return decode_bool
        if t == "blob":

            def decode_blob(value: Any) -> Any:
                if cbor and isinstance(value, bytes):
                    return value
                if type(value) is str:
                    try:
                        return base64.b64decode(value)
                    except (binascii.Error, ValueError) as exc:
                        raise MalformedInput(f"Invalid base64 value for {shape.name}") from exc
                raise _bad(shape, value)

            return decode_blob
        if t == "timestamp":

            def decode_timestamp(value: Any) -> Any:
                if type(value) is bool:
                    raise _bad(shape, value)
                try:
                    return timestamps.parse(value)
                except (ValueError, OverflowError, OSError) as exc:
                    raise MalformedInput(f"Invalid timestamp for {shape.name}") from exc

            return decode_timestamp
        return _identity

    # -- encoding (results → response documents) ---------------------------------------------

    def encoder(self, shape: Shape) -> Conv | None:
        """provider value → wire value for `shape`; None when the value passes through as is."""
        key = shape_key(shape)
        if key in self._enc:
            return self._enc[key]
        cell: list[Conv | None] = []

        def forward(v: Any) -> Any:
            f = cell[0]
            return v if f is None else f(v)

        self._enc[key] = forward
        self._forwarders.add(forward)
        built = self._build_encoder(shape)
        cell.append(built)
        self._enc[key] = built
        return built

    def structure_encoder(self, shape: Shape, *, body_only: bool = False) -> Conv:
        """The encoder of a structure; `body_only` drops members bound to HTTP locations."""
        if not body_only:
            enc = self.encoder(shape)
            assert enc is not None
            return enc
        return self._structure_encoder(shape, body_only=True)

    def _build_encoder(self, shape: Shape) -> Conv | None:
        t = shape.type_name
        if t == "structure":
            if shape.is_document_type:
                return None
            return self._structure_encoder(shape)
        if t == "list":
            item_enc = self.encoder(shape.member)
            if item_enc is None:
                return None
            if _is_structure(shape.member):
                return self._structure_list_encoder(shape.member, item_enc)
            return lambda value: (
                value
                if type(value) is _RAW
                else [None if v is None else item_enc(v) for v in value]
            )
        if t == "map":
            value_enc = self.encoder(shape.value)
            if value_enc is None:
                return None
            if _is_structure(shape.value):
                return self._structure_map_encoder(shape.value, value_enc)
            return lambda value: (
                value
                if type(value) is _RAW
                else {k: value_enc(v) for k, v in value.items() if v is not None}
            )
        return self._scalar_encoder(shape)

    # Lists and maps of structures test each item against the structure's plain members inline
    # (see _structure_encoder): most items (DynamoDB's {"S": ...}) then cost no call at all. The
    # item's plain set is looked up on first use, since a recursive shape is still compiling here.

    def _structure_list_encoder(self, item: Shape, item_enc: Conv) -> Conv:
        key = shape_key(item)
        plain: Callable[[Any], bool] | None = None
        lax = self.optimistic

        def encode_list(value: Any) -> Any:
            nonlocal plain, item_enc
            if type(value) is _RAW:
                return value
            if plain is None:
                plain = self._plain.get(key, frozenset()).issuperset
                item_enc = self._enc[key] or item_enc
            return [
                v if v is None or (plain(v) and (lax or None not in v.values())) else item_enc(v)
                for v in value
            ]

        return encode_list

    def _structure_map_encoder(self, item: Shape, value_enc: Conv) -> Conv:
        key = shape_key(item)
        plain: Callable[[Any], bool] | None = None
        lax = self.optimistic

        def encode_map(value: Any) -> Any:
            nonlocal plain, value_enc
            if type(value) is _RAW:
                return value
            if plain is None:
                plain = self._plain.get(key, frozenset()).issuperset
                value_enc = self._enc[key] or value_enc
            return {
                k: v if plain(v) and (lax or None not in v.values()) else value_enc(v)
                for k, v in value.items()
                if v is not None
            }

        return encode_map

    def _structure_encoder(self, shape: Shape, *, body_only: bool = False) -> Conv:
        table: dict[str, tuple[str, Conv | None]] = {}
        for name, member in shape.members.items():
            if body_only and "location" in member.serialization:
                continue
            table[name] = (member_wire_name(name, member), self.encoder(member))
        # Members whose values travel as they are, under their own names. A value holding only
        # those (and no None) is already its own wire document: hand it on without a copy.
        plain = frozenset(
            name for name, (wire, enc) in table.items() if wire == name and enc is None
        )
        if not body_only:
            self._plain[shape_key(shape)] = plain

        only_plain = plain.issuperset
        lax = self.optimistic

        def encode_structure(value: Any) -> dict[str, Any]:
            if only_plain(value) and (lax or None not in value.values()):
                return value  # type: ignore[no-any-return]
            out: dict[str, Any] = {}
            for key, item in value.items():
                entry = table.get(key)
                if entry is None or item is None:
                    continue
                enc = entry[1]
                out[entry[0]] = item if enc is None else enc(item)
            return out

        return encode_structure

    def _scalar_encoder(self, shape: Shape) -> Conv | None:
        t = shape.type_name
        cbor = self.flavor == "cbor"
        if t in ("float", "double"):
            if cbor:
                return float
            return _json_float
        if t == "blob":
            return _raw_bytes if cbor else _base64
        if t == "timestamp":
            if cbor:
                return timestamps.to_datetime
            fmt = shape.serialization.get("timestampFormat")
            return timestamps.formatter(fmt) if fmt else timestamps.epoch
        if t in ("integer", "long", "short", "byte"):
            return None
        return None


# A list or map handed over as an `orjson.Fragment` is already its JSON wire text (a provider that
# stores wire JSON, as DynamoDB does its items, spares a decode and an encode): passed on as is.
_RAW = orjson.Fragment


class _Never:
    """No wire value has this type: the member always goes through its decoder."""


# Members whose wire values of these types are already provider values (see _scalar_decoder).
_NATIVE: dict[str, type] = {
    "string": str,
    "character": str,
    "integer": int,
    "long": int,
    "short": int,
    "byte": int,
    "boolean": bool,
}


def _is_structure(shape: Shape) -> bool:
    return shape.type_name == "structure" and not shape.is_document_type


def _json_float(value: Any) -> Any:
    value = float(value)
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _base64(value: Any) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(value).decode("ascii")


def _raw_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)
