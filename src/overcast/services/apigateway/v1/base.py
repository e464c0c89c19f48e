"""What every REST API operation mixin shares: the document skeleton, default models, and lookups
of resources, methods and integrations that raise AWS's NotFoundException with AWS's messages
(API-level lookups and edits are in `..common`)."""

from __future__ import annotations

from typing import Any

from overcast.services.apigateway.common import ApiBase, paginate, public
from overcast.services.apigateway.errors import BadRequestException, NotFoundException
from overcast.services.apigateway.v1.state import ApiState

__all__ = ["Base", "default_models", "new_api_doc", "page", "public"]


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


class Base(ApiBase):
    """State access and lookups for the REST API operation mixins."""

    state: ApiState

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
    return paginate(items, params.get("position"), params.get("limit"), "items", "position")
