"""Asynchronous invocation on the durable dispatch: retries, destinations, restarts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.lambda_.helpers import create, log_messages, wait_for

FAILING = "def handler(event, context):\n    print('attempt', event.get('id'))\n    raise RuntimeError('always fails')\n"
OK = "def handler(event, context):\n    print('ran', event.get('id'))\n    return {'done': event.get('id')}\n"
RECORDER = "import json\ndef handler(event, context):\n    print('RECORD ' + json.dumps(event))\n"


def records(logs: Any, name: str) -> list[dict[str, Any]]:
    return [
        json.loads(m.split("RECORD ", 1)[1])
        for m in log_messages(logs, f"/aws/lambda/{name}", "RECORD")
    ]


def test_event_invoke_success_destination(client: Any) -> None:
    lam, logs = client("lambda"), client("logs")
    recorder = create(lam, {"app.py": RECORDER})
    name = create(lam, {"app.py": OK})
    dest = lam.get_function(FunctionName=recorder)["Configuration"]["FunctionArn"]
    lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": dest}}
    )
    resp = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"id": "s1"}')
    assert resp["StatusCode"] == 202
    [record] = wait_for(lambda: records(logs, recorder))
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestPayload"] == {"id": "s1"}
    assert record["responsePayload"] == {"done": "s1"}
    assert record["responseContext"]["statusCode"] == 200


def test_event_invoke_retries_then_failure_destination(client: Any) -> None:
    lam, logs = client("lambda"), client("logs")
    recorder = create(lam, {"app.py": RECORDER})
    name = create(lam, {"app.py": FAILING})
    dest = lam.get_function(FunctionName=recorder)["Configuration"]["FunctionArn"]
    lam.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": dest}},
    )
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"id": "f1"}')
    [record] = wait_for(lambda: records(logs, recorder), timeout=30)
    ctx = record["requestContext"]
    assert ctx["condition"] == "RetriesExhausted"
    assert ctx["approximateInvokeCount"] == 2
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "always fails"
    attempts = log_messages(logs, f"/aws/lambda/{name}", '"attempt f1"')
    assert len(attempts) == 2  # the first try and one retry


@pytest.mark.slow
def test_queued_event_survives_sigkill(server_factory: Any, tmp_path: Path) -> None:
    srv = server_factory(tmp_path / "data").start()
    lam, logs = srv.client("lambda"), srv.client("logs")
    name = create(lam, {"app.py": OK})
    # Throttled: the event waits in the durable outbox.
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    assert (
        lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"id": "kept"}')[
            "StatusCode"
        ]
        == 202
    )
    srv.kill()
    srv.start()
    lam, logs = srv.client("lambda"), srv.client("logs")
    lam.delete_function_concurrency(FunctionName=name)
    assert wait_for(lambda: log_messages(logs, f"/aws/lambda/{name}", '"ran kept"'), timeout=30)
