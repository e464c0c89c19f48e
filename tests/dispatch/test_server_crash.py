"""The durable dispatch inside a whole Overcast server: SIGKILL it with asynchronous invocations
both acknowledged and still pending; after a restart every pending one runs, and none that was
acknowledged runs again."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.lambda_.helpers import create, log_messages, wait_for

RECORD = "def handler(event, context):\n    print('ran', event['id'])\n"


def ran(logs: Any, name: str) -> Counter[str]:
    """How many times each event id ran, from the function's log group."""
    lines = log_messages(logs, f"/aws/lambda/{name}", '"ran"')
    return Counter(line.split()[-1] for line in lines if line.startswith("ran "))


@pytest.mark.slow
def test_sigkill_with_acknowledged_and_pending_deliveries(
    server_factory: Any, tmp_path: Path
) -> None:
    srv = server_factory(tmp_path / "data").start()
    lam, logs = srv.client("lambda"), srv.client("logs")
    name = create(lam, {"app.py": RECORD})

    done = [f"done-{i}" for i in range(5)]
    for event_id in done:
        lam.invoke(FunctionName=name, InvocationType="Event", Payload=f'{{"id": "{event_id}"}}')
    wait_for(lambda: set(ran(logs, name)) >= set(done), timeout=30)
    time.sleep(1.0)  # past the acknowledgement of the last one

    # Throttled to zero: these wait in the durable outbox, retried on a timer.
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    pending = [f"pending-{i}" for i in range(5)]
    for event_id in pending:
        resp = lam.invoke(
            FunctionName=name, InvocationType="Event", Payload=f'{{"id": "{event_id}"}}'
        )
        assert resp["StatusCode"] == 202

    srv.kill()
    srv.start()
    lam, logs = srv.client("lambda"), srv.client("logs")
    lam.delete_function_concurrency(FunctionName=name)

    counts = wait_for(
        lambda: (c := ran(logs, name)) and set(c) >= set(done + pending) and c, timeout=60
    )
    time.sleep(1.5)  # give a wrongly repeated delivery the chance to show
    counts = ran(logs, name)
    assert all(counts[event_id] == 1 for event_id in done), counts
    assert all(counts[event_id] >= 1 for event_id in pending), counts
