"""What every part of the provider shares: the state, the clock, and lookups that raise AWS's
NotFoundException with AWS's messages."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from overcast.core import ids
from overcast.core.clock import Clock
from overcast.core.context import RequestContext
from overcast.services.apigateway.errors import BadRequestException, NotFoundException
from overcast.services.apigateway.state import ApiState

# Members of each stored record that are ours, not AWS's: never returned.
_PRIVATE = ("snapshot",)


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A stored record without Overcast's private members (deep-copied for the caller)."""
    return {k: copy.deepcopy(v) for k, v in record.items() if k not in _PRIVATE}


def new_api_doc(api: dict[str, Any], root_id: str) -> dict[str, Any]:
    """A fresh API document with only the root resource."""
    api["rootResourceId"] = root_id
    return {
        "api": api,
        "resources": {root_id: {"id": root_id, "path": "/", "resourceMethods": {}}},
        "models": {},
        "validators": {},
        "authorizers": {},
        "gatewayResponses": {},
        "deployments": {},
        "stages": {},
    }


def default_models(new_id: Any) -> dict[str, dict[str, Any]]:
    """The two models every new REST API starts with."""
    return {
        "Empty": {
            "id": new_id(),
            "name": "Empty",
            "description": "This is a default empty schema model",
            "contentType": "application/json",
            "schema": '{\n  "$schema": "http://json-schema.org/draft-04/schema#",\n'
            '  "title" : "Empty Schema",\n  "type" : "object"\n}',
        },
        "Error": {
            "id": new_id(),
            "name": "Error",
            "description": "This is a default error schema model",
            "contentType": "application/json",
            "schema": '{\n  "$schema" : "http://json-schema.org/draft-04/schema#",\n'
            '  "title" : "Error Schema",\n  "type" : "object",\n  "properties" : {\n'
            '    "message" : { "type" : "string" }\n  }\n}',
        },
    }


class Base:
    """State access and lookups for the operation mixins."""

    state: ApiState
    clock: Clock

    def now(self) -> float:
        return self.clock.now()

    @staticmethod
    def new_id(length: int = 10) -> str:
        return ids.short_id(length)

    def load(self, ctx: RequestContext, api_id: str) -> dict[str, Any]:
        """The API's document, or NotFoundException."""
        doc = self.state.get_api(ctx.account_id, ctx.region, api_id or "")
        if doc is None:
            raise NotFoundException(f"Invalid API identifier specified {ctx.account_id}:{api_id}")
        return doc

    @contextmanager
    def edit(self, ctx: RequestContext, api_id: str) -> Iterator[dict[str, Any]]:
        """Change one API's document atomically."""
        with self.state.editing(ctx.account_id, ctx.region, api_id or "") as doc:
            if doc is None:
                raise NotFoundException(
                    f"Invalid API identifier specified {ctx.account_id}:{api_id}"
                )
            yield doc

    @staticmethod
    def resource(doc: dict[str, Any], resource_id: str) -> dict[str, Any]:
        res = doc["resources"].get(resource_id or "")
        if res is None:
            raise NotFoundException("Invalid Resource identifier specified")
        return res

    def method(self, doc: dict[str, Any], resource_id: str, http_method: str) -> dict[str, Any]:
        res = self.resource(doc, resource_id)
        m = (res.get("resourceMethods") or {}).get((http_method or "").upper())
        if m is None:
            raise NotFoundException("Invalid Method identifier specified")
        return m

    def integration(
        self, doc: dict[str, Any], resource_id: str, http_method: str
    ) -> dict[str, Any]:
        m = self.method(doc, resource_id, http_method)
        integ = m.get("methodIntegration")
        if integ is None:
            raise NotFoundException("Invalid Integration identifier specified")
        return integ

    @staticmethod
    def check_method_name(http_method: str) -> str:
        verb = (http_method or "").upper()
        if verb not in ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"):
            raise BadRequestException(
                "Invalid HttpMethod specified. Valid options are "
                "GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY"
            )
        return verb


def page(items: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """{items, position} for list operations with `limit` and `position`."""
    start = int(params.get("position") or 0)
    limit = int(params.get("limit") or 500)
    chunk = items[start : start + limit]
    out: dict[str, Any] = {"items": chunk}
    if start + limit < len(items):
        out["position"] = str(start + limit)
    return out
