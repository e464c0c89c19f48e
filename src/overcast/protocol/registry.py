"""get_codec(service, protocol): one cached Codec per (service, protocol) pair."""

from __future__ import annotations

import functools

from botocore.utils import PRIORITY_ORDERED_SUPPORTED_PROTOCOLS

from overcast.protocol.base import Codec
from overcast.protocol.cbor_codec import CborCodec
from overcast.protocol.json_codec import JsonCodec
from overcast.protocol.models import protocols_of, service_model
from overcast.protocol.query_codec import QueryCodec
from overcast.protocol.rest_json import RestJsonCodec
from overcast.protocol.rest_xml import RestXmlCodec

CODECS: dict[str, type[Codec]] = {
    "json": JsonCodec,
    "rest-json": RestJsonCodec,
    "rest-xml": RestXmlCodec,
    "query": QueryCodec,
    "smithy-rpc-v2-cbor": CborCodec,
}


def default_protocol(service: str) -> str:
    """The protocol current botocore clients pick for `service` (its resolved protocol)."""
    offered = protocols_of(service_model(service))
    for protocol in PRIORITY_ORDERED_SUPPORTED_PROTOCOLS:
        if protocol in offered:
            return protocol
    return offered[0]


@functools.cache
def get_codec(service: str, protocol: str | None = None) -> Codec:
    """The codec of `service` (botocore name) for `protocol` (None: the one botocore picks).

    Any protocol the model lists works; others raise ValueError.
    """
    model = service_model(service)
    chosen = protocol or default_protocol(service)
    cls = CODECS.get(chosen)
    if cls is None:
        raise ValueError(f"protocol {chosen!r} is not supported")
    offered = protocols_of(model)
    if chosen not in offered:
        raise ValueError(f"{service} does not speak {chosen} (it offers {', '.join(offered)})")
    return cls(service, model, chosen)
