"""Pure libraries: no I/O, no clock, no randomness — time, ids and data are passed in, results
and commands come out. Each engine serves the services that need it:

- `cfn`: CloudFormation templates, intrinsic functions, conditions and the deployment plan.
- `ddb`: DynamoDB's expression language, key encoding, item sizes and PartiQL.
- `vtl`: API Gateway mapping templates (Velocity).
- `openapi`, `apigw`: API Gateway's OpenAPI import/export and its data-plane addressing.
- `log_filter`: CloudWatch Logs filter patterns.

May import only `core`.
"""
