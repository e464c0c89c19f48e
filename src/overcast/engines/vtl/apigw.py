"""API Gateway's mapping-template variables: $input, $util, $context, $stageVariables.

`mapping_variables(...)` builds the root scope for one request; `render_mapping(...)` runs a
template against it. Pure: the request is passed in as plain values.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from overcast.engines.vtl.evaluator import MISSING, Evaluator, VtlRuntimeError, json_dumps
from overcast.engines.vtl.jsonpath import evaluate as jsonpath
from overcast.engines.vtl.template import compile_template


def _parse_body(body: str) -> Any:
    if body.strip() == "":
        return {}
    try:
        return json.loads(body)
    except ValueError:
        return body


@dataclass
class InputVariable:
    """$input: the request body and parameters."""

    body: str
    path_params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    _doc: Any = MISSING

    def doc(self) -> Any:
        if self._doc is MISSING:
            self._doc = _parse_body(self.body)
        return self._doc

    def vtl_attr(self, name: str) -> Any:
        if name == "body":
            return self.body
        return MISSING

    def vtl_call(self, name: str, args: list[Any]) -> Any:
        if name == "json":
            return json_dumps(jsonpath(str(args[0]) if args else "$", self.doc()))
        if name == "path":
            return jsonpath(str(args[0]) if args else "$", self.doc())
        if name == "params":
            if not args:
                return {
                    "path": dict(self.path_params),
                    "querystring": dict(self.query),
                    "header": dict(self.headers),
                }
            key = str(args[0])
            for source in (self.path_params, self.query):
                if key in source:
                    return source[key]
            lower = {k.lower(): v for k, v in self.headers.items()}
            return lower.get(key.lower(), "")
        if name == "body":
            return self.body
        raise VtlRuntimeError(f"no method {name} on $input")


def escape_javascript(s: str) -> str:
    """$util.escapeJavaScript: Java's StringEscapeUtils rules (quotes, slash, control chars)."""
    out: list[str] = []
    for ch in s:
        if ch in "\"'\\/":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ord(ch) < 32 or ord(ch) > 0x7E:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


class UtilVariable:
    """$util."""

    def vtl_attr(self, name: str) -> Any:
        return MISSING

    def vtl_call(self, name: str, args: list[Any]) -> Any:
        arg = "" if not args or args[0] is None else args[0]
        if name == "escapeJavaScript":
            return escape_javascript(str(arg))
        if name == "urlEncode":
            return quote_plus(str(arg), safe="*").replace("~", "%7E")
        if name == "urlDecode":
            return unquote_plus(str(arg))
        if name == "base64Encode":
            data = arg.encode() if isinstance(arg, str) else bytes(arg)
            return base64.b64encode(data).decode()
        if name == "base64Decode":
            return base64.b64decode(str(arg)).decode("utf-8", errors="replace")
        if name == "parseJson":
            try:
                return json.loads(str(arg))
            except ValueError as exc:
                raise VtlRuntimeError(f"parseJson: {exc}") from exc
        if name == "toJson":
            return json_dumps(arg)
        raise VtlRuntimeError(f"no method {name} on $util")


def mapping_variables(
    *,
    body: str,
    path_params: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    context: dict[str, Any] | None = None,
    stage_variables: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The root scope of a request or response mapping template."""
    return {
        "input": InputVariable(body, path_params or {}, query or {}, headers or {}),
        "util": UtilVariable(),
        "context": context if context is not None else {},
        "stageVariables": stage_variables or {},
    }


def render_mapping(template: str, variables: dict[str, Any]) -> str:
    """Render an API Gateway mapping template (raises VtlSyntaxError / VtlRuntimeError)."""
    return Evaluator(variables).run(compile_template(template))
