"""The records passed between the Lambda service and the runtime."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One function version's execution settings. `key` changes whenever code or configuration
    does, so warm environments of an older revision are never reused for a newer one."""

    key: str
    function_name: str
    version: str
    runtime: str
    handler: str
    code_dir: Path
    opt_dir: Path | None
    memory_mb: int
    timeout: float
    ephemeral_mb: int
    region: str
    env: dict[str, str] = field(default_factory=dict)  # user variables + credentials + endpoint
    log_group: str = ""
    account_id: str = ""
    reserved_concurrency: int | None = None
    uid: int | None = None  # the unprivileged user to run as (None: as the server's own user)
    gid: int | None = None


@dataclass(frozen=True, slots=True)
class Invocation:
    """One request handed to a function through `/invocation/next`."""

    request_id: str
    payload: bytes
    invoked_arn: str
    trace_id: str = ""
    client_context: str | None = None  # JSON text, as the Lambda-Runtime-Client-Context header
    cognito_identity: str | None = None


@dataclass(slots=True)
class InvocationResult:
    """What came back: the payload (or the error document) and the figures for the REPORT line.

    `error_type` is None on success; otherwise the function error (`Unhandled`) happened, and
    `payload` holds the error document. `status` is "" on success, else "error" or "timeout".
    """

    request_id: str
    payload: bytes
    error_type: str | None
    log: str
    duration_ms: float
    memory_mb: int
    max_memory_used_mb: int
    init_duration_ms: float | None
    status: str = ""
    runtime_error_type: str | None = None  # e.g. Runtime.ExitError, for the REPORT line
    log_stream: str = ""
    environment_id: str = ""
    init_log: str = ""  # what init printed (before START), on a cold start

    @property
    def billed_ms(self) -> int:
        """Billed duration: rounded up to the next millisecond (as AWS bills since 2020)."""
        ms = int(self.duration_ms)
        return ms + 1 if self.duration_ms > ms else max(ms, 1)
