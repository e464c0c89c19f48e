"""The edge: the one ASGI app every client talks to.

A request flows through `Edge.PIPELINE` (detect service → authenticate → decode body → parse →
call provider → serialize), or, for addresses that are not AWS APIs, to a data plane (Overcast's own
`/_overcast/` endpoints, API Gateway stages, function URLs). Providers reach the edge only through
the `OperationTable` and data-plane callables that `app.py` hands it.
"""

from overcast.edge.app import Edge, EdgeConfig

__all__ = ["Edge", "EdgeConfig"]
