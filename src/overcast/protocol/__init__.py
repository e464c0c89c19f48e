"""The protocol layer: AWS wire formats, generated from botocore's service models.

What flows through it: the edge hands an `HttpRequest` to `get_codec(service, protocol)`;
`codec.match(req)` names the operation (X-Amz-Target, Action=, the rest route, or the CBOR path),
`codec.parse(op, req)` gives the provider its input parameters as boto3 names them; the
provider's result goes back through `codec.serialize(op, result, ctx)`, a `ServiceError` through
`codec.serialize_error(op, err, ctx)`, each to an `HttpResponse` every SDK parses.

Imports core only (never services). Names no service: per-service irregularities live in
`quirks.json`. Each codec compiles per-operation plans once, on first use.
"""

from overcast.protocol.base import Codec
from overcast.protocol.registry import default_protocol, get_codec

__all__ = ["Codec", "default_protocol", "get_codec"]
