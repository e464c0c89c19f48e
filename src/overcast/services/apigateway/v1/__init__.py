"""API Gateway REST APIs (botocore `apigateway`): the control plane and the invoke-URL data plane.

Control plane: `provider.ApiGatewayProvider` (one method per operation, split into mixins by
concern: `restapis`, `methods`, `config`, `stages`, `keys`, `account`) keeps each REST API as one
AWS-shaped JSON document (`state`, on the shared `..documents`). Deploying snapshots the document;
the data plane (`dataplane`, with `authz`, `validation`, `integrations`, `gateway_responses`)
serves a stage from its deployment's snapshot, compiled once (`compiled`) and cached until the API
changes. Shared with HTTP APIs: `..pipeline`, `..outbound`, `..accesslogs`, `..common`.
"""
