"""Invoking Python functions through boto3: results, errors, timeouts, limits, context, logs."""

from __future__ import annotations

import base64
import json
import os
import signal
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.lambda_.helpers import create, log_messages, wait_for

PY = """
import json, os, time

COUNT = {"n": 0}

def handler(event, context):
    COUNT["n"] += 1
    action = event.get("action")
    print("event", json.dumps(event))
    if action == "fail":
        raise ValueError("it broke")
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "alloc":
        blob = bytearray(event["mb"] * 1024 * 1024)
        blob[::4096] = b"x" * len(blob[::4096])
    if action == "big":
        return "x" * (7 * 1024 * 1024)
    if action == "write_tmp":
        import tempfile
        path = os.path.join(tempfile.gettempdir(), event["file"])
        open(path, "w").write("hi")
        return {"path": path, "exists": os.path.exists(path)}
    if action == "check":
        return {"exists": os.path.exists(event["path"])}
    cc = context.client_context
    return {
        "pid": os.getpid(),
        "count": COUNT["n"],
        "env": {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "LAMBDA_", "_HANDLER", "TZ", "MY_"))},
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "memory": context.memory_limit_in_mb,
        "arn": context.invoked_function_arn,
        "log_group": context.log_group_name,
        "log_stream": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "custom": cc.custom if cc else None,
    }
"""


def invoke(lam: Any, name: str, event: Any = None, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), **kwargs)
    return resp, json.loads(resp["Payload"].read() or b"null")


@pytest.fixture(scope="module")
def fn(server: Any) -> str:
    lam = server.client("lambda")
    return create(
        lam,
        {"app.py": PY},
        Timeout=1,
        MemorySize=128,
        Environment={"Variables": {"MY_VAR": "hello"}},
    )


def test_result_context_and_environment(client: Any, fn: str, server: Any) -> None:
    lam = client("lambda")
    resp, out = invoke(lam, fn, {"x": 1})
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    assert resp["ExecutedVersion"] == "$LATEST"
    assert out["request_id"] == resp["ResponseMetadata"]["RequestId"]
    assert out["function_name"] == fn
    assert out["function_version"] == "$LATEST"
    assert out["memory"] == "128"
    assert out["arn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{fn}"
    assert out["log_group"] == f"/aws/lambda/{fn}"
    assert 0 < out["remaining"] <= 1000
    env = out["env"]
    assert env["MY_VAR"] == "hello"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == fn
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["_HANDLER"] == "app.handler"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["TZ"] == ":UTC"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["AWS_ENDPOINT_URL"] == server.url
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"]
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == out["log_stream"]
    assert "LAMBDA_TASK_ROOT" in env and "AWS_LAMBDA_RUNTIME_API" in env


def test_warm_reuse_same_process(client: Any, fn: str) -> None:
    lam = client("lambda")
    _, a = invoke(lam, fn)
    _, b = invoke(lam, fn)
    assert a["pid"] == b["pid"]
    assert b["count"] == a["count"] + 1


def test_client_context(client: Any, fn: str) -> None:
    cc = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    _, out = invoke(client("lambda"), fn, ClientContext=cc)
    assert out["custom"] == {"k": "v"}


def test_function_error_shape(client: Any, fn: str) -> None:
    resp, out = invoke(client("lambda"), fn, {"action": "fail"})
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorMessage"] == "it broke"
    assert out["errorType"] == "ValueError"
    assert isinstance(out["stackTrace"], list) and out["stackTrace"]
    assert "requestId" in out
    _, a = invoke(client("lambda"), fn)
    invoke(client("lambda"), fn, {"action": "fail"})
    _, c = invoke(client("lambda"), fn)  # the environment serves on after a function error
    assert a["pid"] == c["pid"] and c["count"] == a["count"] + 2


def test_timeout_kills_environment(client: Any, fn: str) -> None:
    lam = client("lambda")
    _, before = invoke(lam, fn)
    resp, out = invoke(lam, fn, {"action": "sleep", "seconds": 3})
    assert resp["FunctionError"] == "Unhandled"
    assert "Task timed out after 1.00 seconds" in out["errorMessage"]
    _, after = invoke(lam, fn)
    assert after["pid"] != before["pid"]  # a fresh environment


def test_memory_limit_kills(client: Any, fn: str) -> None:
    resp, out = invoke(client("lambda"), fn, {"action": "alloc", "mb": 400})
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Runtime.ExitError"
    assert "Runtime exited with error: signal: killed" in out["errorMessage"]


def test_private_tmp(client: Any, fn: str) -> None:
    lam = client("lambda")
    marker = f"marker-{uuid.uuid4().hex}"
    _, out = invoke(lam, fn, {"action": "write_tmp", "file": marker})
    assert out["exists"] is True
    if os.geteuid() == 0:  # a mount namespace: the function's /tmp is its own
        assert out["path"] == f"/tmp/{marker}"
        assert not os.path.exists(out["path"])
    else:  # TMPDIR points at the environment's own folder
        assert out["path"] != f"/tmp/{marker}"
    other = create(lam, {"app.py": PY})
    assert invoke(lam, other, {"action": "check", "path": out["path"]})[1]["exists"] is False
    assert invoke(lam, fn, {"action": "check", "path": out["path"]})[1]["exists"] is True


def test_log_tail(client: Any, fn: str) -> None:
    resp, _ = invoke(client("lambda"), fn, {"tail": True}, LogType="Tail")
    text = base64.b64decode(resp["LogResult"]).decode()
    assert text.startswith("START RequestId:") or "START RequestId:" in text
    assert 'event {"tail": true}' in text
    assert text.rstrip("\n").splitlines()[-1].startswith("REPORT RequestId:")
    assert "Billed Duration:" in text and "Max Memory Used:" in text


def test_logs_written_to_cloudwatch(client: Any, fn: str) -> None:
    lam, logs = client("lambda"), client("logs")
    resp, _ = invoke(lam, fn, {"marker": "findme"})
    rid = resp["ResponseMetadata"]["RequestId"]
    group = f"/aws/lambda/{fn}"
    wait_for(lambda: log_messages(logs, group, f'"{rid}"'))
    messages = log_messages(logs, group, f'"{rid}"')
    assert any(m.startswith(f"START RequestId: {rid}") for m in messages)
    assert any(m.startswith(f"END RequestId: {rid}") for m in messages)
    assert any(m.startswith(f"REPORT RequestId: {rid}") for m in messages)
    assert wait_for(lambda: log_messages(logs, group, "findme"))
    assert any("Init Duration" in m for m in log_messages(logs, group, "REPORT"))


def test_logs_come_back_after_group_deleted(client: Any, fn: str) -> None:
    lam, logs = client("lambda"), client("logs")
    group = f"/aws/lambda/{fn}"
    invoke(lam, fn, {"before": 1})
    wait_for(lambda: log_messages(logs, group, "before"))
    logs.delete_log_group(logGroupName=group)
    invoke(lam, fn, {"after": 1})
    assert wait_for(lambda: log_messages(logs, group, "after"))


def test_payload_limits(client: Any, fn: str) -> None:
    lam = client("lambda")
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName=fn, Payload=b'"' + b"x" * (6 * 1024 * 1024 + 10) + b'"')
    assert err.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    with pytest.raises(ClientError) as err:
        lam.invoke(
            FunctionName=fn, InvocationType="Event", Payload=b'"' + b"x" * (1024 * 1024 + 10) + b'"'
        )
    assert err.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    resp, out = invoke(lam, fn, {"action": "big"})
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Function.ResponseSizeTooLarge"


def test_dry_run_and_missing_function(client: Any, fn: str) -> None:
    lam = client("lambda")
    assert lam.invoke(FunctionName=fn, InvocationType="DryRun")["StatusCode"] == 204
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="no-such-function-here")


def test_init_errors(client: Any) -> None:
    lam = client("lambda")
    missing = create(lam, {"app.py": "x = 1\n"}, handler="nomodule.handler")
    resp, out = invoke(lam, missing)
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'nomodule'" in out["errorMessage"]
    nohandler = create(lam, {"app.py": "x = 1\n"}, handler="app.nothere")
    _, out = invoke(lam, nohandler)
    assert out["errorType"] == "Runtime.HandlerNotFound"
    assert out["errorMessage"] == "Handler 'nothere' missing on module 'app'"


def test_reserved_concurrency_throttles(client: Any) -> None:
    lam = client("lambda")
    name = create(lam, {"app.py": "def handler(e, c):\n    return 1\n"})
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(lam.exceptions.TooManyRequestsException) as err:
        lam.invoke(FunctionName=name)
    assert err.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    lam.delete_function_concurrency(FunctionName=name)
    assert lam.invoke(FunctionName=name)["StatusCode"] == 200


FILL_TMP = """
import errno, os

def handler(event, context):
    chunk = b"x" * (1 << 20)
    written = 0
    try:
        for i in range(event["files"]):
            with open(f"/tmp/fill-{i}", "wb") as f:
                for _ in range(event["mb_each"]):
                    f.write(chunk)  # ext4 reserves the blocks here: ENOSPC comes from write()
                    written += 1
    except OSError as exc:
        return {"written_mb": written, "errno": exc.errno == errno.ENOSPC and "ENOSPC"}
    finally:
        for i in range(event["files"]):
            if os.path.exists(f"/tmp/fill-{i}"):
                os.remove(f"/tmp/fill-{i}")
    return {"written_mb": written, "errno": None}
"""


@pytest.mark.skipif(
    os.geteuid() != 0, reason="a capped /tmp needs root (a loop-mounted filesystem)"
)
def test_ephemeral_storage_caps_tmp_as_a_whole(client: Any) -> None:
    lam = client("lambda")
    name = create(lam, {"app.py": FILL_TMP}, Timeout=60, EphemeralStorage={"Size": 512})
    # Several files, none near the size on its own: the whole of /tmp is what is capped.
    _, out = invoke(lam, name, {"files": 6, "mb_each": 100})
    assert out["errno"] == "ENOSPC"
    assert 400 <= out["written_mb"] <= 560
    # Within the size, everything fits.
    _, out = invoke(lam, name, {"files": 2, "mb_each": 50})
    assert out == {"written_mb": 100, "errno": None}


def _zygotes_of(pid: int) -> list[int]:
    """The Python zygote processes the server `pid` started."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if ppid == pid and b"python_zygote" in cmdline:
            found.append(int(entry))
    return found


@pytest.mark.skipif(
    os.geteuid() != 0, reason="a capped /tmp needs root (a loop-mounted filesystem)"
)
def test_a_lost_zygote_is_started_again(server_factory: Any) -> None:
    srv = server_factory().start()
    lam = srv.client("lambda")
    name = create(lam, {"app.py": FILL_TMP}, Timeout=60, EphemeralStorage={"Size": 512})
    assert invoke(lam, name, {"files": 1, "mb_each": 1})[1] == {"written_mb": 1, "errno": None}
    (zygote,) = _zygotes_of(srv.proc.pid)
    os.kill(zygote, signal.SIGKILL)
    time.sleep(5.5)  # the server starts a lost zygote again, at most every 5 s
    # New environments come from a new zygote again, with /tmp capped as a whole.
    lam.update_function_configuration(FunctionName=name, Timeout=61)
    wait_for(lambda: lam.get_function(FunctionName=name)["Configuration"]["LastUpdateStatus"]
             == "Successful")  # fmt: skip
    _, out = invoke(lam, name, {"files": 6, "mb_each": 100})
    assert out["errno"] == "ENOSPC"
    assert len(_zygotes_of(srv.proc.pid)) == 1
