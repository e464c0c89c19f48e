"""Walking a template value: what lies inside its lists, tuples and maps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def leaves(value: Any) -> Iterator[Any]:
    """Every value inside `value` that is not a list, tuple or dict (`value` itself if it is
    none of those), depth first, in order; maps give their values."""
    if isinstance(value, list | tuple):
        for item in value:
            yield from leaves(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    else:
        yield value
