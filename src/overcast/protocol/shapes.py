"""Small facts about botocore shapes that every codec needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from botocore.model import Shape

F = TypeVar("F", bound=Callable[..., Any])

ShapeKey = tuple[str, tuple[tuple[str, str], ...]]


def shape_key(shape: Shape) -> ShapeKey:
    """A cache key for compiled converters: the shape name plus the serialization traits its
    reference adds (a member may mark a shared list `flattened`, or give a timestampFormat); the
    member's own wire name is left out because the parent applies it."""
    traits = tuple(sorted((k, repr(v)) for k, v in shape.serialization.items() if k != "name"))
    return (shape.name, traits)


def compiled(
    cache: dict[ShapeKey, F],
    shape: Shape,
    build: Callable[[Shape], F],
    on_stand_in: Callable[[F], None] | None = None,
) -> F:
    """The function `build(shape)` makes, made once per shape key. While a recursive shape is
    being built, references to itself get a stand-in that calls the finished function
    (`on_stand_in` is told of it, for callers that later swap stand-ins out)."""
    key = shape_key(shape)
    found = cache.get(key)
    if found is not None:
        return found
    cell: list[F] = []

    def stand_in(*args: Any) -> Any:
        return cell[0](*args)

    cache[key] = stand_in  # type: ignore[assignment]
    if on_stand_in is not None:
        on_stand_in(stand_in)  # type: ignore[arg-type]
    built = build(shape)
    cell.append(built)
    cache[key] = built
    return built
