"""Memo: remembered values are read back as from a dict, and a full memo starts over."""

from __future__ import annotations

from overcast.core.memo import Memo


def test_a_memo_remembers_and_starts_over_when_full() -> None:
    memo: Memo[str, int] = Memo(limit=3)
    assert memo.remember("a", 1) == 1
    memo.remember("b", 2)
    memo.remember("c", 3)
    assert memo.get("a") == 1 and len(memo) == 3
    assert memo.remember("d", 4) == 4  # full: emptied first
    assert dict(memo) == {"d": 4}
    assert memo.get("a") is None
