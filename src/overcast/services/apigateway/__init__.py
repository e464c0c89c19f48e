"""API Gateway: one AWS product with two APIs, served from this one package (as DynamoDB and
DynamoDB Streams are), each with its own provider, database and data plane.

- `v1` — REST APIs (botocore `apigateway`): `v1.provider.ApiGatewayProvider`.
- `v2` — HTTP APIs (botocore `apigatewayv2`): `v2.provider.ApiGatewayV2Provider`.

Control-plane calls arrive at a provider's operation methods and change one JSON document per API
(`documents`, with lookups and edits in `common`). Invoke-URL requests arrive at each provider's
`data_plane(req)`: the request is normalised and throttled (`pipeline`), authorized, sent to its
integration — Lambda through `dispatcher.call(ctx, "lambda", "Invoke", ...)` or HTTP to a backend
(`outbound`) — and its access-log line is buffered and sent to CloudWatch Logs by a background task
(`accesslogs`). Errors shared by both APIs are in `errors`. Pure pieces (proxy events, routing,
policies, JWT, VTL, OpenAPI) live in engines (apigw, vtl, openapi); only this package may import
`v1` or `v2`, and neither imports the other.
"""
