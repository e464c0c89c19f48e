"""Pure pieces of API Gateway's data plane shared by REST (apigateway) and HTTP (apigatewayv2)
APIs: proxy events in and responses out (`proxy`), route and resource matching (`routing`),
authorizer policy evaluation (`policy`), JWT validation (`jwt`), token buckets (`throttle`).
A normalised request goes in, values come out; no I/O, and time is always passed in.
"""
