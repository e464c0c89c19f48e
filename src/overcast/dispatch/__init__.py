"""How services reach each other, without importing each other.

- `OperationTable` maps (service, operation) to the provider method that implements it. The edge
  and `Dispatcher.call` both resolve operations through it, so an internal call runs exactly the
  code an outside request would.
- `Dispatcher.enqueue(db, ...)` writes a durable, at-least-once delivery into the calling service's
  own `_outbox` table inside the caller's open transaction; the delivery loop carries it out with
  retries (exponential backoff with jitter, maximum attempts, maximum event age) and hands what
  finally fails to a dead-letter target. A delivery with a delay is a durable timer.
- A target is an operation (`Target("op", service, Operation)`, run through `call`) or a named
  handler a service registered (`register_handler(name, fn)`), which may raise `RetryLater`
  (retry after a delay, uncounted) or `GiveUp` (dead-letter now). Rows live in `outbox.py`'s
  table; the loop deletes a row only once its target succeeded (at-least-once).

Knows no service's internals: providers are registered by `app.py`.
"""

from overcast.dispatch.dispatcher import Dispatcher, Handler
from overcast.dispatch.records import Delivery, GiveUp, RetryLater, RetryPolicy, Target
from overcast.dispatch.table import OperationTable, op_method_name

__all__ = [
    "Delivery",
    "Dispatcher",
    "GiveUp",
    "Handler",
    "OperationTable",
    "RetryLater",
    "RetryPolicy",
    "Target",
    "op_method_name",
]
