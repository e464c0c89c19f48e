"""Warm pools and concurrency: which environment serves an invocation, and whether one may run.

Environments are kept per `FunctionSpec.key`. An invocation takes an idle one (warm start) or
starts a new one (cold start); afterwards the environment goes back to the idle list, or is
dropped if it died. A reaper kills environments idle longer than `idle_seconds`, except those
kept for provisioned concurrency. Concurrency is counted per account (limit `account_limit`) and
per function (its reserved concurrency); beyond `max_environments` live processes, invocations
wait for a slot instead of failing, so a small machine queues rather than drowns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from overcast.runtime import launch, limits
from overcast.runtime.environment import Environment
from overcast.runtime.launch import LaunchError
from overcast.runtime.spec import FunctionSpec, Invocation, InvocationResult
from overcast.runtime.zygote import Zygote

log = logging.getLogger("overcast.runtime")


class ConcurrencyLimitExceeded(Exception):
    """Too many invocations in flight; `reason` is AWS's Reason value."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(slots=True)
class PoolConfig:
    """Tunables (each also read from an OVERCAST_LAMBDA_* environment variable)."""

    work_root: Path
    account_limit: int = 1000
    idle_seconds: float = 600.0
    max_environments: int = 256
    reap_interval: float = 1.0
    zygote: bool = True  # fork environments from a pre-started interpreter
    private_tmp: bool = True  # a private /tmp per environment where possible

    @classmethod
    def from_env(cls, work_root: Path) -> PoolConfig:
        env = os.environ
        return cls(
            work_root=work_root,
            account_limit=int(env.get("OVERCAST_LAMBDA_CONCURRENCY", 1000)),
            idle_seconds=float(env.get("OVERCAST_LAMBDA_IDLE_SECONDS", 600)),
            max_environments=int(env.get("OVERCAST_LAMBDA_MAX_ENVIRONMENTS", 256)),
            zygote=env.get("OVERCAST_LAMBDA_ZYGOTE", "1") not in ("0", "false", "no"),
            private_tmp=env.get("OVERCAST_LAMBDA_PRIVATE_TMP", "1") not in ("0", "false", "no"),
        )


@dataclass(slots=True)
class _Group:
    """The environments of one spec key."""

    idle: list[Environment] = field(default_factory=list)
    all: set[Environment] = field(default_factory=set)
    provisioned: int = 0


class Pool:
    """All execution environments of this server."""

    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        config.work_root.mkdir(parents=True, exist_ok=True)
        self.cgroups = limits.CgroupFactory()
        self._groups: dict[str, _Group] = defaultdict(_Group)
        self._in_flight_account: dict[str, int] = defaultdict(int)
        self._in_flight_function: dict[str, int] = defaultdict(int)
        self._slots = asyncio.Semaphore(config.max_environments)
        self._live = 0
        self._reaper: asyncio.Task[None] | None = None
        self._killing: set[asyncio.Future[None]] = set()
        self.zygote: Zygote | None = None
        self._zygote_started_at = 0.0
        # /tmp of its own per environment (a mount namespace): needs root, and the work root
        # (code, environments) must not live under /tmp or binding over /tmp would hide it.
        root = config.work_root.resolve()
        self.private_tmp = (
            config.private_tmp
            and hasattr(os, "geteuid")
            and os.geteuid() == 0
            and Path("/tmp") not in (root, *root.parents)
        )

    async def start(self) -> None:
        self._reaper = asyncio.ensure_future(self._reap_loop())

    def warm_up(self) -> None:
        """Start the zygote now, if it is wanted and not running: called when functions are
        created (and at start-up when some exist), so a server without functions never pays
        for it and the first cold start rarely waits for it."""
        if self.config.zygote and self.zygote is None:
            self.zygote = Zygote(launch.python_executable())
            self.zygote.start()
            self._zygote_started_at = time.monotonic()

    def _live_zygote(self) -> Zygote | None:
        """The zygote new environments fork from. One that went away is started again (at most
        every 5 s), so its loss does not leave every later environment spawned directly."""
        zygote = self.zygote
        if zygote is not None and not zygote.alive:
            now = time.monotonic()
            if now - self._zygote_started_at >= 5.0:
                log.warning("starting the Python zygote again")
                zygote.stop()
                zygote = self.zygote = Zygote(launch.python_executable())
                zygote.start()
                self._zygote_started_at = now
        return zygote

    async def stop(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        envs = [e for g in self._groups.values() for e in g.all]
        await asyncio.gather(*(e.kill() for e in envs), return_exceptions=True)
        self._groups.clear()
        if self.zygote is not None:
            self.zygote.stop()
        limits.remove_parent(self.cgroups)

    # -- concurrency ----------------------------------------------------------------------------

    def in_flight(self, account_id: str, function_id: str | None = None) -> int:
        if function_id is not None:
            return self._in_flight_function[function_id]
        return self._in_flight_account[account_id]

    def _admit(self, spec: FunctionSpec, function_id: str, unreserved_limit: int) -> None:
        reserved = spec.reserved_concurrency
        if reserved is not None:
            if self._in_flight_function[function_id] >= reserved:
                raise ConcurrencyLimitExceeded(
                    "ReservedFunctionConcurrentInvocationLimitExceeded",
                    "Rate Exceeded.",
                )
        elif self._in_flight_account[spec.account_id] >= unreserved_limit:
            raise ConcurrencyLimitExceeded("ConcurrentInvocationLimitExceeded", "Rate Exceeded.")
        self._in_flight_account[spec.account_id] += 1
        self._in_flight_function[function_id] += 1

    def _release(self, spec: FunctionSpec, function_id: str) -> None:
        self._in_flight_account[spec.account_id] -= 1
        self._in_flight_function[function_id] -= 1

    # -- invoking -------------------------------------------------------------------------------

    async def invoke(
        self,
        spec: FunctionSpec,
        inv: Invocation,
        *,
        function_id: str,
        unreserved_limit: int | None = None,
    ) -> InvocationResult:
        """Run `inv` in an environment of `spec` (warm if one is idle). Raises
        ConcurrencyLimitExceeded when the account or the function is at its limit, and
        LaunchError when the runtime cannot start at all."""
        limit = self.config.account_limit if unreserved_limit is None else unreserved_limit
        self._admit(spec, function_id, limit)
        try:
            env = await self._acquire(spec)
            try:
                result = await env.invoke(inv)
            except BaseException:
                env.dead = True  # a launch failure or a cancelled call: never reuse it
                raise
            finally:
                self._return(env)
            return result
        finally:
            self._release(spec, function_id)

    async def _acquire(self, spec: FunctionSpec) -> Environment:
        group = self._groups[spec.key]
        while group.idle:
            env = group.idle.pop()
            if not env.dead:
                env.busy = True
                return env
            group.all.discard(env)
        if self._slots.locked():
            self._evict_idle()  # at the machine's cap: the least recently used idle one goes
        await self._slots.acquire()
        self._live += 1
        env = Environment(
            spec,
            self.config.work_root,
            self.cgroups,
            zygote=self._live_zygote(),
            private_tmp=self.private_tmp,
        )
        group.all.add(env)
        return env

    def _return(self, env: Environment) -> None:
        group = self._groups.get(env.spec.key)
        if env.dead or group is None:
            self._forget(env)
            return
        group.idle.append(env)

    def _evict_idle(self) -> bool:
        """Kill the least recently used idle environment not kept for provisioned concurrency;
        False if there is none (the caller then waits for a busy one to finish)."""
        candidates = []
        for group in self._groups.values():
            spare = len(group.idle) - group.provisioned
            if spare > 0:
                candidates += sorted(group.idle, key=lambda e: e.last_used)[:spare]
        if not candidates:
            return False
        self._forget(min(candidates, key=lambda e: e.last_used))
        return True

    def _forget(self, env: Environment) -> None:
        group = self._groups.get(env.spec.key)
        if group is not None and env in group.all:
            group.all.discard(env)
            with contextlib.suppress(ValueError):
                group.idle.remove(env)
        if not getattr(env, "_released", False):
            env._released = True  # type: ignore[attr-defined]
            self._live -= 1
            self._slots.release()
        if not env.dead or env.proc is not None:
            task = asyncio.ensure_future(env.kill())
            self._killing.add(task)
            task.add_done_callback(self._killing.discard)

    # -- keeping warm, reaping ------------------------------------------------------------------

    async def provision(self, spec: FunctionSpec, count: int) -> int:
        """Keep `count` environments of `spec` started and idle (provisioned concurrency);
        returns how many are ready."""
        group = self._groups[spec.key]
        group.provisioned = count
        starting: list[Environment] = []
        while len([e for e in group.all if not e.dead]) + len(starting) < count:
            await self._slots.acquire()
            self._live += 1
            env = Environment(
                spec,
                self.config.work_root,
                self.cgroups,
                provisioned=True,
                zygote=self._live_zygote(),
                private_tmp=self.private_tmp,
            )
            group.all.add(env)
            starting.append(env)
        ready = 0
        for env in starting:
            try:
                await env.start()
                failure = await env.wait_ready()
            except LaunchError:
                failure = True  # type: ignore[assignment]
            if failure is None:
                env.invocations = 0
                group.idle.append(env)
                ready += 1
            else:
                env.dead = True
                self._forget(env)
        return len([e for e in group.all if not e.dead])

    async def retire(self, key_prefix: str, keep: str | None = None) -> None:
        """Kill idle environments whose key starts with `key_prefix` (code or configuration
        changed, function deleted), except those of key `keep`."""
        for key, group in list(self._groups.items()):
            if not key.startswith(key_prefix) or key == keep:
                continue
            group.provisioned = 0
            for env in list(group.idle):
                self._forget(env)
            if not group.all:
                self._groups.pop(key, None)

    def environments(self, key: str) -> list[Environment]:
        """The live environments of a spec key (for tests and the console)."""
        return [e for e in self._groups.get(key, _Group()).all if not e.dead]

    async def _reap_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.reap_interval)
            try:
                self.reap(time.monotonic())
            except Exception:  # the reaper must keep running; the error is logged
                log.exception("environment reaper failed")

    def reap(self, now: float) -> None:
        """Kill environments idle for longer than the configured time (not provisioned ones)."""
        for key, group in list(self._groups.items()):
            spare = len(group.idle) - group.provisioned if group.provisioned else len(group.idle)
            for env in sorted(group.idle, key=lambda e: e.last_used):
                if spare <= 0:
                    break
                if now - env.last_used >= self.config.idle_seconds:
                    self._forget(env)
                    spare -= 1
            if not group.all and not group.provisioned:
                self._groups.pop(key, None)
