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

    # One invocation in flight uses the whole account limit: a second one is throttled.
    slow = threading.Thread(
        target=lambda: srv.client("lambda").invoke(FunctionName=name, Payload=b'{"sleep": 1.5}')
    )
    slow.start()
    time.sleep(0.5)
    with pytest.raises(lam.exceptions.TooManyRequestsException) as err:
        lam.invoke(FunctionName=name)
    assert err.value.response["Reason"] == "ConcurrentInvocationLimitExceeded"
    slow.join()

    # Idle for longer than OVERCAST_LAMBDA_IDLE_SECONDS: the environment is reaped.
    time.sleep(3)
    again = json.loads(lam.invoke(FunctionName=name)["Payload"].read())
    assert again != first
