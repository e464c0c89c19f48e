"""One package per AWS service. Each `provider.py` has one method per operation (snake_case),
taking `(ctx, params)` and returning the output members; errors are `ServiceError`s.

Providers may import dispatch, runtime, engines, store and core — never another service. They reach
other services only through `Dispatcher.call` and `Dispatcher.enqueue`. `app.py` builds and registers
them.
"""
