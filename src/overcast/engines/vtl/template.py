"""Compiled-template cache: a template's source parsed once, reused for every request."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from overcast.engines.vtl.evaluator import Evaluator
from overcast.engines.vtl.parser import parse


@lru_cache(maxsize=1024)
def _compiled(src: str) -> tuple[Any, ...]:
    return tuple(parse(src))


def compile_template(src: str) -> list[Any]:
    """The parsed node list of `src` (cached by source text)."""
    return list(_compiled(src))


def render(src: str, variables: dict[str, Any]) -> str:
    """Render a VTL template with the given root variables."""
    return Evaluator(variables).run(compile_template(src))
