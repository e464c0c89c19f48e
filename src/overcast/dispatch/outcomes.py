"""What happens to an outbox row after an attempt that did not succeed.

A counted failure is rescheduled with backoff until the policy runs out (attempts or event age);
then, in one transaction, the row is replaced by a delivery of a dead letter to its failure
target, or dropped with an error in the log. Nothing here is ever silent.
"""

from __future__ import annotations

import logging
import random

from overcast.core.errors import ServiceError
from overcast.dispatch import outbox
from overcast.dispatch.records import Delivery, GiveUp, RetryLater, RetryPolicy
from overcast.store import Database

log = logging.getLogger("overcast.dispatch")


class Unroutable(Exception):
    """No handler or provider is registered under the target's name."""


def _expired(d: Delivery, at: float) -> bool:
    return at > d.first_due + d.policy.max_age_seconds


def defer(db: Database, d: Delivery, err: Exception, now: float, delay: float) -> None:
    """Retry after `delay` without counting an attempt (the maximum event age still applies)."""
    at = now + delay
    if _expired(d, at):
        give_up(db, d, err, d.attempts, "maximum event age reached", now)
        return
    with db.transaction() as conn:
        outbox.reschedule(conn, d.id, attempts=d.attempts, due=at, error=_describe(err))


def failed(db: Database, d: Delivery, err: Exception, now: float, rng: random.Random) -> None:
    """Count a failed attempt: reschedule it with backoff, or give up."""
    attempts = d.attempts + 1
    if isinstance(err, GiveUp):
        give_up(db, d, err, attempts, "the target gave up", now)
        return
    if attempts >= d.policy.max_attempts:
        give_up(db, d, err, attempts, "maximum attempts reached", now)
        return
    wait = d.policy.backoff(attempts, rng)
    at = now + wait
    if _expired(d, at):
        give_up(db, d, err, attempts, "maximum event age reached", now)
        return
    log.warning(
        "dispatch: delivery %d to %s failed (attempt %d of %d), retrying in %.2fs: %s",
        d.id,
        d.target,
        attempts,
        d.policy.max_attempts,
        wait,
        _describe(err),
        exc_info=_unexpected(err),
    )
    with db.transaction() as conn:
        outbox.reschedule(conn, d.id, attempts=attempts, due=at, error=_describe(err))


def give_up(db: Database, d: Delivery, err: Exception, attempts: int, why: str, now: float) -> None:
    """Replace the row by a delivery to its failure target, in one transaction; with no
    failure target, drop it and say so."""
    with db.transaction() as conn:
        if not outbox.delete(conn, d.id):
            return  # cancelled while it ran
        if d.on_failure is None:
            log.error(
                "dispatch: DROPPED delivery %d to %s after %d attempt(s) (%s), no failure "
                "target: %s; payload=%r",
                d.id,
                d.target,
                attempts,
                why,
                _describe(err),
                _clip(repr(d.payload)),
                exc_info=_unexpected(err),
            )
            return
        dead_letter = {
            "payload": d.payload,
            "error": _error_dict(err),
            "attempts": attempts,
            "target": d.target.to_json(),
        }
        # The failure target gets a fresh default policy: a caller that allowed one attempt
        # for the original did not mean one attempt for its dead letter.
        new_id, _ = outbox.insert(
            conn,
            account_id=d.account_id,
            region=d.region,
            request_id=d.request_id,
            endpoint=d.endpoint,
            target=d.on_failure,
            payload=dead_letter,
            policy=RetryPolicy(),
            on_failure=None,
            now=now,
            due=now,
            dedup_key=None,
        )
    log.warning(
        "dispatch: delivery %d to %s failed after %d attempt(s) (%s): %s; sent to %s as %d",
        d.id,
        d.target,
        attempts,
        why,
        _describe(err),
        d.on_failure,
        new_id,
        exc_info=_unexpected(err),
    )


def _error_dict(err: Exception) -> dict[str, str]:
    if isinstance(err, ServiceError):
        return {"type": err.code, "message": err.message}
    return {"type": type(err).__name__, "message": str(err)}


def _describe(err: Exception) -> str:
    e = _error_dict(err)
    return f"{e['type']}: {e['message']}"


def _clip(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


def _unexpected(err: Exception) -> bool:
    """Whether a traceback helps: not for errors a target reports on purpose."""
    return not isinstance(err, ServiceError | RetryLater | GiveUp | Unroutable)
