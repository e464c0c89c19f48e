"""Models, request validators, authorizers and gateway responses of a REST API."""

from __future__ import annotations

import json
from typing import Any

from overcast.core.context import RequestContext
from overcast.services.apigateway.common import copy_given
from overcast.services.apigateway.errors import (
    BadRequestException,
    ConflictException,
    NotFoundException,
)
from overcast.services.apigateway.v1 import patch
from overcast.services.apigateway.v1.base import Base, page, public
from overcast.services.apigateway.v1.gateway_responses import DEFAULT_STATUS, default_response


class Config(Base):
    """CreateModel ... DeleteGatewayResponse."""

    # -- models --------------------------------------------------------------------------------

    def create_model(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("name") or ""
        if not name.isalnum():
            raise BadRequestException("Model name must be alphanumeric")
        schema = params.get("schema")
        if schema:
            try:
                json.loads(schema)
            except ValueError:
                raise BadRequestException(
                    "Invalid model specified: Validation Result: "
                    "warnings : [], errors : [Invalid model schema]"
                )
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            if name in doc["models"]:
                raise ConflictException("Model name already exists for this REST API")
            model: dict[str, Any] = {
                "id": self.new_id(6),
                "name": name,
                "contentType": params.get("contentType", "application/json"),
            }
            if params.get("description"):
                model["description"] = params["description"]
            if schema:
                model["schema"] = schema
            doc["models"][name] = model
        return dict(model)

    def _model(self, doc: dict[str, Any], name: str) -> dict[str, Any]:
        m = doc["models"].get(name or "")
        if m is None:
            raise NotFoundException("Invalid model name specified: " + str(name))
        return m

    def get_model(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("restApiId", ""))
        return dict(self._model(doc, params.get("modelName", "")))

    def get_models(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("restApiId", ""))
        return page(
            sorted((dict(m) for m in doc["models"].values()), key=lambda m: m["name"]), params
        )

    def update_model(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            m = self._model(doc, params.get("modelName", ""))
            patch.apply(m, params.get("patchOperations") or [], allowed={"schema", "description"})
        return dict(m)

    def delete_model(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            name = params.get("modelName", "")
            self._model(doc, name)
            for res in doc["resources"].values():
                for m in (res.get("resourceMethods") or {}).values():
                    if name in (m.get("requestModels") or {}).values():
                        raise ConflictException(
                            f"Cannot delete model '{name}', is referenced in method request: "
                            f"{res['path']}/{m['httpMethod']}"
                        )
            del doc["models"][name]
        return {}

    # -- request validators ------------------------------------------------------------------

    def create_request_validator(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            v = {
                "id": self.new_id(6),
                "name": params.get("name") or "",
                "validateRequestBody": bool(params.get("validateRequestBody", False)),
                "validateRequestParameters": bool(params.get("validateRequestParameters", False)),
            }
            doc["validators"][v["id"]] = v
        return dict(v)

    def _validator(self, doc: dict[str, Any], vid: str) -> dict[str, Any]:
        v = doc["validators"].get(vid or "")
        if v is None:
            raise NotFoundException("Invalid Request Validator identifier specified")
        return v

    def get_request_validator(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("restApiId", ""))
        return dict(self._validator(doc, params.get("requestValidatorId", "")))

    def get_request_validators(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("restApiId", ""))
        return page([dict(v) for v in doc["validators"].values()], params)

    def update_request_validator(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            v = self._validator(doc, params.get("requestValidatorId", ""))
            patch.apply(
                v,
                params.get("patchOperations") or [],
                allowed={"name", "validateRequestBody", "validateRequestParameters"},
            )
        return dict(v)

    def delete_request_validator(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            self._validator(doc, params.get("requestValidatorId", ""))
            del doc["validators"][params["requestValidatorId"]]
        return {}

    # -- authorizers ---------------------------------------------------------------------------

    def create_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        kind = params.get("type") or ""
        if kind not in ("TOKEN", "REQUEST", "COGNITO_USER_POOLS"):
            raise BadRequestException(f"Invalid authorizer type {kind}")
        if kind != "COGNITO_USER_POOLS" and not params.get("authorizerUri"):
            raise BadRequestException("Authorizer URI is required for a custom authorizer")
        if kind == "COGNITO_USER_POOLS" and not params.get("providerARNs"):
            raise BadRequestException("ProviderARNs need to be specified for COGNITO_USER_POOLS")
        if kind == "TOKEN" and not params.get("identitySource"):
            raise BadRequestException("IdentitySource is required for TOKEN authorizers")
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            a: dict[str, Any] = {
                "id": self.new_id(6),
                "name": params.get("name") or "",
                "type": kind,
            }
            copy_given(
                params,
                (
                    "providerARNs",
                    "authType",
                    "authorizerUri",
                    "authorizerCredentials",
                    "identitySource",
                    "identityValidationExpression",
                ),
                a,
            )
            a["authorizerResultTtlInSeconds"] = int(params.get("authorizerResultTtlInSeconds", 300))
            doc["authorizers"][a["id"]] = a
        return dict(a)

    def _authorizer(self, doc: dict[str, Any], aid: str) -> dict[str, Any]:
        a = doc["authorizers"].get(aid or "")
        if a is None:
            raise NotFoundException("Invalid Authorizer identifier specified")
        return a

    def get_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("restApiId", ""))
        return dict(self._authorizer(doc, params.get("authorizerId", "")))

    def get_authorizers(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("restApiId", ""))
        return page([dict(a) for a in doc["authorizers"].values()], params)

    def update_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            a = self._authorizer(doc, params.get("authorizerId", ""))
            patch.apply(a, params.get("patchOperations") or [])
        return dict(a)

    def delete_authorizer(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            aid = params.get("authorizerId", "")
            self._authorizer(doc, aid)
            for res in doc["resources"].values():
                for m in (res.get("resourceMethods") or {}).values():
                    if m.get("authorizerId") == aid:
                        raise ConflictException("Cannot delete authorizer, is referenced in method")
            del doc["authorizers"][aid]
        return {}

    # -- gateway responses ---------------------------------------------------------------------

    def put_gateway_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rtype = params.get("responseType") or ""
        if rtype not in DEFAULT_STATUS:
            raise BadRequestException(f"Invalid response type {rtype}")
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            gr: dict[str, Any] = {
                "responseType": rtype,
                "defaultResponse": False,
                "responseParameters": dict(params.get("responseParameters") or {}),
                "responseTemplates": dict(params.get("responseTemplates") or {}),
            }
            if params.get("statusCode"):
                gr["statusCode"] = str(params["statusCode"])
            doc["gatewayResponses"][rtype] = gr
        return dict(gr)

    def get_gateway_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("restApiId", ""))
        rtype = params.get("responseType") or ""
        if rtype not in DEFAULT_STATUS:
            raise NotFoundException("Invalid Gateway Response type specified")
        return public(doc["gatewayResponses"].get(rtype) or default_response(rtype))

    def get_gateway_responses(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("restApiId", ""))
        items = [
            public(doc["gatewayResponses"].get(t) or default_response(t)) for t in DEFAULT_STATUS
        ]
        return page(items, params)

    def update_gateway_response(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        rtype = params.get("responseType") or ""
        if rtype not in DEFAULT_STATUS:
            raise NotFoundException("Invalid Gateway Response type specified")
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            gr = doc["gatewayResponses"].get(rtype) or default_response(rtype)
            gr["defaultResponse"] = False
            patch.apply(gr, params.get("patchOperations") or [])
            doc["gatewayResponses"][rtype] = gr
        return dict(gr)

    def delete_gateway_response(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            rtype = params.get("responseType") or ""
            if rtype not in doc["gatewayResponses"]:
                raise NotFoundException("Invalid Gateway Response type specified")
            del doc["gatewayResponses"][rtype]
        return {}
