"""API Gateway HTTP APIs (botocore `apigatewayv2`): control plane and data plane.

`provider.ApiGatewayV2Provider` keeps each HTTP API as one AWS-shaped JSON document (`state`) —
API, routes, integrations, authorizers, stages and deployments — with operations split by concern
(`apis`, `parts`, `stages`). A stage with AutoDeploy serves the API as it is; others serve their
deployment's snapshot. The data plane (`dataplane`, `authz`) routes by route key, applies CORS,
throttling and JWT / Lambda authorizers, then calls the integration (Lambda proxy through the
dispatcher, or HTTP proxy). Shares no code with `apigateway`: common pure logic is in engines.
"""
