"""Small facts about botocore shapes that every codec needs."""

from __future__ import annotations

from botocore.model import Shape

ShapeKey = tuple[str, tuple[tuple[str, str], ...]]


def shape_key(shape: Shape) -> ShapeKey:
    """A cache key for compiled converters: the shape name plus the serialization traits its
    reference adds (a member may mark a shared list `flattened`, or give a timestampFormat); the
    member's own wire name is left out because the parent applies it."""
    traits = tuple(sorted((k, repr(v)) for k, v in shape.serialization.items() if k != "name"))
    return (shape.name, traits)
