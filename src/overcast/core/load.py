"""How many requests the edge has in hand: started, and not yet answered.

A hint for code below the edge that would otherwise wait for company. A group commit gathers the
writes of requests handled together, and the edge gathers their answers into one write per
round; a request with no other in hand has nobody to wait for. The edge's connections count;
everything else only reads.
"""

from __future__ import annotations


class Load:
    """The count of requests in hand (one per process: the edge's)."""

    __slots__ = ("in_hand",)

    def __init__(self) -> None:
        self.in_hand = 0

    def alone(self) -> bool:
        """Whether no request is in hand but (at most) the caller's own."""
        return self.in_hand <= 1


REQUESTS = Load()
