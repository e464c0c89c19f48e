"""OpenAPI 3 / Swagger 2 documents ↔ API Gateway definitions, as pure functions.

`rest_import` turns a document (with the x-amazon-apigateway-* extensions) into REST API
resources, methods, models, validators, authorizers and gateway responses; `rest_export` turns
them back into a document (GetExport). `http_api` does the same for HTTP APIs (routes,
integrations, JWT/Lambda authorizers, CORS). Dicts in, dicts out; ids come from a callable.
"""

from overcast.engines.openapi.http_api import HttpApiDefinition, export_http_api, import_http_api
from overcast.engines.openapi.rest_export import export_openapi, integration_extension
from overcast.engines.openapi.rest_import import (
    OpenApiError,
    RestApiDefinition,
    import_openapi,
    integration_from_extension,
    load_document,
)

__all__ = [
    "HttpApiDefinition",
    "OpenApiError",
    "RestApiDefinition",
    "export_http_api",
    "export_openapi",
    "import_http_api",
    "import_openapi",
    "integration_extension",
    "integration_from_extension",
    "load_document",
]
