"""`overcast up` and `overcast status`, the health endpoint, errors for what is not built yet."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest
from botocore.exceptions import ClientError


def test_health_lists_every_service(server) -> None:
    with urllib.request.urlopen(server.url + "/_overcast/health") as resp:
        health = json.loads(resp.read())
    assert health["version"]
    assert health["services"]["sts"] == "running"
    assert set(health["services"]) >= {"lambda", "s3", "dynamodb", "sqs", "stepfunctions", "xray"}


def test_status_command_prints_services(server) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "overcast", "status", "--endpoint", server.url],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "120"},
    )
    assert "sts" in out.stdout and "running" in out.stdout


def test_status_when_not_running() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "overcast", "status", "--endpoint", "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    assert "not reachable" in out.stdout


def test_request_log_line_and_clean_shutdown(server_factory) -> None:
    srv = server_factory().start()
    srv.client("sts").get_caller_identity()
    assert srv.proc is not None
    srv.proc.send_signal(signal.SIGINT)
    assert srv.proc.wait(20) == 0
    assert "sts GetCallerIdentity 200" in srv.log()


def test_environment_variables_configure_up(tmp_path) -> None:
    from tests.conftest import free_port, wait_for

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "overcast", "up", "--quiet"],
        env={
            **os.environ,
            "OVERCAST_PORT": str(port),
            "OVERCAST_DATA_DIR": str(tmp_path / "env-dir"),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/_overcast/health")
        assert (tmp_path / "env-dir" / "sts.db").is_file()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0


@pytest.mark.parametrize(
    ("service", "call"),
    [("sqs", lambda c: c.list_queues()), ("stepfunctions", lambda c: c.list_state_machines())],
)
def test_unimplemented_service_answers_501(client, service, call) -> None:
    with pytest.raises(ClientError) as err:
        call(client(service))
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert service in err.value.response["Error"]["Message"]


def test_settings_defaults_without_environment(monkeypatch) -> None:
    from overcast.app import Settings

    for name in ("OVERCAST_HOST", "OVERCAST_PORT", "OVERCAST_DATA_DIR", "OVERCAST_STRICT_AUTH"):
        monkeypatch.delenv(name, raising=False)
    s = Settings.from_env()
    assert (s.host, s.port, s.data_dir, s.strict_auth) == ("127.0.0.1", 4566, ".overcast", False)
    assert Settings.from_env(host="0.0.0.0").strict_auth is True
