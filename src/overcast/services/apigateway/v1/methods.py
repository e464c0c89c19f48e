"""Resources, methods, method responses, integrations and integration responses."""

from __future__ import annotations

import re
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

_PATH_PART = re.compile(r"^(\{[A-Za-z0-9._-]+\+?\}|[A-Za-z0-9._:@~-]+)$")
_INTEGRATION_TYPES = ("HTTP", "AWS", "MOCK", "HTTP_PROXY", "AWS_PROXY")
_STATUS = re.compile(r"^[1-5]\d\d$")


def _resource_out(res: dict[str, Any], embed: bool = True) -> dict[str, Any]:
    out = public(res)
    if not out.get("resourceMethods"):
        out.pop("resourceMethods", None)
    elif not embed:
        out["resourceMethods"] = {k: {} for k in out["resourceMethods"]}
    return out


class Methods(Base):
    """Resources ... integration responses."""

    # -- resources -----------------------------------------------------------------------------

    def get_resources(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("restApiId", ""))
        embed = "methods" in (params.get("embed") or [])
        items = [
            _resource_out(r, embed)
            for r in sorted(doc["resources"].values(), key=lambda r: r["path"])
        ]
        return page(items, params)

    def get_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("restApiId", ""))
        return _resource_out(self.resource(doc, params.get("resourceId", "")))

    def create_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        part = params.get("pathPart") or ""
        if not _PATH_PART.match(part):
            raise BadRequestException(
                "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning "
                "and the end and an optional plus sign before the closing brace."
            )
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            parent = self.resource(doc, params.get("parentId", ""))
            path = (parent["path"].rstrip("/")) + "/" + part
            for r in doc["resources"].values():
                if r["path"] == path:
                    raise ConflictException(
                        f"Another resource with the same parent already has this name: {part}"
                    )
                if (
                    r.get("parentId") == parent["id"]
                    and part.startswith("{")
                    and r.get("pathPart", "").startswith("{")
                ):
                    raise BadRequestException(
                        f"A sibling ({r['pathPart']}) of this resource already has a variable "
                        f"path part -- only one is allowed"
                    )
            if parent.get("pathPart", "").endswith("+}"):
                raise BadRequestException("Cannot create a child of a resource with a greedy path")
            rid = self.new_id(10)
            res = {
                "id": rid,
                "parentId": parent["id"],
                "pathPart": part,
                "path": path,
                "resourceMethods": {},
            }
            doc["resources"][rid] = res
        return _resource_out(res)

    def update_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            res = self.resource(doc, params.get("resourceId", ""))
            patch.apply(res, params.get("patchOperations") or [], allowed={"pathPart", "parentId"})
            self._repath(doc)
        return _resource_out(res)

    def _repath(self, doc: dict[str, Any]) -> None:
        by_id = doc["resources"]

        def path_of(r: dict[str, Any]) -> str:
            if not r.get("parentId"):
                return "/"
            return path_of(by_id[r["parentId"]]).rstrip("/") + "/" + r["pathPart"]

        for r in by_id.values():
            r["path"] = path_of(r)

    def delete_resource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            res = self.resource(doc, params.get("resourceId", ""))
            if not res.get("parentId"):
                raise BadRequestException("Cannot delete root resource")
            doomed = {res["id"]}
            changed = True
            while changed:
                changed = False
                for r in doc["resources"].values():
                    if r.get("parentId") in doomed and r["id"] not in doomed:
                        doomed.add(r["id"])
                        changed = True
            for rid in doomed:
                del doc["resources"][rid]
        return {}

    # -- methods -------------------------------------------------------------------------------

    def put_method(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        verb = self.check_method_name(params.get("httpMethod", ""))
        auth = params.get("authorizationType") or "NONE"
        if auth not in ("NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"):
            raise BadRequestException(f"Invalid authorization type {auth}")
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            res = self.resource(doc, params.get("resourceId", ""))
            if auth in ("CUSTOM", "COGNITO_USER_POOLS"):
                if params.get("authorizerId") not in doc["authorizers"]:
                    raise BadRequestException("Invalid authorizer ID specified")
            m: dict[str, Any] = {
                "httpMethod": verb,
                "authorizationType": auth,
                "apiKeyRequired": bool(params.get("apiKeyRequired", False)),
            }
            for k in (
                "authorizerId",
                "operationName",
                "requestValidatorId",
                "requestParameters",
                "requestModels",
                "authorizationScopes",
            ):
                if params.get(k) not in (None, {}, []):
                    m[k] = params[k]
            res.setdefault("resourceMethods", {})[verb] = m
        return public(m)

    def get_method(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("restApiId", ""))
        return public(self.method(doc, params.get("resourceId", ""), params.get("httpMethod", "")))

    def update_method(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            m = self.method(doc, params.get("resourceId", ""), params.get("httpMethod", ""))
            patch.apply(m, params.get("patchOperations") or [])
        return public(m)

    def delete_method(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            self.method(doc, params.get("resourceId", ""), params.get("httpMethod", ""))
            res = self.resource(doc, params["resourceId"])
            del res["resourceMethods"][params["httpMethod"].upper()]
        return {}

    # -- method responses ----------------------------------------------------------------------

    def put_method_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        code = str(params.get("statusCode", ""))
        if not _STATUS.match(code):
            raise BadRequestException("Invalid status code")
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            m = self.method(doc, params.get("resourceId", ""), params.get("httpMethod", ""))
            mr: dict[str, Any] = {"statusCode": code}
            for k in ("responseParameters", "responseModels"):
                if params.get(k):
                    mr[k] = params[k]
            m.setdefault("methodResponses", {})[code] = mr
        return dict(mr)

    def _method_response(self, doc: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        m = self.method(doc, params.get("resourceId", ""), params.get("httpMethod", ""))
        mr = (m.get("methodResponses") or {}).get(str(params.get("statusCode")))
        if mr is None:
            raise NotFoundException("Invalid Response status code specified")
        return mr

    def get_method_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self._method_response(self.load(ctx, params.get("restApiId", "")), params))

    def update_method_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            mr = self._method_response(doc, params)
            patch.apply(mr, params.get("patchOperations") or [])
        return dict(mr)

    def delete_method_response(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            self._method_response(doc, params)
            m = self.method(doc, params["resourceId"], params["httpMethod"])
            del m["methodResponses"][str(params["statusCode"])]
        return {}

    # -- integrations --------------------------------------------------------------------------

    def put_integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        kind = params.get("type") or ""
        if kind not in _INTEGRATION_TYPES:
            raise BadRequestException(
                f"Invalid integration type specified. Valid values: {', '.join(_INTEGRATION_TYPES)}"
            )
        if kind != "MOCK" and not params.get("uri"):
            raise BadRequestException("Enumeration value for Integration URI must be non-empty")
        if kind in ("HTTP", "HTTP_PROXY", "AWS", "AWS_PROXY") and not params.get(
            "integrationHttpMethod"
        ):
            raise BadRequestException("Enumeration value for HttpMethod must be non-empty")
        if kind == "AWS_PROXY" and ":lambda:path" not in params.get("uri", ""):
            raise BadRequestException(
                "Integrations of type 'AWS_PROXY' currently only supports Lambda function and "
                "Firehose stream invocations."
            )
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            m = self.method(doc, params.get("resourceId", ""), params.get("httpMethod", ""))
            integ: dict[str, Any] = {
                "type": kind,
                "passthroughBehavior": params.get("passthroughBehavior") or "WHEN_NO_MATCH",
                "timeoutInMillis": int(params.get("timeoutInMillis") or 29000),
                "cacheNamespace": params.get("cacheNamespace") or params["resourceId"],
                "cacheKeyParameters": list(params.get("cacheKeyParameters") or []),
            }
            if params.get("integrationHttpMethod"):
                integ["httpMethod"] = params["integrationHttpMethod"].upper()
            for k in (
                "uri",
                "credentials",
                "requestParameters",
                "requestTemplates",
                "contentHandling",
                "connectionType",
                "connectionId",
                "tlsConfig",
            ):
                if params.get(k) not in (None, {}):
                    integ[k] = params[k]
            if not 50 <= integ["timeoutInMillis"] <= 29000:
                raise BadRequestException("Timeout should be between 50 ms and 29000 ms")
            m["methodIntegration"] = integ
        return public(integ)

    def get_integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        doc = self.load(ctx, params.get("restApiId", ""))
        return public(
            self.integration(doc, params.get("resourceId", ""), params.get("httpMethod", ""))
        )

    def update_integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            integ = self.integration(
                doc, params.get("resourceId", ""), params.get("httpMethod", "")
            )
            patch.apply(integ, params.get("patchOperations") or [])
        return public(integ)

    def delete_integration(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            self.integration(doc, params.get("resourceId", ""), params.get("httpMethod", ""))
            m = self.method(doc, params["resourceId"], params["httpMethod"])
            del m["methodIntegration"]
        return {}

    # -- integration responses -------------------------------------------------------------------

    def put_integration_response(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        code = str(params.get("statusCode", ""))
        if not _STATUS.match(code):
            raise BadRequestException("Invalid status code")
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            integ = self.integration(
                doc, params.get("resourceId", ""), params.get("httpMethod", "")
            )
            m = self.method(doc, params["resourceId"], params["httpMethod"])
            if code not in (m.get("methodResponses") or {}):
                raise NotFoundException("Invalid Response status code specified")
            ir: dict[str, Any] = {"statusCode": code}
            copy_given(
                params,
                ("selectionPattern", "responseParameters", "responseTemplates", "contentHandling"),
                ir,
            )
            integ.setdefault("integrationResponses", {})[code] = ir
        return dict(ir)

    def _integration_response(self, doc: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        integ = self.integration(doc, params.get("resourceId", ""), params.get("httpMethod", ""))
        ir = (integ.get("integrationResponses") or {}).get(str(params.get("statusCode")))
        if ir is None:
            raise NotFoundException("Invalid Response status code specified")
        return ir

    def get_integration_response(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return dict(self._integration_response(self.load(ctx, params.get("restApiId", "")), params))

    def update_integration_response(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            ir = self._integration_response(doc, params)
            patch.apply(ir, params.get("patchOperations") or [])
        return dict(ir)

    def delete_integration_response(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        with self.edit(ctx, params.get("restApiId", "")) as doc:
            self._integration_response(doc, params)
            integ = self.integration(doc, params["resourceId"], params["httpMethod"])
            del integ["integrationResponses"][str(params["statusCode"])]
        return {}
