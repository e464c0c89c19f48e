"""Memo: a dict of values derived from text that clients repeat request after request (signature
heads, credential scopes, host names, header names), kept bounded by emptying it when full."""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Memo(dict[K, V]):
    """Read it as a dict (`get` stays the C method); add entries with `remember`."""

    __slots__ = ("limit",)

    def __init__(self, limit: int = 1024) -> None:
        super().__init__()
        self.limit = limit

    def remember(self, key: K, value: V) -> V:
        """Keep `value` for `key` (emptying the memo first when it is full); returns `value`."""
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value
