"""The server's side of the Python zygote (`bootstraps/python_zygote.py`): one pre-forked
interpreter that forks Python environments in a few milliseconds instead of starting a new
interpreter each time. If it cannot start or dies, environments are spawned the ordinary way."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import subprocess
from typing import Any

from overcast.runtime import launch
from overcast.runtime.bootstraps import BOOTSTRAP_DIR

log = logging.getLogger("overcast.runtime")

ZYGOTE = BOOTSTRAP_DIR / "python_zygote.py"


class ZygoteUnavailable(Exception):
    """The zygote is not running; spawn the environment directly."""


class Zygote:
    def __init__(self, python: str) -> None:
        self.python = python
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[int]] = {}
        self._exits: dict[int, asyncio.Future[int]] = {}
        self._early_exits: dict[int, int] = {}

    @property
    def alive(self) -> bool:
        return self.sock is not None and self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        """Start the zygote (blocking only for the fork/exec)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen(
                [self.python, "-s", "-B", str(ZYGOTE), str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env={
                    **os.environ,
                    "PYTHONDONTWRITEBYTECODE": "1",
                    # A system interpreter needs Overcast's site-packages to preload boto3.
                    "PYTHONPATH": ":".join(launch.python_packages()),
                },
                start_new_session=True,
            )
        except OSError as exc:
            log.warning("Python zygote could not start (%s); cold starts will be slower", exc)
            ours.close()
            return
        finally:
            theirs.close()
        ours.setblocking(False)
        self.sock = ours
        asyncio.get_running_loop().add_reader(ours.fileno(), self._on_message)

    def _on_message(self) -> None:
        assert self.sock is not None
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._lost()
                return
            msg: dict[str, Any] = json.loads(data)
            if "exit" in msg:
                pid, code = int(msg["exit"]), int(msg["status"])
                fut = self._exits.pop(pid, None)
                if fut is None:
                    self._early_exits[pid] = code
                elif not fut.done():
                    fut.set_result(code)
                continue
            pending = self._pending.pop(int(msg["id"]), None)
            if pending is None or pending.done():
                continue
            if "pid" in msg:
                pending.set_result(int(msg["pid"]))
            else:
                pending.set_exception(ZygoteUnavailable(str(msg.get("error"))))

    def _lost(self) -> None:
        log.error("the Python zygote went away; spawning environments directly from now on")
        if self.sock is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self.sock.fileno())
            self.sock.close()
        self.sock = None
        for fut in [*self._pending.values(), *self._exits.values()]:
            if not fut.done():
                fut.set_exception(ZygoteUnavailable("zygote lost"))
        self._pending.clear()
        self._exits.clear()

    async def spawn(
        self,
        *,
        env: dict[str, str],
        cwd: str,
        uid: int | None,
        gid: int | None,
        cgroup: str | None,
        fsize: int,
        out_fd: int,
        argv: list[str] | None = None,
        private_tmp: str | None = None,
        keep_tmp: list[str] | None = None,
        tmp_image: str | None = None,
    ) -> tuple[int, asyncio.Future[int]]:
        """Fork an environment; its pid and a future of its exit status (as Popen reports
        it: negative for a signal). With `argv` the child execs it (Node.js, a custom
        bootstrap); without, it runs the Python bootstrap in the pre-started interpreter.
        `private_tmp` is a folder the child binds over /tmp in its own mount namespace;
        `keep_tmp` lists entries of the real /tmp bound back at their paths inside it;
        `tmp_image`, a filesystem image mounted as that folder first (the storage cap)."""
        if not self.alive or self.sock is None:
            raise ZygoteUnavailable("not running")
        loop = asyncio.get_running_loop()
        self._next_id += 1
        rid = self._next_id
        fut: asyncio.Future[int] = loop.create_future()
        self._pending[rid] = fut
        request = {
            "id": rid,
            "env": env,
            "cwd": cwd,
            "uid": uid,
            "gid": gid,
            "cgroup": cgroup,
            "fsize": fsize,
            "argv": argv,
            "private_tmp": private_tmp,
            "keep_tmp": keep_tmp or [],
            "tmp_image": tmp_image,
        }
        try:
            socket.send_fds(self.sock, [json.dumps(request).encode()], [out_fd])
        except OSError as exc:
            self._pending.pop(rid, None)
            raise ZygoteUnavailable(str(exc)) from exc
        try:
            pid = await asyncio.wait_for(fut, 30)
        except TimeoutError:
            self._pending.pop(rid, None)
            raise ZygoteUnavailable("the zygote did not answer") from None
        exited: asyncio.Future[int] = loop.create_future()
        if pid in self._early_exits:
            exited.set_result(self._early_exits.pop(pid))
        else:
            self._exits[pid] = exited
        return pid, exited

    def stop(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
