"""Pure pieces of API Gateway's data plane shared by REST (apigateway) and HTTP (apigatewayv2)
APIs: proxy events in and responses out (`proxy`), route and resource matching (`routing`),
authorizer policy evaluation (`policy`), JWT validation (`jwt`), token buckets (`throttle`),
integration URIs, stage variables and execute-api ARNs (`uris`), access-log lines (`accesslog`).
A normalised request goes in, values come out; no I/O, and time is always passed in.
"""
