"""The vocabulary of durable deliveries: targets, retry policies, outbox rows, handler signals."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a delivery is retried: attempts in all (first included), event age, backoff.

    The event age counts from the moment the delivery was first due (enqueue time + delay), so a
    long timer does not expire before it fires. Every delivery gets at least one attempt; after a
    failure, a retry is scheduled only if it would start within `max_age_seconds`.
    """

    max_attempts: int = 3
    max_age_seconds: float = 6 * 3600
    base_delay: float = 1.0
    max_delay: float = 300.0

    def backoff(self, failures: int, rng: random.Random) -> float:
        """Seconds to wait after the `failures`-th failed attempt: exponential with full jitter."""
        cap = min(self.max_delay, self.base_delay * 2 ** max(failures - 1, 0))
        return rng.uniform(0.0, cap)

    def to_json(self) -> dict[str, float]:
        return {
            "max_attempts": self.max_attempts,
            "max_age_seconds": self.max_age_seconds,
            "base_delay": self.base_delay,
            "max_delay": self.max_delay,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RetryPolicy:
        return cls(
            max_attempts=int(d["max_attempts"]),
            max_age_seconds=float(d["max_age_seconds"]),
            base_delay=float(d["base_delay"]),
            max_delay=float(d["max_delay"]),
        )


@dataclass(frozen=True, slots=True)
class Target:
    """Where a delivery goes: an operation of a service (`kind="op"`, `name="sqs"`,
    `operation="SendMessage"`), or a handler that a service registered by name (`kind="handler"`,
    `name="lambda.async_invoke"`)."""

    kind: str
    name: str
    operation: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("op", "handler"):
            raise ValueError(f"unknown target kind {self.kind!r} (expected 'op' or 'handler')")
        if self.kind == "op" and not self.operation:
            raise ValueError("an 'op' target needs an operation")

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "operation": self.operation}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Target:
        return cls(kind=d["kind"], name=d["name"], operation=d.get("operation", ""))

    def __str__(self) -> str:
        return f"{self.name}.{self.operation}" if self.kind == "op" else f"handler:{self.name}"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One pending row of a database's `_outbox`."""

    id: int
    account_id: str
    region: str
    request_id: str
    endpoint: str
    target: Target
    payload: dict[str, Any]
    policy: RetryPolicy
    on_failure: Target | None
    created: float  # when it was enqueued
    first_due: float  # when it first became due; the event age counts from here
    due: float  # when it is next due
    attempts: int  # failed attempts so far (RetryLater does not count)
    last_error: str | None
    dedup_key: str | None


class RetryLater(Exception):
    """Raised by a handler that cannot take the delivery now (throttled, not ready): retry after
    `delay` seconds. It does not count as an attempt (as AWS retries a throttled asynchronous
    invocation), but the policy's maximum event age still applies."""

    def __init__(self, delay: float, message: str = "retry later") -> None:
        super().__init__(message)
        self.delay = max(0.0, delay)


class GiveUp(Exception):
    """Raised by a handler when retrying cannot help (the target no longer exists): the delivery
    goes to its failure target at once, without further attempts."""
