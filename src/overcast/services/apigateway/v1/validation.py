"""Request validation: required parameters and the body against the method's model."""

from __future__ import annotations

import json

from overcast.services.apigateway.v1.dataplane import Call, GatewayAnswer


class Validation:
    """validate() for the pipeline."""

    def validate(self, call: Call) -> None:
        """400 BAD_REQUEST_PARAMETERS / BAD_REQUEST_BODY per the method's request validator."""
        validator = call.cs.validators.get(call.method.get("requestValidatorId") or "")
        if validator is None:
            return
        if validator.get("validateRequestParameters"):
            self._parameters(call)
        if validator.get("validateRequestBody"):
            self._body(call)

    def _parameters(self, call: Call) -> None:
        query = {k for k, _ in call.req.query_pairs()}
        headers = {k.lower() for k, _ in call.req.header_list}
        missing: list[str] = []
        for key, required in (call.method.get("requestParameters") or {}).items():
            if not required:
                continue
            parts = key.split(".", 3)
            if len(parts) != 4:
                continue
            where, name = parts[2], parts[3]
            present = (
                (where == "querystring" and name in query)
                or (where == "header" and name.lower() in headers)
                or (where == "path" and bool(call.path_params.get(name)))
            )
            if not present:
                missing.append(name)
        if missing:
            raise GatewayAnswer(
                "BAD_REQUEST_PARAMETERS",
                f"Missing required request parameters: [{', '.join(missing)}]",
            )

    def _body(self, call: Call) -> None:
        models = call.method.get("requestModels") or {}
        if not models:
            return
        ctype = (call.req.header("content-type") or "application/json").split(";")[0].strip()
        model_name = models.get(ctype) or models.get("$default")
        if model_name is None:
            if len(models) == 1 and "application/json" in models:
                model_name = models["application/json"]
            else:
                return
        if model_name == "Empty":
            return
        validator = call.cs.validator_for(model_name)
        if validator is None:
            return
        try:
            body = json.loads(call.req.body or b"null") if call.req.body.strip() else None
        except ValueError:
            raise GatewayAnswer("BAD_REQUEST_BODY", "Invalid request body")
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        if errors:
            detail = "[" + ", ".join(e.message for e in errors) + "]"
            raise GatewayAnswer("BAD_REQUEST_BODY", "Invalid request body", detail=detail)
