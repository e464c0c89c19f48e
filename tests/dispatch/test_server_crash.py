"""The durable dispatch inside a whole Overcast server: SIGKILL it with asynchronous invocations
both acknowledged and still pending; after a restart every pending one runs, and none that was
acknowledged runs again."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.lambda_.helpers import create, log_messages, wait_for

RECORD = "def handler(event, context):\n    print('ran', event['id'])\n"


def _outbox_rows(data: Path) -> int:
    """Deliveries still in the Lambda database's outbox (WAL: a reader never blocks the server)."""
    conn = sqlite3.connect(f"file:{data / 'lambda.db'}?mode=ro", uri=True, timeout=10)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM _outbox").fetchone()[0])
    finally:
        conn.close()


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
    # Past the acknowledgement of the last one: its outbox row is gone (read from the side).
    wait_for(lambda: _outbox_rows(tmp_path / "data") == 0, timeout=30)

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
