"""`overcast invoke` and `overcast logs` against a running server."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from tests.lambda_.helpers import create, log_messages, wait_for


def overcast(server: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OVERCAST_ENDPOINT": server.url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    return subprocess.run(
        [sys.executable, "-m", "overcast", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_invoke_and_logs_commands(server: Any, client: Any) -> None:
    lam, logs = client("lambda"), client("logs")
    code = "def handler(event, context):\n    print('cli says', event['n'])\n    return {'double': event['n'] * 2}\n"
    name = create(lam, {"app.py": code})
    out = overcast(server, "invoke", name, "--payload", '{"n": 21}')
    assert out.returncode == 0, out.stderr
    assert '"double": 42' in out.stdout
    assert "REPORT RequestId:" in out.stderr and "Billed Duration:" in out.stderr
    wait_for(lambda: log_messages(logs, f"/aws/lambda/{name}", "REPORT"))
    shown = overcast(server, "logs", name)
    assert shown.returncode == 0, shown.stderr
    assert "cli says 21" in shown.stdout
    assert "START RequestId:" in shown.stdout and "REPORT RequestId:" in shown.stdout
    missing = overcast(server, "invoke", "no-such-fn-cli")
    assert missing.returncode != 0 and "ResourceNotFoundException" in missing.stderr


def test_logs_follow_shows_new_invocations(server: Any, client: Any) -> None:
    lam = client("lambda")
    code = "def handler(event, context):\n    print('followed', event['n'])\n    return 1\n"
    name = create(lam, {"app.py": code})
    env = {
        **os.environ,
        "OVERCAST_ENDPOINT": server.url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "overcast", "logs", name, "--follow"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        lam.invoke(FunctionName=name, Payload=b'{"n": 7}')
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if "REPORT RequestId:" in line:
                break
        assert any("followed 7" in line for line in seen)
    finally:
        proc.terminate()
        proc.wait(10)


def test_aws_cli_lambda(aws: Any, tmp_path: Any) -> None:
    import json

    from tests.lambda_.helpers import ROLE, make_zip, unique

    zip_path = tmp_path / "fn.zip"
    zip_path.write_bytes(make_zip({"app.py": "def handler(e, c):\n    return {'cli': e}\n"}))
    name = unique("cli")
    aws(
        "lambda",
        "create-function",
        "--function-name",
        name,
        "--runtime",
        "python3.11",
        "--handler",
        "app.handler",
        "--role",
        ROLE,
        "--zip-file",
        f"fileb://{zip_path}",
    )
    aws("lambda", "wait", "function-active-v2", "--function-name", name)
    out_file = tmp_path / "out.json"
    res = aws("lambda", "invoke", "--function-name", name, "--payload", '{"x": 1}', str(out_file))
    assert json.loads(res.stdout)["StatusCode"] == 200
    assert json.loads(out_file.read_text()) == {"cli": {"x": 1}}
    got = json.loads(aws("lambda", "get-function", "--function-name", name).stdout)
    assert got["Configuration"]["Runtime"] == "python3.11"
    listed = json.loads(aws("lambda", "list-functions").stdout)
    assert name in [f["FunctionName"] for f in listed["Functions"]]
