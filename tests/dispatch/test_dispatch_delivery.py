"""Durable deliveries: a real Store in tmp_path, a FakeClock, and `run_due` to drive the loop."""

from __future__ import annotations

import asyncio
import datetime
import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from overcast.core.clock import FakeClock
from overcast.core.context import RequestContext
from overcast.core.errors import ServiceError
from overcast.dispatch import (
    Dispatcher,
    GiveUp,
    OperationTable,
    RetryLater,
    RetryPolicy,
    Target,
)
from overcast.dispatch.dispatcher import UNROUTABLE_RETRY
from overcast.store import Database, Store

CTX = RequestContext(request_id="req-1", account_id="111111111111", region="eu-west-1")
OTHER = RequestContext(request_id="req-2", account_id="222222222222", region="eu-west-1")
WORK = Target("handler", "test.work")
DLQ = Target("handler", "test.dlq")


class Boom(ServiceError):
    code = "BoomException"


@dataclass
class Recorder:
    """A handler that records each call and raises the next planned error, if any."""

    clock: FakeClock
    errors: list[Exception] = field(default_factory=list)
    calls: list[tuple[float, RequestContext, dict[str, Any]]] = field(default_factory=list)

    async def __call__(self, ctx: RequestContext, payload: dict[str, Any]) -> None:
        self.calls.append((self.clock.now(), ctx, payload))
        if self.errors:
            raise self.errors.pop(0)

    @property
    def payloads(self) -> list[dict[str, Any]]:
        return [p for _, _, p in self.calls]


@dataclass
class Env:
    store: Store
    db: Database
    clock: FakeClock
    table: OperationTable
    dispatcher: Dispatcher
    work: Recorder
    dlq: Recorder

    def enqueue(self, payload: dict[str, Any], **kw: Any) -> int:
        kw.setdefault("ctx", CTX)
        with self.db.transaction():
            return self.dispatcher.enqueue(self.db, kw.pop("target", WORK), payload, **kw)

    def run(self) -> int:
        return asyncio.run(self.dispatcher.run_due())


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    store = Store(tmp_path, durable=False)
    clock = FakeClock()
    table = OperationTable()
    dispatcher = Dispatcher(table, store, clock, rng=random.Random(7))
    work, dlq = Recorder(clock), Recorder(clock)
    dispatcher.register_handler("test.work", work)
    dispatcher.register_handler("test.dlq", dlq)
    yield Env(store, store.open("svc"), clock, table, dispatcher, work, dlq)
    store.close()


def test_success_is_delivered_once_with_payload_and_context(env: Env) -> None:
    when = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)
    payload = {"id": 1, "body": b"\x00\xffbytes", "at": when, "nested": {"l": [1, "x", None]}}
    env.enqueue(payload)
    assert env.run() == 1
    [(_, ctx, got)] = env.work.calls
    assert got == payload
    assert (ctx.account_id, ctx.region, ctx.request_id) == (
        "111111111111",
        "eu-west-1",
        "req-1",
    )
    assert env.dispatcher.pending(env.db) == []
    env.clock.advance(3600)
    assert env.run() == 0
    assert len(env.work.calls) == 1


def test_failures_retry_with_exponential_backoff_until_success(env: Env) -> None:
    env.work.errors = [Boom("one"), Boom("two"), Boom("three")]
    policy = RetryPolicy(max_attempts=5, base_delay=2.0, max_delay=300.0)
    env.enqueue({"id": 1}, policy=policy)
    for failures in (1, 2, 3):
        before = env.clock.now()
        env.run()
        [row] = env.dispatcher.pending(env.db)
        assert row.attempts == failures
        assert row.last_error == f"BoomException: {['one', 'two', 'three'][failures - 1]}"
        # full jitter: somewhere in [0, base * 2^(n-1)] after the failure
        assert before <= row.due <= before + 2.0 * 2 ** (failures - 1)
        if row.due > before:
            env.clock.advance((row.due - before) / 2)
            assert env.run() == 0  # not before it is due
        env.clock.advance(row.due - env.clock.now())
    env.run()
    attempt_times = [t for t, _, _ in env.work.calls]
    assert len(attempt_times) == 4
    assert attempt_times == sorted(attempt_times)
    assert env.dispatcher.pending(env.db) == []
    assert env.dlq.calls == []


@pytest.mark.parametrize(
    ("failures", "base", "cap", "bound"),
    [(1, 1.0, 300.0, 1.0), (2, 1.0, 300.0, 2.0), (5, 1.0, 300.0, 16.0), (12, 1.0, 300.0, 300.0)],
)
def test_backoff_is_full_jitter_under_the_exponential_cap(
    failures: int, base: float, cap: float, bound: float
) -> None:
    rng = random.Random(1)
    policy = RetryPolicy(base_delay=base, max_delay=cap)
    waits = [policy.backoff(failures, rng) for _ in range(500)]
    assert all(0.0 <= w <= bound for w in waits)
    assert max(waits) > bound * 0.9 and min(waits) < bound * 0.1


def test_max_attempts_sends_a_dead_letter_with_the_error(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    env.work.errors = [Boom("first"), Boom("last straw")]
    env.enqueue({"id": 7, "b": b"raw"}, policy=RetryPolicy(max_attempts=2), on_failure=DLQ)
    with caplog.at_level(logging.WARNING, logger="overcast.dispatch"):
        env.run()
        env.clock.advance(10)
        env.run()  # second failure, then the dead letter in the same call
    assert len(env.work.calls) == 2
    [(_, ctx, dead)] = env.dlq.calls
    assert dead == {
        "payload": {"id": 7, "b": b"raw"},
        "error": {"type": "BoomException", "message": "last straw"},
        "attempts": 2,
        "target": {"kind": "handler", "name": "test.work", "operation": ""},
    }
    assert (ctx.account_id, ctx.request_id) == ("111111111111", "req-1")
    assert env.dispatcher.pending(env.db) == []
    messages = [r.getMessage() for r in caplog.records]
    assert any("attempt 1 of 2" in m and "handler:test.work" in m for m in messages)
    assert any("sent to handler:test.dlq" in m for m in messages)


def test_exhausted_without_failure_target_is_dropped_loudly(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    env.work.errors = [RuntimeError("kaput")]
    env.enqueue({"id": 3}, policy=RetryPolicy(max_attempts=1))
    with caplog.at_level(logging.ERROR, logger="overcast.dispatch"):
        env.run()
    assert env.dispatcher.pending(env.db) == []
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "DROPPED" in record.getMessage() and "RuntimeError: kaput" in record.getMessage()
    assert record.exc_info is not None  # an unexpected error keeps its traceback


def test_give_up_goes_to_the_failure_target_at_once(env: Env) -> None:
    env.work.errors = [GiveUp("function deleted")]
    env.enqueue({"id": 1}, policy=RetryPolicy(max_attempts=10), on_failure=DLQ)
    env.run()
    assert len(env.work.calls) == 1
    [dead] = env.dlq.payloads
    assert dead["attempts"] == 1
    assert dead["error"] == {"type": "GiveUp", "message": "function deleted"}


def test_a_retry_past_the_maximum_age_is_not_scheduled(env: Env) -> None:
    env.work.errors = [Boom("no")]
    env.enqueue({"id": 1}, policy=RetryPolicy(max_attempts=10, max_age_seconds=0), on_failure=DLQ)
    env.run()
    [dead] = env.dlq.payloads
    assert dead["attempts"] == 1


def test_retry_later_does_not_count_but_ages(env: Env) -> None:
    env.work.errors = [RetryLater(10), RetryLater(10)]
    policy = RetryPolicy(max_attempts=1, max_age_seconds=15)
    env.enqueue({"id": 1}, policy=policy, on_failure=DLQ)
    env.run()
    [row] = env.dispatcher.pending(env.db)
    assert (row.attempts, row.due) == (0, env.clock.now() + 10)  # max_attempts=1 not used up
    env.clock.advance(9)
    assert env.run() == 0
    env.clock.advance(1)
    env.run()  # asks for t+20, past the 15 s maximum age: dead letter
    [dead] = env.dlq.payloads
    assert dead["attempts"] == 0 and dead["error"]["type"] == "RetryLater"


def test_a_timer_fires_when_due_and_ages_from_then(env: Env) -> None:
    start = env.clock.now()
    env.enqueue({"timer": 1}, delay=100, policy=RetryPolicy(max_age_seconds=50, base_delay=1))
    env.enqueue({"now": 1})
    env.run()
    assert env.work.payloads == [{"now": 1}]
    env.work.errors = [Boom("once")]
    env.clock.advance(99.9)
    assert env.run() == 0
    env.clock.advance(0.1)
    env.run()  # fails once; its age counts from t+100, so the retry is still allowed
    [row] = env.dispatcher.pending(env.db)
    assert row.first_due == start + 100 and row.attempts == 1
    env.clock.advance(row.due - env.clock.now())
    env.run()
    assert [t - start for t, _, p in env.work.calls if "timer" in p] == [100, row.due - start]
    assert env.dispatcher.pending(env.db) == []


def test_dedup_key_keeps_one_pending_delivery_per_account_and_region(env: Env) -> None:
    first = env.enqueue({"v": 1}, dedup_key="k", delay=5)
    assert env.enqueue({"v": 2}, dedup_key="k", delay=1) == first
    other = env.enqueue({"v": 3}, dedup_key="k", ctx=OTHER)
    assert other != first
    env.clock.advance(5)
    env.run()
    assert sorted(p["v"] for p in env.work.payloads) == [1, 3]
    again = env.enqueue({"v": 4}, dedup_key="k")  # the key is free once delivered
    assert again not in (first, other)
    env.run()
    assert [p["v"] for p in env.work.payloads][-1] == 4


def test_cancel_by_id_and_by_dedup_key(env: Env) -> None:
    by_id = env.enqueue({"v": 1}, delay=10)
    env.enqueue({"v": 2}, delay=10, dedup_key="timer")
    env.enqueue({"v": 3}, delay=10, dedup_key="timer", ctx=OTHER)
    assert env.dispatcher.cancel(env.db, by_id) is True
    assert env.dispatcher.cancel(env.db, by_id) is False
    assert env.dispatcher.cancel(env.db, "timer", ctx=CTX) is True
    with pytest.raises(ValueError):
        env.dispatcher.cancel(env.db, "timer")
    env.clock.advance(10)
    env.run()
    assert env.work.payloads == [{"v": 3}]


def test_cancel_while_running_prevents_retry_and_dead_letter(env: Env) -> None:
    async def cancels_itself(ctx: RequestContext, payload: dict[str, Any]) -> None:
        assert env.dispatcher.cancel(env.db, "me", ctx=ctx)
        raise Boom("after cancel")

    env.dispatcher.register_handler("test.self_cancel", cancels_itself)
    env.enqueue({}, target=Target("handler", "test.self_cancel"), dedup_key="me", on_failure=DLQ)
    assert env.run() == 1
    assert env.dispatcher.pending(env.db) == [] and env.dlq.calls == []


def test_enqueue_outside_a_transaction_raises(env: Env) -> None:
    with pytest.raises(RuntimeError, match=r"inside db\.transaction"):
        env.dispatcher.enqueue(env.db, WORK, {"id": 1}, ctx=CTX)
    assert env.dispatcher.pending(env.db) == []


def test_rollback_of_the_callers_transaction_drops_the_delivery(env: Env) -> None:
    env.db.conn.execute("CREATE TABLE IF NOT EXISTS thing (name TEXT)")
    with pytest.raises(ZeroDivisionError), env.db.transaction() as tx:
        tx.execute("INSERT INTO thing VALUES ('x')")
        env.dispatcher.enqueue(env.db, WORK, {"id": 1}, ctx=CTX)
        _ = 1 / 0
    assert env.dispatcher.pending(env.db) == []
    assert env.db.query("SELECT * FROM thing") == []
    env.run()
    assert env.work.calls == []


class QueueProvider:
    """A tiny provider: one sync and one async operation."""

    SERVICE = "sqs"

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, str, dict[str, Any]]] = []

    def send_message(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        self.seen.append((ctx.service, ctx.operation, ctx.account_id, ctx.region, params))
        if params.get("fail"):
            raise Boom("queue is sad")
        return {"MessageId": "m-1"}

    async def purge_queue(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        self.seen.append((ctx.service, ctx.operation, ctx.account_id, ctx.region, params))
        return {}


def test_op_targets_run_through_the_operation_table(env: Env) -> None:
    provider = QueueProvider()
    env.table.register("sqs", provider)
    env.enqueue({"QueueUrl": "q", "MessageBody": "hi"}, target=Target("op", "sqs", "SendMessage"))
    env.enqueue({"QueueUrl": "q"}, target=Target("op", "sqs", "PurgeQueue"), ctx=OTHER)
    env.enqueue(
        {"fail": True},
        target=Target("op", "sqs", "SendMessage"),
        policy=RetryPolicy(max_attempts=1),
        on_failure=DLQ,
    )
    env.run()
    assert sorted(provider.seen, key=str) == sorted(
        [
            (
                "sqs",
                "SendMessage",
                "111111111111",
                "eu-west-1",
                {"QueueUrl": "q", "MessageBody": "hi"},
            ),
            ("sqs", "PurgeQueue", "222222222222", "eu-west-1", {"QueueUrl": "q"}),
            ("sqs", "SendMessage", "111111111111", "eu-west-1", {"fail": True}),
        ],
        key=str,
    )
    [dead] = env.dlq.payloads
    assert dead["target"] == {"kind": "op", "name": "sqs", "operation": "SendMessage"}
    assert dead["error"] == {"type": "BoomException", "message": "queue is sad"}


def test_unregistered_targets_wait_without_using_attempts(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    env.enqueue({"id": 1}, target=Target("handler", "later.registered"))
    env.enqueue(
        {"id": 2}, target=Target("op", "sns", "Publish"), policy=RetryPolicy(max_attempts=1)
    )
    with caplog.at_level(logging.ERROR, logger="overcast.dispatch"):
        env.run()
    assert all(r.attempts == 0 for r in env.dispatcher.pending(env.db))
    assert len(env.dispatcher.pending(env.db)) == 2
    assert any("later.registered" in r.getMessage() for r in caplog.records)
    late = Recorder(env.clock)
    env.dispatcher.register_handler("later.registered", late)
    env.clock.advance(UNROUTABLE_RETRY)
    env.run()
    assert late.payloads == [{"id": 1}]


def test_in_flight_deliveries_are_bounded(tmp_path: Path) -> None:
    store = Store(tmp_path, durable=False)
    db = store.open("svc")
    dispatcher = Dispatcher(OperationTable(), store, FakeClock(), max_in_flight=3)
    running, peak, done = 0, 0, []

    async def slow(ctx: RequestContext, payload: dict[str, Any]) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        for _ in range(5):
            await asyncio.sleep(0)
        running -= 1
        done.append(payload["i"])

    dispatcher.register_handler("slow", slow)
    with db.transaction():
        for i in range(10):
            dispatcher.enqueue(db, Target("handler", "slow"), {"i": i}, ctx=CTX)
    assert asyncio.run(dispatcher.run_due()) == 10
    assert sorted(done) == list(range(10)) and peak == 3
    store.close()


def test_databases_opened_later_are_delivered_from(env: Env) -> None:
    later = env.store.open("opened_later")
    with later.transaction():
        env.dispatcher.enqueue(later, WORK, {"from": "later"}, ctx=CTX)
    env.enqueue({"from": "svc"})
    env.run()
    assert sorted(p["from"] for p in env.work.payloads) == ["later", "svc"]


def test_the_loop_wakes_on_commit_even_from_another_thread(env: Env) -> None:
    # A poll interval of an hour: only the after-commit wake-up can get these delivered.
    dispatcher = Dispatcher(env.table, env.store, env.clock, poll_interval=3600)
    got: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def handler(ctx: RequestContext, payload: dict[str, Any]) -> None:
        await got.put(payload)

    dispatcher.register_handler("test.work", handler)

    def enqueue(i: int) -> None:
        with env.db.transaction():
            dispatcher.enqueue(env.db, WORK, {"i": i}, ctx=CTX)

    async def main() -> list[int]:
        await dispatcher.start()
        await asyncio.sleep(0)  # let the loop reach its (hour-long) sleep
        enqueue(1)
        first = await asyncio.wait_for(got.get(), 30)
        await asyncio.to_thread(enqueue, 2)
        second = await asyncio.wait_for(got.get(), 30)
        await dispatcher.stop()
        return [first["i"], second["i"]]

    assert asyncio.run(main()) == [1, 2]
    assert dispatcher.pending(env.db) == []


def test_stop_leaves_unacknowledged_deliveries_for_the_next_start(env: Env) -> None:
    blocker = asyncio.Event()

    async def hangs(ctx: RequestContext, payload: dict[str, Any]) -> None:
        blocker.set()
        await asyncio.sleep(3600)

    first = Dispatcher(env.table, env.store, env.clock, poll_interval=3600)
    first.register_handler("test.work", hangs)

    with env.db.transaction():
        first.enqueue(env.db, WORK, {"id": 1}, ctx=CTX)

    async def run_first() -> None:
        await first.start()
        await asyncio.wait_for(blocker.wait(), 30)
        await first.stop(grace=0)

    asyncio.run(run_first())
    [row] = first.pending(env.db)
    assert row.attempts == 0  # a cancelled run is not a failed attempt
    env.run()  # env.dispatcher: a fresh start delivers it again
    assert env.work.payloads == [{"id": 1}]


def test_stop_ends_the_loop_even_when_woken_at_the_same_moment(tmp_path: Path) -> None:
    """A wake-up and a stop in the same loop round: the cancellation must not be lost (it was,
    with asyncio.wait_for on Python 3.11, and stop() then waited forever)."""
    store = Store(tmp_path)

    async def main() -> bool:
        dispatcher = Dispatcher(OperationTable(), store, FakeClock())
        for _ in range(20):
            await dispatcher.start()
            await asyncio.sleep(0)  # the loop is waiting for its wake-up
            dispatcher.poke()
            stopping = asyncio.ensure_future(dispatcher.stop())
            done, _ = await asyncio.wait({stopping}, timeout=5)
            if not done:
                return False  # left hanging: not awaited, so that the test ends
        return True

    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(main()), "stop() did not end the delivery loop"
    finally:
        loop.close()
        store.close()
