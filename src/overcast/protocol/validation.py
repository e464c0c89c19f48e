"""Server-side validation of input parameters against the model's constraints, with AWS's own
message: "1 validation error detected: Value null at 'tableName' failed to satisfy constraint:
Member must not be null".

Checked: required members, string/list/map/blob length bounds, numeric ranges and enums — the
constraints AWS's front ends enforce for json, rest-json and query services before an operation
runs. Regular-expression patterns are not checked (the models carry Java regexes). Plans are
compiled once per operation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.model import OperationModel, Shape

from overcast.core.errors import ServiceError
from overcast.protocol.models import quirks

_DEFAULT_CODE = {
    "json": "ValidationException",
    "rest-json": "ValidationException",
    "query": "ValidationError",
    "smithy-rpc-v2-cbor": "ValidationError",
}

Check = Callable[[Any, str, list[str]], None]


def _name(member: str) -> str:
    return member[:1].lower() + member[1:]


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "'true'" if value else "'false'"
    if isinstance(value, bytes):
        return "'java.nio.HeapByteBuffer'"
    return f"'{value}'"


def _fail(errors: list[str], value: Any, path: str, text: str) -> None:
    errors.append(
        f"Value {_show(value)} at '{path}' failed to satisfy constraint: Member must {text}"
    )


def _compile(shape: Shape, depth: int = 0) -> Check | None:
    """A function checking one value of `shape`, or None when the shape constrains nothing."""
    if depth > 12:
        return None
    meta = shape.metadata
    kind = shape.type_name
    low, high = meta.get("min"), meta.get("max")
    enum = meta.get("enum") if kind == "string" else None
    inner: list[Check] = []

    if kind == "structure":
        required = set(meta.get("required", []))
        members: list[tuple[str, str, Check | None, bool]] = []
        for mname, mshape in shape.members.items():  # type: ignore[attr-defined]
            sub = _compile(mshape, depth + 1)
            if sub is not None or mname in required:
                members.append((mname, _name(mname), sub, mname in required))
        if not members:
            return None

        def check_struct(value: Any, path: str, errors: list[str]) -> None:
            if not isinstance(value, dict):
                return
            for mname, label, sub, req in members:
                v = value.get(mname)
                where = f"{path}.{label}" if path else label
                if v is None:
                    if req:
                        _fail(errors, None, where, "not be null")
                elif sub is not None:
                    sub(v, where, errors)

        return check_struct

    if kind == "list":
        elem = _compile(shape.member, depth + 1)  # type: ignore[attr-defined]
        if elem is not None:

            def check_items(value: Any, path: str, errors: list[str]) -> None:
                if isinstance(value, list):
                    for i, v in enumerate(value, 1):
                        if v is not None:
                            elem(v, f"{path}.{i}.member", errors)

            inner.append(check_items)
    elif kind == "map":
        val = _compile(shape.value, depth + 1)  # type: ignore[attr-defined]
        if val is not None:

            def check_values(value: Any, path: str, errors: list[str]) -> None:
                if isinstance(value, dict):
                    for k, v in value.items():
                        if v is not None:
                            val(v, f"{path}.{k}.member", errors)

            inner.append(check_values)

    sized = kind in ("string", "list", "map", "blob")
    numeric = kind in ("integer", "long", "float", "double")
    if not (inner or enum or ((sized or numeric) and (low is not None or high is not None))):
        return None

    def check(value: Any, path: str, errors: list[str]) -> None:
        if sized and isinstance(value, str | list | dict | bytes):
            n = len(value)
            if low is not None and n < low:
                _fail(errors, value, path, f"have length greater than or equal to {low}")
            elif high is not None and n > high:
                _fail(errors, value, path, f"have length less than or equal to {high}")
        elif numeric and isinstance(value, int | float) and not isinstance(value, bool):
            if low is not None and value < low:
                _fail(errors, value, path, f"have value greater than or equal to {low}")
            elif high is not None and value > high:
                _fail(errors, value, path, f"have value less than or equal to {high}")
        if enum and isinstance(value, str) and value not in enum:
            _fail(errors, value, path, f"satisfy enum value set: [{', '.join(enum)}]")
        for sub in inner:
            sub(value, path, errors)

    return check


class Validator:
    """Validates the parameters of one service's operations, compiling a plan per operation."""

    def __init__(self, service: str, protocol: str) -> None:
        q = quirks(service)
        self.enabled = protocol in _DEFAULT_CODE and q.get("validate", True)
        self.code = q.get("validation_error_code", _DEFAULT_CODE.get(protocol, "ValidationError"))
        self._plans: dict[str, Check | None] = {}

    def validate(self, op: OperationModel, params: dict[str, Any]) -> None:
        """Raise the service's validation error listing every violated constraint."""
        check = self.check_of(op)
        if check is not None:
            check(params)

    def check_of(self, op: OperationModel) -> Callable[[dict[str, Any]], None] | None:
        """`validate` for `op` alone (the same checks and error), or None when `op`'s input
        constrains nothing (or validation is off): callers may keep it per operation."""
        if not self.enabled:
            return None
        try:
            plan = self._plans[op.name]
        except KeyError:
            shape = op.input_shape
            plan = self._plans[op.name] = _compile(shape) if shape is not None else None
        if plan is None:
            return None
        code = self.code

        def check(params: dict[str, Any]) -> None:
            errors: list[str] = []
            plan(params, "", errors)
            if errors:
                count = len(errors)
                noun = "error" if count == 1 else "errors"
                raise ServiceError(
                    f"{count} validation {noun} detected: " + "; ".join(errors), code=code
                )

        return check
