"""A pre-forked Python interpreter for fast cold starts (imports nothing from Overcast).

Started once by the server with one end of a SOCK_SEQPACKET socket pair (its fd number in argv).
It imports the Python bootstrap and what it needs, then waits. For each request (JSON, with the
environment's output pipe attached as SCM_RIGHTS) it forks a child that joins its memory cgroup,
caps file sizes, drops to the function's user, takes the function's environment and runs the
bootstrap's main loop, exactly as a freshly started `python python_bootstrap.py` would. It reaps
its children and reports each exit status back.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import importlib
import logging  # noqa: F401
import traceback  # noqa: F401

import python_bootstrap

# What the runtime provides (boto3, as AWS's Python runtimes do) is imported once here, so a
# handler's `import boto3` costs nothing; a function that bundles its own copy gets its own.
PRELOADED: list[str] = []


def _preload() -> None:
    for name in os.environ.get("OVERCAST_LAMBDA_PRELOAD", "boto3").split(","):
        name = name.strip()
        if not name:
            continue
        try:
            importlib.import_module(name)
        except Exception:  # a missing or broken package just is not preloaded
            continue
        PRELOADED.append(name)
        if name == "boto3":
            PRELOADED.extend(["botocore", "s3transfer", "jmespath", "dateutil", "urllib3"])


def _forget_bundled(paths: list[str]) -> None:
    """Drop preloaded packages the function ships itself (its copy wins, as on AWS)."""
    for name in PRELOADED:
        if any(
            os.path.exists(os.path.join(p, name)) or os.path.exists(os.path.join(p, name + ".py"))
            for p in paths
        ):
            for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
                del sys.modules[mod]


def _child(request: dict[str, object], out_fd: int, control: socket.socket, wake: int) -> None:
    try:
        control.close()
        os.close(wake)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        cgroup = request.get("cgroup")
        if cgroup:
            with open(f"{cgroup}/cgroup.procs", "w") as f:
                f.write(str(os.getpid()))
        fsize = request.get("fsize")
        if isinstance(fsize, int) and fsize > 0:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.close(out_fd)
        env = dict(request["env"])  # type: ignore[call-overload]
        private_tmp = request.get("private_tmp")
        keep_tmp = [str(k) for k in request.get("keep_tmp") or []]  # type: ignore[attr-defined]
        raw_image = request.get("tmp_image")
        image = raw_image if isinstance(raw_image, str) else None
        gid, uid = request.get("gid"), request.get("uid")
        owner = (uid, gid) if isinstance(uid, int) and isinstance(gid, int) else None
        if isinstance(private_tmp, str) and _private_tmp(private_tmp, keep_tmp, image, owner):
            env["TMPDIR"] = env["HOME"] = "/tmp"
        if isinstance(gid, int):
            os.setgroups([])
            os.setgid(gid)
        if isinstance(uid, int):
            os.setuid(uid)
        os.chdir(str(request["cwd"]))
        argv = request.get("argv")
        if isinstance(argv, list) and argv:
            _flush()
            os.execve(str(argv[0]), [str(a) for a in argv], env)
        os.environ.clear()
        os.environ.update(env)
        time.tzset()
        extra = [p for p in env.get("PYTHONPATH", "").split(":") if p]
        sys.path[0:0] = extra
        opt = env.get("OVERCAST_OPT_DIR") or "\0"
        _forget_bundled([str(request["cwd"]), *(p for p in extra if p.startswith(opt))])
        sys.argv = [python_bootstrap.__file__]
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        python_bootstrap.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
        _flush()
        os._exit(code)
    except BaseException:
        import traceback

        traceback.print_exc()
        _flush()
        os._exit(1)
    _flush()
    os._exit(0)


CLONE_NEWNS, MS_BIND, MS_REC, MS_PRIVATE = 0x00020000, 4096, 16384, 1 << 18
MNT_DETACH = 2
NAMESPACES = {"ready": False}


def _prepare_namespaces() -> None:
    """Once, in the zygote: a mount namespace of its own whose mounts are all private, so
    each child's copy is private too and its /tmp binding never propagates anywhere."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        return
    NAMESPACES["ready"] = libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) == 0


def _private_tmp(
    host_dir: str, keep: list[str], image: str | None, owner: tuple[int, int] | None
) -> bool:
    """Give this process (and what it starts) its own /tmp: a new mount namespace with the
    environment's folder bound over /tmp — the folder first made a filesystem of its own from
    `image`, when given, so its size is capped — and the entries of the real /tmp in `keep`
    (where Overcast's own files live when it is installed under /tmp) bound back at their
    paths. Needs root; False if it cannot be done."""
    if not NAMESPACES["ready"]:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        return False
    if image:
        if not _mount_image(libc, image, host_dir):
            # Said where the function's author looks (its log): the size cap is not in force.
            os.write(
                2,
                b"Overcast: /tmp could not be mounted at its EphemeralStorage size; "
                b"only the per-file limit applies to this environment\n",
            )
        else:
            with contextlib.suppress(OSError):
                os.rmdir(os.path.join(host_dir, "lost+found"))
            if owner is not None:
                os.chown(host_dir, *owner)
            os.chmod(host_dir, 0o700)
    holder = host_dir.rstrip("/") + ".host"
    if keep:
        os.makedirs(holder, exist_ok=True)
        if libc.mount(b"/tmp", holder.encode(), None, MS_BIND | MS_REC, None) != 0:
            return False
    if libc.mount(host_dir.encode(), b"/tmp", None, MS_BIND, None) != 0:
        return False
    for entry in keep:
        rel = os.path.relpath(entry, "/tmp")
        source = os.path.join(holder, rel)
        if os.path.isdir(source):
            os.makedirs(entry, exist_ok=True)
        else:
            open(entry, "ab").close()
        if libc.mount(source.encode(), entry.encode(), None, MS_BIND | MS_REC, None) != 0:
            return False
    if keep:
        libc.umount2(holder.encode(), MNT_DETACH)  # the rest of the real /tmp stays hidden
    return True


LOOP_CTL_GET_FREE, LOOP_CONFIGURE, LO_FLAGS_AUTOCLEAR = 0x4C82, 0x4C0A, 4
MS_NOSUID, MS_NODEV = 2, 4


def _mount_image(libc: ctypes.CDLL, image: str, target: str) -> bool:
    """Mount an ext4 image at `target` through a loop device that frees itself once unmounted
    (set up with ioctls: no `mount` process on the cold start); the `mount` command if that
    fails."""
    try:
        ctl = os.open("/dev/loop-control", os.O_RDWR)
        backing = os.open(image, os.O_RDWR)
        try:
            # Environments of every server on the machine take loop devices at once: a free one
            # may be taken before it is configured (EBUSY), so ask again, a good many times.
            for _ in range(64):
                number = fcntl.ioctl(ctl, LOOP_CTL_GET_FREE)
                device = f"/dev/loop{number}"
                dev = os.open(device, os.O_RDWR)
                try:
                    # struct loop_config: fd, block_size, loop_info64 (lo_flags at +52), reserved
                    config = bytearray(304)
                    struct.pack_into("=I", config, 0, backing)
                    struct.pack_into("=I", config, 8 + 52, LO_FLAGS_AUTOCLEAR)
                    try:
                        fcntl.ioctl(dev, LOOP_CONFIGURE, bytes(config))
                    except OSError as exc:
                        if exc.errno == 16:  # EBUSY: another process took it first
                            continue
                        raise
                    flags = MS_NOSUID | MS_NODEV
                    if libc.mount(device.encode(), target.encode(), b"ext4", flags, None) == 0:
                        return True
                    raise OSError(ctypes.get_errno(), "mount failed")
                finally:
                    os.close(dev)
        finally:
            os.close(backing)
            os.close(ctl)
    except OSError:
        pass
    done = subprocess.run(["mount", "-o", "loop,nosuid,nodev", image, target], capture_output=True)
    return done.returncode == 0


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    _preload()
    _prepare_namespaces()
    rfd, wfd = os.pipe()
    os.set_blocking(wfd, False)
    signal.set_wakeup_fd(wfd)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    while True:
        ready, _, _ = select.select([control.fileno(), rfd], [], [])
        if rfd in ready:
            try:
                os.read(rfd, 4096)
            except BlockingIOError:
                pass
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            code = os.waitstatus_to_exitcode(status)
            control.send(json.dumps({"exit": pid, "status": code}).encode())
        if control.fileno() not in ready:
            continue
        data, fds, _flags, _addr = socket.recv_fds(control, 1 << 20, 4)
        if not data:
            return  # the server went away
        request = json.loads(data)
        if not fds:
            control.send(json.dumps({"id": request["id"], "error": "no output fd"}).encode())
            continue
        pid = os.fork()
        if pid == 0:
            _child(request, fds[0], control, rfd)
        for fd in fds:
            os.close(fd)
        control.send(json.dumps({"id": request["id"], "pid": pid}).encode())


if __name__ == "__main__":
    main()
