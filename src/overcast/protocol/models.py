"""botocore service models, loaded privately, and the per-service quirks file.

botocore customisations mutate a loaded model in place (S3's requestUri loses its `/{Bucket}`
prefix when a client is created), and a `botocore.loaders.Loader` caches the dicts it returns.
So the protocol layer owns one Loader and builds its own `ServiceModel` instances that no client
ever touches.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from botocore.loaders import Loader
from botocore.model import ServiceModel

_LOADER = Loader()
_QUIRKS_PATH = Path(__file__).with_name("quirks.json")


@functools.cache
def service_model(service: str) -> ServiceModel:
    """The botocore model of `service` (e.g. "sqs"), private to the protocol layer."""
    return ServiceModel(_LOADER.load_service_model(service, "service-2"), service_name=service)


@functools.cache
def _all_quirks() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_QUIRKS_PATH.read_text(encoding="utf-8"))
    return data


def quirks(service: str) -> dict[str, Any]:
    """The irregularities of `service` the model does not describe (see quirks.json)."""
    q: dict[str, Any] = _all_quirks().get("services", {}).get(service, {})
    return q


def protocols_of(model: ServiceModel) -> list[str]:
    """Every wire protocol the model says the service speaks, the legacy `protocol` included."""
    listed = list(model.metadata.get("protocols") or [])
    legacy = model.metadata.get("protocol")
    if legacy and legacy not in listed:
        listed.append(legacy)
    return listed
