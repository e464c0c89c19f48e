"""API Gateway HTTP APIs (botocore `apigatewayv2`): control plane and data plane.

`provider.ApiGatewayV2Provider` keeps each HTTP API as one AWS-shaped JSON document (`state`, on
the shared `..documents`) — API, routes, integrations, authorizers, stages and deployments — with
operations split by concern (`apis`, `parts`, `domains`). A stage with AutoDeploy serves the API as
it is; others serve their deployment's snapshot. The data plane (`dataplane`, `authz`) routes by
route key, applies CORS, throttling and JWT / Lambda authorizers, then calls the integration
(Lambda proxy, HTTP proxy with parameter `mapping`, or `service_integrations`). Shared with REST
APIs: `..pipeline`, `..outbound`, `..accesslogs`, `..common`.
"""
