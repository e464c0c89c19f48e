"""Fixtures: a real Overcast server on a free port with a fresh data directory, and clients for it.

- `server`: one server per test session (per xdist worker); use it unless a test needs its own.
- `server_factory`: start (and restart, and SIGKILL) servers of your own, e.g. for crash tests.
- `client("sqs")`: a boto3 client pointed at `server`.
- `aws(...)`: run the aws CLI against `server`, returning the CompletedProcess.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def wait_for(url: str, timeout: float = 30.0) -> None:
    """Wait until `url` answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer in {timeout}s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running `overcast up` process."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    extra_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Server:
        self.log_path = self.data_dir.parent / f"server-{self.port}.log"
        env = {**os.environ, **self.env}
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "overcast", "up", "--port", str(self.port),
                 "--data-dir", str(self.data_dir), *self.extra_args],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"overcast exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/_overcast/health", timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"overcast did not start in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self) -> int | None:
        """Stop cleanly (SIGTERM) and return the exit code."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def kill(self) -> None:
        """SIGKILL: no chance to flush or clean up."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def client(self, service: str, **kwargs: Any) -> Any:
        return make_client(self.url, service, **kwargs)


def make_client(url: str, service: str, **kwargs: Any) -> Any:
    config = kwargs.pop("config", None) or Config(retries={"max_attempts": 1})
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=kwargs.pop("region_name", "us-east-1"),
        aws_access_key_id=kwargs.pop("aws_access_key_id", "test"),
        aws_secret_access_key=kwargs.pop("aws_secret_access_key", "test"),
        config=config,
        **kwargs,
    )


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("overcast") / "data").start()
    yield srv
    srv.stop()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def make(data_dir: Path | None = None, **kwargs: Any) -> Server:
        srv = Server(data_dir or (tmp_path / "data"), **kwargs)
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture
def client(server: Server) -> Callable[..., Any]:
    def make(service: str, **kwargs: Any) -> Any:
        return server.client(service, **kwargs)

    return make


@pytest.fixture
def aws(server: Server) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `aws --endpoint-url <server> ARGS...` with test credentials."""

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_PAGER": "",
        }
        return subprocess.run(
            [str(BIN / "aws"), "--endpoint-url", server.url, *args],
            capture_output=True,
            text=True,
            env=env,
            check=check,
            timeout=120,
        )

    return run
