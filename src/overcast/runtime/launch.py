"""What an environment's process runs, per runtime, and the environment variables it gets.

The variables are those AWS sets in every Lambda environment; where AWS uses fixed paths (/var/task,
/opt, /tmp) we use the environment's own folders and say so through the same variables.
"""

from __future__ import annotations

import functools
import os
import shutil
import stat
import sys
from pathlib import Path

from overcast.runtime.bootstraps import BOOTSTRAP_DIR, NODE_BOOTSTRAP, PYTHON_BOOTSTRAP
from overcast.runtime.spec import FunctionSpec

PYTHON_RUNTIMES = {f"python3.{n}" for n in range(9, 15)}
NODE_RUNTIMES = {"nodejs18.x", "nodejs20.x", "nodejs22.x"}
PROVIDED_RUNTIMES = {"provided", "provided.al2", "provided.al2023"}
SUPPORTED_RUNTIMES = PYTHON_RUNTIMES | NODE_RUNTIMES | PROVIDED_RUNTIMES


class LaunchError(Exception):
    """The environment cannot be started (no such runtime on this machine, no bootstrap)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


@functools.cache
def _python_choice() -> tuple[str, tuple[str, ...]]:
    own = os.environ.get("OVERCAST_LAMBDA_PYTHON") or sys.executable
    if not _running_as_root() or executable_reachable_by_others(own):
        return own, ()
    # Overcast's interpreter sits where other users cannot reach it (a pyenv under /root):
    # functions would have to run as root. A system interpreter of the same version works
    # as well, with Overcast's site-packages (boto3) on its path, and can run as anyone.
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    packages = tuple(p for p in sys.path if p.endswith("site-packages") and _reachable_dir(p))
    for base in ("/usr/bin", "/usr/local/bin"):
        candidate = f"{base}/{version}"
        if executable_reachable_by_others(candidate):
            return candidate, packages
    return own, ()


def python_executable() -> str:
    """The host's Python that functions run on: Overcast's own (so boto3 is importable), or,
    when that one is out of other users' reach, a system Python of the same version."""
    return _python_choice()[0]


def python_packages() -> tuple[str, ...]:
    """Extra package folders (Overcast's site-packages) for a system interpreter's path."""
    return _python_choice()[1]


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _reachable_dir(path: str) -> bool:
    p = Path(path)
    try:
        return all(q.stat().st_mode & stat.S_IXOTH for q in (p, *p.parents))
    except OSError:
        return False


def node_executable() -> str | None:
    return os.environ.get("OVERCAST_LAMBDA_NODE") or shutil.which("node")


def command(spec: FunctionSpec) -> list[str]:
    """The argv that starts the runtime's bootstrap."""
    rt = spec.runtime
    if rt in PYTHON_RUNTIMES:
        return [python_executable(), "-s", "-B", str(PYTHON_BOOTSTRAP)]
    if rt in NODE_RUNTIMES:
        node = node_executable()
        if node is None:
            raise LaunchError("Runtime.InvalidEntrypoint", "Node.js is not installed on this host")
        return [node, "--no-warnings", str(NODE_BOOTSTRAP)]
    if rt in PROVIDED_RUNTIMES:
        for base in (spec.code_dir, spec.opt_dir):
            if base is not None and (base / "bootstrap").is_file():
                return [str(base / "bootstrap")]
        raise LaunchError(
            "Runtime.InvalidEntrypoint",
            "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]",
        )
    raise LaunchError("Runtime.InvalidRuntime", f"Runtime {rt} is not supported")


def executable_reachable_by_others(path: str) -> bool:
    """Whether an unprivileged user could run `path` (every folder above it traversable)."""
    p = Path(path).resolve()
    try:
        if not p.stat().st_mode & stat.S_IXOTH:
            return False
        for parent in p.parents:
            if not parent.stat().st_mode & stat.S_IXOTH:
                return False
    except OSError:
        return False
    return True


def environment(
    spec: FunctionSpec,
    *,
    api_port: int,
    log_stream: str,
    tmp_dir: Path,
    provisioned: bool,
) -> dict[str, str]:
    """The process environment: the user's variables, then those AWS reserves."""
    env = dict(spec.env)
    opt = str(spec.opt_dir) if spec.opt_dir is not None else ""
    bin_dir = os.path.dirname(python_executable())
    paths = [f"{opt}/bin"] if opt else []
    env.update(
        {
            "PATH": ":".join([bin_dir, "/usr/local/bin", "/usr/bin", "/bin", *paths]),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "HOME": str(tmp_dir),
            "TMPDIR": str(tmp_dir),
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP_DIR),
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api_port}",
            "_HANDLER": spec.handler,
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": (
                "provisioned-concurrency" if provisioned else "on-demand"
            ),
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "OVERCAST_OPT_DIR": opt,
        }
    )
    if opt:
        env["LD_LIBRARY_PATH"] = f"{opt}/lib"
    if spec.runtime in PYTHON_RUNTIMES:
        # As AWS: the task root, then the layers' python folders, then the runtime's packages.
        py = [str(spec.code_dir)]
        if opt:
            minor = f"python{sys.version_info.major}.{sys.version_info.minor}"
            py += [f"{opt}/python/lib/{minor}/site-packages", f"{opt}/python"]
        py += python_packages()  # the runtime's own packages come last, as /var/runtime does
        env["PYTHONPATH"] = ":".join(py)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONUNBUFFERED"] = "1"
    elif spec.runtime in NODE_RUNTIMES:
        major = spec.runtime[len("nodejs") :].split(".")[0]
        node_paths = [f"{opt}/nodejs/node{major}/node_modules", f"{opt}/nodejs/node_modules"]
        env["NODE_PATH"] = ":".join(node_paths if opt else [])
    return env
