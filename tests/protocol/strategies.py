"""Hypothesis strategies built from botocore shapes: inputs a client may send, outputs a provider
may return.

What is generated, and why the limits (each is a property of the wire, not of our codecs):
- strings: any Unicode in bodies; XML bodies leave out the characters XML 1.0 cannot carry, and
  botocore's own XML request writer leaves `\\r` raw (a parser folds it), so request XML omits it;
  HTTP headers are printable ASCII without surrounding blanks (HTTP strips them); list headers in
  responses contain no commas or quotes (botocore's response parser splits on every comma).
- uri labels are non-empty (AWS requires them); query-map keys avoid the names of other members.
- timestamps have millisecond precision (AWS's), whole seconds in headers (HTTP-date).
- floats are finite single-precision values (CBOR `float` members travel as 4-byte floats).
- sizes stay small (lists/maps ≤ 3, strings ≤ 12) and recursion stops at depth 4.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.model import Shape
from hypothesis import strategies as st

MAX_DEPTH = 4
_BAD_XML = {chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"} | {"\ufffe", "\uffff"}
_HEADER_CHARS = string.ascii_letters + string.digits + " -_.:/+=@,;\"'()"


@dataclass(frozen=True)
class Ctx:
    """Where a generated value will travel."""

    direction: str  # "input" | "output"
    protocol: str
    location: str | None = None  # uri | querystring | header | headers | statusCode | None
    greedy: bool = False
    host_label: bool = False
    depth: int = 0

    @property
    def xml(self) -> bool:
        if self.protocol == "rest-xml":
            return True
        return self.protocol == "query" and self.direction == "output"


def _text(ctx: Ctx, shape: Shape, min_size: int, max_size: int) -> st.SearchStrategy[str]:
    if ctx.host_label:
        return st.text(
            string.ascii_lowercase + string.digits, min_size=max(1, min_size), max_size=8
        )
    if ctx.location == "header":
        chars = _HEADER_CHARS
        if ctx.direction == "output" and shape.type_name == "list":
            chars = chars.replace(",", "").replace('"', "")
        return st.text(chars, min_size=min_size, max_size=max_size).map(str.strip)
    if ctx.location == "headers":
        return st.text(_HEADER_CHARS.replace(",", ""), min_size=min_size, max_size=max_size).map(
            str.strip
        )
    bad = set()
    if ctx.xml:
        bad |= _BAD_XML
        if ctx.direction == "input":
            bad.add("\r")
    surrogates: list[Literal["Cs"]] = ["Cs"]
    alphabet = st.characters(codec="utf-8", exclude_categories=surrogates, exclude_characters=bad)
    if ctx.location == "uri":
        min_size = max(1, min_size)
    return st.text(alphabet, min_size=min_size, max_size=max_size)


def _timestamps(ctx: Ctx) -> st.SearchStrategy[datetime]:
    whole_seconds = ctx.location in ("header", "headers")
    base = st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
    )
    if whole_seconds:
        return base.map(lambda d: d.replace(microsecond=0))
    return base.map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))


def _documents() -> st.SearchStrategy[Any]:
    leaves = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=5)
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2)
        ),
        max_leaves=4,
    )


def for_shape(shape: Shape, ctx: Ctx) -> st.SearchStrategy[Any]:
    """Values of `shape` that may travel where `ctx` says."""
    t = shape.type_name
    meta = shape.metadata
    if t == "structure":
        if shape.is_document_type:
            return _documents()
        if shape.serialization.get("eventstream"):
            return _events(shape, ctx)
        return _structure(shape, ctx)
    if t == "list":
        if ctx.depth >= MAX_DEPTH:
            return st.just([])
        item_ctx = replace(ctx, depth=ctx.depth + 1)
        if ctx.location == "header":
            item_ctx = replace(item_ctx, location="header")
            item: st.SearchStrategy[Any] = for_shape(shape.member, item_ctx)
            if ctx.direction == "output" and shape.member.type_name == "string":
                item = _text(replace(ctx, location="header"), shape, 1, 8).filter(bool)
            return st.lists(item, min_size=1, max_size=3)
        min_size = min(int(meta.get("min", 0)), 2)
        return st.lists(for_shape(shape.member, item_ctx), min_size=min_size, max_size=3)
    if t == "map":
        if ctx.depth >= MAX_DEPTH:
            return st.just({})
        inner = replace(ctx, depth=ctx.depth + 1)
        if ctx.location == "headers":
            keys = st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=8)
            return st.dictionaries(keys, _text(ctx, shape.value, 0, 10), max_size=3)
        if ctx.location == "querystring":
            keys = st.text(string.ascii_lowercase, min_size=1, max_size=6).map(lambda k: "p-" + k)
            values: st.SearchStrategy[Any]
            if shape.value.type_name == "list":
                values = st.lists(_text(ctx, shape.value.member, 0, 6), min_size=1, max_size=2)
            else:
                values = _text(ctx, shape.value, 0, 6)
            return st.dictionaries(keys, values, max_size=3)
        keys = for_shape(shape.key, replace(inner, location=None))
        return st.dictionaries(keys, for_shape(shape.value, inner), max_size=3)
    if t == "string":
        if "enum" in meta and ctx.location not in ("header",):
            return st.sampled_from(meta["enum"])
        if "enum" in meta:
            return st.sampled_from(
                [e for e in meta["enum"] if e == e.strip() and "," not in e] or ["x"]
            )
        min_size = min(int(meta.get("min", 0)), 3)
        max_size = max(min_size, min(int(meta.get("max", 12)), 12))
        return _text(ctx, shape, min_size, max_size)
    if t in ("integer", "long", "short", "byte"):
        if ctx.location == "statusCode":
            return st.integers(200, 299).filter(lambda s: s not in (204, 205))
        bound = 2**31 - 1 if t == "integer" else 2**53
        lo = max(int(meta.get("min", -bound)), -bound)
        hi = min(int(meta.get("max", bound)), bound)
        if lo > hi:
            lo, hi = -bound, bound
        return st.integers(lo, hi)
    if t in ("float", "double"):
        return st.floats(width=32, allow_nan=False, allow_infinity=False)
    if t == "boolean":
        return st.booleans()
    if t == "blob":
        return st.binary(max_size=16)
    if t == "timestamp":
        return _timestamps(ctx)
    raise AssertionError(f"no strategy for {t}")


def _events(shape: Shape, ctx: Ctx) -> st.SearchStrategy[list[dict[str, Any]]]:
    """A finished event stream: a few events (not exceptions), each `{"EventName": {...}}`."""
    inner = replace(ctx, location=None, depth=ctx.depth + 1)
    choices = []
    for name, member in shape.members.items():
        if member.metadata.get("exception"):
            continue
        fields = {}
        optional = {}
        for fname, fmember in member.members.items():
            strategy = for_shape(fmember, replace(inner, depth=inner.depth + 1))
            if fmember.serialization.get("eventpayload") or fname in member.required_members:
                fields[fname] = strategy
            else:
                optional[fname] = strategy
        event = st.fixed_dictionaries(fields, optional=optional)
        choices.append(st.fixed_dictionaries({name: event}))
    return st.lists(st.one_of(choices), max_size=3)


def xml_twins(shape: Shape) -> set[str]:
    """Deprecated members that share their XML element name with another member (S3's
    CloudFunctionConfiguration has `Event` and a flattened list `Events` of <Event>): on the wire
    they are the same elements, so only the current member is generated."""
    names: dict[str, list[str]] = {}
    for name, member in shape.members.items():
        if member.type_name == "list" and member.serialization.get("flattened"):
            wire = member.member.serialization.get("name") or member.serialization.get("name", name)
        else:
            wire = member.serialization.get("name", name)
        names.setdefault(wire, []).append(name)
    return {
        n
        for group in names.values()
        if len(group) > 1
        for n in group
        if shape.members[n]._shape_model.get("deprecated")
    }


def _structure(shape: Shape, ctx: Ctx) -> st.SearchStrategy[dict[str, Any]]:
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    top = ctx.depth == 0
    deep = ctx.depth >= MAX_DEPTH
    for name, member in shape.members.items():
        if ctx.xml and name in xml_twins(shape):
            continue
        mctx = replace(ctx, depth=ctx.depth + 1, location=None, greedy=False)
        ser = member.serialization
        if top:
            location = ser.get("location")
            mctx = replace(mctx, location=location, host_label=bool(ser.get("hostLabel")))
        if (top and ser.get("location") == "uri") or name in shape.required_members:
            required[name] = for_shape(member, mctx)
        elif not deep:
            optional[name] = for_shape(member, mctx)
    if shape.is_tagged_union:
        choices = {**required, **optional}
        if deep:
            choices = {
                n: s
                for n, s in choices.items()
                if shape.members[n].type_name not in ("list", "map", "structure")
            } or choices
        return st.one_of([st.fixed_dictionaries({n: s}) for n, s in sorted(choices.items())])
    return st.fixed_dictionaries(required, optional=optional)
