"""Resource handlers, one per CloudFormation resource type, grouped by service. Types that map
their properties onto one create/update/delete operation each are rows of data (`generic.Spec`)
served by one `SpecHandler`; the rest are small classes (some subclass SpecHandler).

Each acts only through `ResourceContext.call(service, operation, params)` (the dispatcher), never
by importing another service. `all_handlers()` is the registry the executor uses: a type not in
it fails its stack with "Unsupported resource type: X".
"""

from __future__ import annotations

from overcast.services.cloudformation.resources import (
    apigateway,
    apigateway_access,
    apigatewayv2,
    cloudformation,
    dynamodb,
    iam,
    lambda_,
    logs,
    s3,
    ssm,
)
from overcast.services.cloudformation.resources.base import ResourceHandler


def all_handlers() -> dict[str, ResourceHandler]:
    """Resource type → handler."""
    out: dict[str, ResourceHandler] = {}
    for module in (
        cloudformation,
        ssm,
        iam,
        lambda_,
        apigateway,
        apigateway_access,
        apigatewayv2,
        dynamodb,
        s3,
        logs,
    ):
        for handler in module.HANDLERS:
            out[handler.TYPE] = handler
    return out
