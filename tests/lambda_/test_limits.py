"""Server-wide limits configured through the environment: the account's concurrency limit and
idle reaping of warm environments."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.lambda_.helpers import create

SLEEPY = (
    "import os, time\n"
    "def handler(event, context):\n"
    "    time.sleep(event.get('sleep', 0))\n"
    "    return os.getpid()\n"
)


@pytest.mark.slow
def test_account_concurrency_limit_and_idle_reaping(server_factory: Any, tmp_path: Path) -> None:
    srv = server_factory(
        tmp_path / "data",
        env={"OVERCAST_LAMBDA_CONCURRENCY": "1", "OVERCAST_LAMBDA_IDLE_SECONDS": "1"},
    ).start()
    lam = srv.client("lambda")
    name = create(lam, {"app.py": SLEEPY}, Timeout=5)
    first = json.loads(lam.invoke(FunctionName=name)["Payload"].read())

    # One invocation in flight uses the whole account limit: a second one is throttled. The slow
    # caller keeps trying until it holds the slot (a probe may hold it for a moment), and the probe
    # keeps trying until it meets the slow one in flight: no guessing how long a start takes.
    slow_client = srv.client("lambda")
    outcome: dict[str, Any] = {}

    def run_slow() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                outcome["result"] = slow_client.invoke(FunctionName=name, Payload=b'{"sleep": 2}')
                return
            except slow_client.exceptions.TooManyRequestsException:
                time.sleep(0.01)

    slow = threading.Thread(target=run_slow)
    slow.start()
    throttled = None
    deadline = time.monotonic() + 20
    while throttled is None and time.monotonic() < deadline and slow.is_alive():
        try:
            lam.invoke(FunctionName=name)
        except lam.exceptions.TooManyRequestsException as err:
            throttled = err
        else:
            time.sleep(0.1)
    slow.join()
    assert throttled is not None, "no invocation was throttled while another was in flight"
    assert throttled.response["Reason"] == "ConcurrentInvocationLimitExceeded"
    assert outcome["result"]["StatusCode"] == 200

    # Idle for longer than OVERCAST_LAMBDA_IDLE_SECONDS: the environment is reaped.
    time.sleep(3)
    again = json.loads(lam.invoke(FunctionName=name)["Payload"].read())
    assert again != first
