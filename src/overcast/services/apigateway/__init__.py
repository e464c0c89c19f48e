"""API Gateway REST APIs (botocore `apigateway`): the control plane and the invoke-URL data plane.

Control plane: `provider.ApiGatewayProvider` (one method per operation, split into mixins by
concern: `restapis`, `methods`, `config`, `stages`, `keys`) keeps each REST API as one AWS-shaped
JSON document in SQLite (`state`). Deploying snapshots the document; the data plane (`dataplane`,
with `authz`, `integrations`, `gateway_responses`) serves a stage from its deployment's snapshot,
compiled once (`compiled`) and cached until the API changes. Lambda is reached only through
`dispatcher.call(ctx, "lambda", "Invoke", ...)`. Pure pieces live in engines (openapi, vtl, apigw).
"""
