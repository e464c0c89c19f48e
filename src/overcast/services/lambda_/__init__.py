"""AWS Lambda: functions, versions, aliases, layers, concurrency, function URLs, invocations.

A request reaches `provider.LambdaProvider`, one method per operation, assembled from parts by
concern: `functions.py` (create/read/update/delete, versions), `aliases.py`, `layers.py`,
`invoke.py` (Invoke, asynchronous invocation), `destinations.py` (where asynchronous results
go), `extras.py` (permissions, concurrency, event invoke configs, URL configs, tags, account)
and `urls.py` (the data plane: function URLs and code downloads). Records live in this
service's database (`store.py`); code and layer zips are blobs, extracted by `code.py` into
folders the runtime runs from. An invocation builds a `runtime.FunctionSpec` and hands it to
the runtime's `Pool`; what the function printed goes to CloudWatch Logs through
`Dispatcher.call(ctx, "logs", ...)` (`logwriter.py`). Asynchronous invocations are durable
outbox deliveries (`Dispatcher.enqueue`), retried by the dispatcher.
"""
