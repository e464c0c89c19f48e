"""One execution environment: a process tree running a runtime's bootstrap against its own
Runtime API port, serving one invocation at a time until it is killed or reaped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import secrets
import shutil
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from overcast.runtime import launch, limits
from overcast.runtime.api import Outcome, RuntimeApi
from overcast.runtime.bootstraps import BOOTSTRAP_DIR
from overcast.runtime.spec import FunctionSpec, Invocation, InvocationResult
from overcast.runtime.zygote import Zygote, ZygoteUnavailable

log = logging.getLogger("overcast.runtime")

INIT_TIMEOUT = 10.0  # AWS gives init ten seconds
RSS_POLL = 0.05
HWM_REFRESH = 32  # read the leader's peak RSS at least once per this many invocations
# Markers settling an invocation's future when there is no outcome from the bootstrap.
_EXITED = Outcome(b"", "Runtime.ExitError")
_TIMED_OUT = Outcome(b"", "Sandbox.Timedout")


class Environment:
    """A live (or dead) execution environment for one FunctionSpec."""

    def __init__(
        self,
        spec: FunctionSpec,
        work_root: Path,
        cgroups: limits.CgroupFactory,
        *,
        provisioned: bool = False,
        zygote: Zygote | None = None,
        private_tmp: bool = False,
    ) -> None:
        self.spec = spec
        self.id = secrets.token_hex(16)
        self.provisioned = provisioned
        self.dir = work_root / "envs" / self.id
        self.tmp_dir = self.dir / "tmp"
        self._cgroups = cgroups
        self.cgroup: limits.MemoryCgroup | None = None
        day = datetime.now(UTC).strftime("%Y/%m/%d")
        self.log_stream = f"{day}/[{spec.version}]{self.id}"
        self.api = RuntimeApi(self._deadline_ms, self._on_next)
        self.proc: subprocess.Popen[bytes] | None = None
        self._pid: int | None = None
        self._hwm: limits.PeakRss | None = None
        self._zygote = zygote
        self._private_tmp = private_tmp
        self._images = _images_for(work_root)
        self.exited: asyncio.Future[int] | None = None
        self._poller: asyncio.Future[None] | None = None
        self.ready = asyncio.Event()
        self.busy = False
        self.dead = False
        self.invocations = 0
        self.last_used = time.monotonic()
        self.init_duration_ms: float | None = None
        self._spawned_at = 0.0
        self._deadline = 0.0
        self._out = bytearray()
        self._out_fd = -1
        self._peak_rss = 0
        self._hwm_bytes = 0  # the leader's VmHWM, as last read
        self._cgroup_high = 0  # the highest per-invocation cgroup peak seen

    # -- life cycle -----------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._pid

    async def start(self) -> None:
        """Spawn the bootstrap; `ready` is set when it first asks for work."""
        spec = self.spec
        argv = launch.command(spec)
        port = await self.api.start()
        limits.prepare_private_dir(self.tmp_dir, spec.uid, spec.gid)
        env = launch.environment(
            spec,
            api_port=port,
            log_stream=self.log_stream,
            tmp_dir=self.tmp_dir,
            provisioned=self.provisioned,
        )
        self.cgroup = self._cgroups.create(f"env-{self.id}", spec.memory_mb)
        rfd, wfd = os.pipe()
        os.set_blocking(rfd, False)
        self._out_fd = rfd
        self._spawned_at = time.monotonic()
        bytes_cap = spec.ephemeral_mb * 1024 * 1024
        loop = asyncio.get_running_loop()
        keep_tmp = self._tmp_keep(argv, env)
        tmp_image: Path | None = None
        if keep_tmp is not None and self._zygote is not None and self._zygote.alive:
            tmp_image = await asyncio.to_thread(
                self._images.image_for, spec.ephemeral_mb, self.dir / "tmp.img"
            )
            if tmp_image is not None:
                loop.run_in_executor(None, self._images.refill, spec.ephemeral_mb)
        try:
            if self._zygote is not None and self._zygote.alive:
                try:
                    self._pid, self.exited = await self._zygote.spawn(
                        env=env,
                        cwd=str(spec.code_dir),
                        uid=spec.uid,
                        gid=spec.gid,
                        cgroup=str(self.cgroup.path) if self.cgroup is not None else None,
                        fsize=bytes_cap,
                        out_fd=wfd,
                        argv=None if spec.runtime in launch.PYTHON_RUNTIMES else argv,
                        private_tmp=str(self.tmp_dir) if keep_tmp is not None else None,
                        keep_tmp=keep_tmp or [],
                        tmp_image=str(tmp_image) if tmp_image is not None else None,
                    )
                except ZygoteUnavailable:
                    self._spawn_process(argv, env, wfd, bytes_cap)
            else:
                self._spawn_process(argv, env, wfd, bytes_cap)
        finally:
            with contextlib.suppress(OSError):
                os.close(wfd)
        loop.add_reader(rfd, self._read_output)

    def _tmp_keep(self, argv: list[str], env: dict[str, str]) -> list[str] | None:
        """What must stay visible under a private /tmp: the top-level /tmp entries holding what
        the environment runs (its code, layers, bootstrap, interpreter, Python path) — when
        Overcast itself is installed under /tmp. None when /tmp cannot be replaced at all."""
        if not self._private_tmp:
            return None
        spec = self.spec
        paths: list[Any] = [spec.code_dir, spec.opt_dir, BOOTSTRAP_DIR, *argv[:3]]
        paths += [p for p in env.get("PYTHONPATH", "").split(":") if p]
        tmp = Path("/tmp")
        keep: set[str] = set()
        for p in paths:
            if p is None:
                continue
            resolved = Path(p).resolve()
            if resolved == tmp:
                return None
            if tmp in resolved.parents:
                keep.add(str(tmp / resolved.relative_to(tmp).parts[0]))
        return sorted(keep)

    def _spawn_process(self, argv: list[str], env: dict[str, str], wfd: int, fsize: int) -> None:
        spec = self.spec
        try:
            # subprocess (not the loop's subprocess support: uvloop's cannot switch users)
            # forks with vfork and drops privileges in C; exit is watched through a pidfd.
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=wfd,
                stderr=wfd,
                cwd=str(spec.code_dir),
                env=env,
                start_new_session=True,
                user=spec.uid,
                group=spec.gid,
                extra_groups=[] if spec.uid is not None else None,
            )
        except OSError as exc:
            self._close_output()
            raise launch.LaunchError("Runtime.InvalidEntrypoint", str(exc)) from exc
        pid = self._pid = self.proc.pid
        if self.cgroup is not None:
            try:
                self.cgroup.add(pid)
            except OSError as exc:
                log.warning("could not move pid %d into its cgroup: %s", pid, exc)
                self.cgroup.remove()
                self.cgroup = None
        with contextlib.suppress(OSError, ValueError):
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (fsize, fsize))
        loop = asyncio.get_running_loop()
        self.exited = loop.create_future()
        self._watch_exit(loop, self.proc)

    def _watch_exit(self, loop: asyncio.AbstractEventLoop, proc: subprocess.Popen[bytes]) -> None:
        exited = self.exited
        assert exited is not None
        try:
            pidfd = os.pidfd_open(proc.pid)
        except OSError:
            pidfd = -1
        if pidfd < 0:  # no pidfd (old kernel): poll instead

            async def poll() -> None:
                while proc.poll() is None:
                    await asyncio.sleep(0.05)
                if not exited.done():
                    exited.set_result(proc.returncode)

            self._poller = asyncio.ensure_future(poll())
            return

        def on_exit() -> None:
            loop.remove_reader(pidfd)
            os.close(pidfd)
            code = proc.wait()
            if not exited.done():
                exited.set_result(code)

        loop.add_reader(pidfd, on_exit)

    def _on_next(self) -> None:
        if not self.ready.is_set():
            self.init_duration_ms = (time.monotonic() - self._spawned_at) * 1000
            self.ready.set()

    def _deadline_ms(self) -> int:
        return int(self._deadline * 1000)

    def _read_output(self) -> None:
        try:
            while True:
                chunk = os.read(self._out_fd, 65536)
                if not chunk:
                    self._close_output()
                    return
                self._out += chunk
                if len(self._out) > 4 * 1024 * 1024:  # keep memory bounded for chatty functions
                    del self._out[: len(self._out) - 1024 * 1024]
        except BlockingIOError:
            return
        except OSError:
            self._close_output()

    def _close_output(self) -> None:
        if self._out_fd >= 0:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._out_fd)
            with contextlib.suppress(OSError):
                os.close(self._out_fd)
            self._out_fd = -1

    def take_output(self) -> str:
        """Everything printed since the last call (read to the end of the pipe first)."""
        if self._out_fd >= 0:
            self._read_output()
        text = self._out.decode("utf-8", "replace")
        self._out.clear()
        return text

    async def kill(self) -> None:
        """Kill the whole process tree and free the environment's resources."""
        if self.dead and self._pid is None:
            return
        self.dead = True
        exited = self.exited is not None and self.exited.done()
        if self._pid is not None and not exited:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self._pid, signal.SIGKILL)
        if self.cgroup is not None:
            self.cgroup.kill_all()
        if self.exited is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self.exited), 5)
        self._read_output_safely()
        self._close_output()
        await self.api.close()
        if self._hwm is not None:
            self._hwm.close()
        if self.cgroup is not None:
            self.cgroup.remove()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _read_output_safely(self) -> None:
        if self._out_fd >= 0:
            self._read_output()

    # -- invocations ----------------------------------------------------------------------------

    async def wait_ready(self) -> Outcome | None:
        """Wait for init to finish: None when ready, else the init failure as an Outcome."""
        assert self.exited is not None
        outcome = self.api.outcome or self.api.expect_outcome()
        ready = asyncio.ensure_future(self.ready.wait())
        try:
            waiting: set[asyncio.Future[Any]] = {ready, outcome, self.exited}
            done, _ = await asyncio.wait(
                waiting,
                timeout=INIT_TIMEOUT,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            ready.cancel()
        if outcome in done:
            return outcome.result()
        if self.ready.is_set():
            return None
        if self.exited in done:
            return _exit_outcome("", self.exited.result())
        return Outcome(
            orjson.dumps(
                {"errorType": "Runtime.InitTimeout", "errorMessage": "Init phase timed out"}
            ),
            "Runtime.InitTimeout",
            init_error=True,
        )

    async def invoke(self, inv: Invocation) -> InvocationResult:
        """Run one invocation to its end (response, error, timeout or crash)."""
        self.busy = True
        self.invocations += 1
        spec = self.spec
        cold = self._pid is None
        init_log = ""
        try:
            if cold:
                await self.start()
                failure = await self.wait_ready()
                init_log = self.take_output()
                if failure is not None:
                    await self.kill()
                    return self._result(inv, failure, 0.0, init_log, status="error")
            elif self.dead:
                raise RuntimeError("environment is dead")
            else:
                init_log = ""
            self.take_output()  # anything printed while idle is not this invocation's
            if self.cgroup is not None:
                self.cgroup.reset_peak()
            # One future settles the invocation: the bootstrap's outcome, the process's exit
            # or the timeout, whichever comes first (cheaper than asyncio.wait on three).
            outcome_future = self.api.expect_outcome()
            exited = self.exited
            assert exited is not None
            loop = asyncio.get_running_loop()

            def settle(why: Outcome) -> None:
                if not outcome_future.done():
                    outcome_future.set_result(why)

            def on_exit(_: asyncio.Future[int]) -> None:
                settle(_EXITED)

            exited.add_done_callback(on_exit)
            timer = loop.call_later(spec.timeout, settle, _TIMED_OUT)
            started = time.monotonic()
            self._deadline = time.time() + spec.timeout
            watcher = None if self.cgroup is not None else asyncio.ensure_future(self._watch())
            try:
                self.api.offer(inv)
                outcome = await outcome_future
            finally:
                timer.cancel()
                exited.remove_done_callback(on_exit)
                if watcher is not None:
                    watcher.cancel()
            duration = (time.monotonic() - started) * 1000
            if outcome is not _EXITED and outcome is not _TIMED_OUT:
                if outcome.init_error:
                    await self.kill()
                    return self._result(inv, outcome, duration, init_log, status="error")
                return self._result(inv, outcome, duration, init_log)
            if outcome is _EXITED:
                code = exited.result()
                text = self.take_output()
                await self.kill()
                outcome = _exit_outcome(inv.request_id, code)
                return self._result(inv, outcome, duration, init_log, text=text, status="error")
            # Timed out: the environment is killed, as AWS does.
            text = self.take_output()
            await self.kill()
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            secs = f"{spec.timeout:.2f}"
            text += f"{stamp} {inv.request_id} Task timed out after {secs} seconds\n"
            outcome = Outcome(
                orjson.dumps(
                    {
                        "errorType": "Sandbox.Timedout",
                        "errorMessage": f"RequestId: {inv.request_id} Error: Task timed out "
                        f"after {secs} seconds",
                    }
                ),
                "Sandbox.Timedout",
            )
            return self._result(inv, outcome, duration, init_log, text=text, status="timeout")
        finally:
            self.busy = False
            self.last_used = time.monotonic()

    async def _watch(self) -> None:
        """Without a cgroup: poll the tree's RSS and kill it past MemorySize."""
        cap = self.spec.memory_mb * 1024 * 1024
        pid = self.pid
        if pid is None:
            return
        while True:
            rss = limits.tree_rss(pid)
            self._peak_rss = max(self._peak_rss, rss)
            if rss > cap:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
                return
            await asyncio.sleep(RSS_POLL)

    def _max_memory_mb(self) -> int:
        # The cgroup counts only what the environment itself charged (shared library pages
        # already cached are charged elsewhere); the leader's peak RSS counts them, as AWS does.
        if self._hwm is None and self._pid is not None:
            self._hwm = limits.PeakRss(self._pid)
        cgroup_peak = self.cgroup.peak_bytes() if self.cgroup is not None else 0
        # VmHWM only ever grows, and it grows when memory does — which the cgroup (reset per
        # invocation) sees: reading /proc/<pid>/status (~10 µs) is skipped while the cgroup
        # peak stays below the highest seen, with a fresh read every HWM_REFRESH invocations.
        if self._hwm is not None and (
            self.cgroup is None
            or cgroup_peak > self._cgroup_high
            or self.invocations % HWM_REFRESH == 1
        ):
            self._hwm_bytes = self._hwm.peak_bytes()
        self._cgroup_high = max(self._cgroup_high, cgroup_peak)
        peak = max(self._peak_rss, self._hwm_bytes, cgroup_peak)
        return min(self.spec.memory_mb, max(1, round(peak / (1024 * 1024))))

    def _result(
        self,
        inv: Invocation,
        outcome: Outcome,
        duration_ms: float,
        init_log: str,
        *,
        text: str | None = None,
        status: str = "",
    ) -> InvocationResult:
        if text is None:
            text = self.take_output()
        error = outcome.error_type
        if outcome.init_error and error is not None:
            payload = _with_request_id(outcome.payload, inv.request_id)
        else:
            payload = outcome.payload
        return InvocationResult(
            request_id=inv.request_id,
            payload=payload,
            error_type="Unhandled" if error is not None else None,
            log=text,
            duration_ms=duration_ms,
            memory_mb=self.spec.memory_mb,
            max_memory_used_mb=self._max_memory_mb(),
            init_duration_ms=self.init_duration_ms if self.invocations == 1 else None,
            status=status or ("error" if error is not None else ""),
            runtime_error_type=error if error not in (None, "Unhandled") else None,
            log_stream=self.log_stream,
            environment_id=self.id,
            init_log=init_log,
        )


def _exit_outcome(request_id: str, code: int) -> Outcome:
    reason = f"signal: {_signal_name(-code)}" if code < 0 else f"exit status {code}"
    prefix = f"RequestId: {request_id} " if request_id else ""
    body = {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"{prefix}Error: Runtime exited with error: {reason}",
    }
    return Outcome(orjson.dumps(body), "Runtime.ExitError", init_error=not request_id)


def _signal_name(signum: int) -> str:
    names = {
        int(signal.SIGKILL): "killed",
        int(signal.SIGSEGV): "segmentation fault",
        int(signal.SIGABRT): "aborted",
        int(signal.SIGTERM): "terminated",
    }
    return names.get(signum, str(signum))


def _with_request_id(payload: bytes, request_id: str) -> bytes:
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload
    if isinstance(doc, dict) and not doc.get("requestId"):
        doc["requestId"] = request_id
        return orjson.dumps(doc)
    return payload


_IMAGES: dict[Path, limits.TmpImages] = {}


def _images_for(work_root: Path) -> limits.TmpImages:
    """One set of /tmp filesystem templates per work root."""
    images = _IMAGES.get(work_root)
    if images is None:
        images = _IMAGES[work_root] = limits.TmpImages(work_root / "images")
    return images
