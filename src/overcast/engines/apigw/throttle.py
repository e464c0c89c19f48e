"""Token buckets for stage, method, usage-plan and route throttling (time is passed in)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class TokenBucket:
    """`rate` tokens per second refill a bucket holding at most `burst`; each request takes one."""

    rate: float
    burst: int
    tokens: float = -1.0
    updated: float = 0.0

    def take(self, now: float) -> bool:
        """Take a token at time `now`; False when the bucket is empty (→ 429)."""
        if self.tokens < 0:
            self.tokens = float(self.burst)
            self.updated = now
        else:
            self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
            self.updated = now
        if self.burst <= 0 and self.rate <= 0:
            return False
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False
