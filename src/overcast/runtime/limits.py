"""Real limits for execution environments: memory (cgroup v2, v1, or RSS watching), the
unprivileged user functions run as, and private /tmp folders.

Which memory mechanism is used is decided once per process, from what this machine allows: a
memory cgroup under Overcast's own cgroup where one can be created, else RSS watching (RLIMIT_AS
is not used: Node.js and many native libraries reserve far more address space than they touch).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import signal
import subprocess
import zlib
from pathlib import Path

log = logging.getLogger("overcast.runtime")

_V1_ROOT = Path("/sys/fs/cgroup/memory")
_V2_ROOT = Path("/sys/fs/cgroup")

# Function users: a uid/gid per function, from a range no real account uses, so that one
# function cannot read another's code, nor Overcast's data directory.
UID_BASE = 900_000
UID_SPAN = 60_000


def function_uid(function_key: str) -> int:
    """A stable unprivileged uid (and gid) for one function (by account, region and name)."""
    return UID_BASE + zlib.crc32(function_key.encode()) % UID_SPAN


def drop_privileges() -> bool:
    """Whether functions should run as an unprivileged user (only possible when we are root)."""
    if os.environ.get("OVERCAST_LAMBDA_SAME_USER") in ("1", "true"):
        return False
    return hasattr(os, "geteuid") and os.geteuid() == 0


class MemoryCgroup:
    """One environment's memory cgroup (v1 or v2)."""

    def __init__(self, path: Path, version: int) -> None:
        self.path = path
        self.version = version
        self._fds: dict[str, int] = {}

    def _fd(self, name: str, flags: int) -> int:
        """A file of the group kept open: re-reading or re-writing it costs no open()."""
        fd = self._fds.get(name)
        if fd is None:
            fd = self._fds[name] = os.open(self.path / name, flags)
        return fd

    def _fd_w(self, name: str) -> int:
        key = name + ":w"
        fd = self._fds.get(key)
        if fd is None:
            fd = self._fds[key] = os.open(self.path / name, os.O_WRONLY)
        return fd

    def close(self) -> None:
        for fd in self._fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds.clear()

    def add(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(str(pid))

    def reset_peak(self) -> None:
        """Start a new measurement window for Max Memory Used."""
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        with contextlib.suppress(OSError):
            os.write(self._fd_w(name), b"0")

    def peak_bytes(self) -> int:
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        try:
            return int(os.pread(self._fd(name, os.O_RDONLY), 64, 0).strip())
        except (OSError, ValueError):
            return self.current_bytes()

    def current_bytes(self) -> int:
        name = "memory.usage_in_bytes" if self.version == 1 else "memory.current"
        try:
            return int((self.path / name).read_text().strip())
        except (OSError, ValueError):
            return 0

    def oom_killed(self) -> bool:
        """Whether the kernel killed something here for exceeding the limit."""
        try:
            if self.version == 1:
                text = (self.path / "memory.oom_control").read_text()
                for line in text.splitlines():
                    if line.startswith("oom_kill "):
                        return int(line.split()[1]) > 0
                return int((self.path / "memory.failcnt").read_text()) > 0
            for line in (self.path / "memory.events").read_text().splitlines():
                if line.startswith("oom_kill "):
                    return int(line.split()[1]) > 0
        except (OSError, ValueError):
            pass
        return False

    def kill_all(self) -> None:
        """SIGKILL every process left in the group (children that escaped the process group)."""
        try:
            pids = (self.path / "cgroup.procs").read_text().split()
        except OSError:
            return
        for pid in pids:
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pid), signal.SIGKILL)

    def remove(self) -> None:
        self.close()
        self.kill_all()
        with contextlib.suppress(OSError):
            self.path.rmdir()


class CgroupFactory:
    """Creates memory cgroups under Overcast's own cgroup, if this machine lets it."""

    def __init__(self) -> None:
        self.parent, self.version = _find_parent()
        if self.parent is not None:
            log.info("function memory limits: cgroup v%d under %s", self.version, self.parent)
        else:
            log.info("function memory limits: RSS watching (no writable memory cgroup)")

    @property
    def available(self) -> bool:
        return self.parent is not None

    def create(self, name: str, memory_mb: int) -> MemoryCgroup | None:
        """A new cgroup capped at `memory_mb`, or None if that fails."""
        if self.parent is None:
            return None
        path = self.parent / name
        try:
            path.mkdir(exist_ok=True)
            limit = str(memory_mb * 1024 * 1024)
            if self.version == 1:
                (path / "memory.limit_in_bytes").write_text(limit)
                with contextlib.suppress(OSError):  # only with swap accounting
                    (path / "memory.memsw.limit_in_bytes").write_text(limit)
            else:
                (path / "memory.max").write_text(limit)
                with contextlib.suppress(OSError):
                    (path / "memory.swap.max").write_text("0")
        except OSError as exc:
            log.warning("could not create memory cgroup %s: %s", path, exc)
            with contextlib.suppress(OSError):
                path.rmdir()
            return None
        return MemoryCgroup(path, self.version)


def _own_cgroup(controller: str) -> str | None:
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controller in controllers.split(","):
                return path
    except OSError:
        return None
    return None


def _find_parent() -> tuple[Path | None, int]:
    if os.environ.get("OVERCAST_LAMBDA_NO_CGROUP") in ("1", "true"):
        return None, 0
    tag = f"overcast-{os.getpid()}-{secrets.token_hex(3)}"  # several servers may share a pid
    v1 = _own_cgroup("memory")
    if v1 is not None and _V1_ROOT.is_dir():
        parent = _V1_ROOT / v1.lstrip("/") / tag
        _remove_stale(parent.parent)
        if _try_mkdir(parent):
            return parent, 1
    v2 = _own_cgroup("")
    controllers = _V2_ROOT / "cgroup.controllers"
    if v2 is not None and controllers.exists() and "memory" in controllers.read_text().split():
        base = _V2_ROOT / v2.lstrip("/")
        _remove_stale(base)
        parent = base / tag
        try:
            parent.mkdir(exist_ok=True)
            (parent / "cgroup.subtree_control").write_text("+memory")
            return parent, 2
        except OSError:
            with contextlib.suppress(OSError):
                parent.rmdir()
    return None, 0


def _remove_stale(parent: Path) -> None:
    """Remove cgroups left by Overcast processes that died without cleaning up (kill -9)."""
    with contextlib.suppress(OSError):
        for entry in parent.iterdir():
            parts = entry.name.split("-")
            if len(parts) < 2 or parts[0] != "overcast" or not parts[1].isdigit():
                continue
            if int(parts[1]) == os.getpid() or Path(f"/proc/{parts[1]}").exists():
                continue
            for child in entry.iterdir():
                if child.is_dir():
                    with contextlib.suppress(OSError):
                        child.rmdir()
            with contextlib.suppress(OSError):
                entry.rmdir()


def _try_mkdir(path: Path) -> bool:
    try:
        path.mkdir(exist_ok=True)
        return (path / "memory.limit_in_bytes").exists()
    except OSError:
        return False


def remove_parent(factory: CgroupFactory) -> None:
    """Remove Overcast's cgroup folder at shutdown (children must be gone first)."""
    if factory.parent is not None:
        with contextlib.suppress(OSError):
            for child in factory.parent.iterdir():
                if child.is_dir():
                    MemoryCgroup(child, factory.version).remove()
            factory.parent.rmdir()


def rss_bytes(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) of a process tree's leader, from /proc (0s if it is gone)."""
    cur = peak = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) * 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return cur, peak


class PeakRss:
    """A process's peak RSS (VmHWM), read through a /proc file kept open (cheap per call)."""

    def __init__(self, pid: int) -> None:
        try:
            self._fd = os.open(f"/proc/{pid}/status", os.O_RDONLY)
        except OSError:
            self._fd = -1

    def peak_bytes(self) -> int:
        if self._fd < 0:
            return 0
        try:
            data = os.pread(self._fd, 4096, 0)
        except OSError:
            return 0
        i = data.find(b"VmHWM:")
        if i < 0:
            return 0
        return int(data[i + 6 : data.index(b"kB", i)].strip()) * 1024

    def close(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1


def tree_rss(pid: int) -> int:
    """Total RSS of a process and its descendants (for RSS watching without a cgroup)."""
    children: dict[int, list[int]] = {}
    try:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    except OSError:
        return rss_bytes(pid)[0]
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        total += rss_bytes(p)[0]
        stack.extend(children.get(p, []))
    return total


def prepare_private_dir(path: Path, uid: int | None, gid: int | None) -> None:
    """Create a folder only the function's user may use (its /tmp, its home)."""
    path.mkdir(parents=True, exist_ok=True)
    if uid is not None and gid is not None:
        os.chown(path, uid, gid)
    os.chmod(path, 0o700)


def dir_size(path: Path) -> int:
    """Bytes used under a folder (for the ephemeral storage cap)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


class TmpImages:
    """Ephemeral storage capped as on AWS: each environment's /tmp is a small ext4 filesystem of
    its EphemeralStorage size, loop-mounted in the environment's own mount namespace, so writing
    past the size fails with ENOSPC. Images are sparse copies of one template per size (made once
    with mkfs.ext4): only the blocks a function writes take disk. Needs root, mkfs.ext4 and loop
    devices; without them `image_for` gives None and only the per-file limit applies."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._usable: bool | None = None

    def available(self) -> bool:
        if self._usable is None:
            self._usable = (
                os.geteuid() == 0
                and shutil.which("mkfs.ext4") is not None
                and shutil.which("mount") is not None
                and Path("/dev/loop-control").exists()
            )
        return self._usable

    def image_for(self, size_mb: int, dest: Path) -> Path | None:
        """A fresh empty filesystem image of `size_mb` usable megabytes at `dest`, or None."""
        if not self.available():
            return None
        template = self.root / f"ext4-{size_mb}.img"
        try:
            if not template.exists():
                self.root.mkdir(parents=True, exist_ok=True)
                building = template.with_name(f"{template.name}.{os.getpid()}.tmp")
                # Room for ext4's own metadata, so the function gets about what it asked for.
                total = (size_mb + size_mb // 32 + 8) * 1024 * 1024
                with open(building, "wb") as f:
                    f.truncate(total)
                subprocess.run(
                    ["mkfs.ext4", "-q", "-F", "-m", "0", "-O", "^has_journal",
                     "-E", "lazy_itable_init=1,nodiscard,root_owner=0:0", str(building)],
                    check=True,
                    capture_output=True,
                )  # fmt: skip
                os.replace(building, template)
            spare = self.root / f"spare-{size_mb}.img"
            try:
                os.replace(spare, dest)  # one made ahead of time: no copy on the cold start
            except FileNotFoundError:
                self._copy(template, dest)
        except (OSError, subprocess.CalledProcessError) as exc:
            log.warning("ephemeral storage images unavailable (%s); per-file limit only", exc)
            self._usable = False
            return None
        return dest

    def refill(self, size_mb: int) -> None:
        """Make the next environment's image ahead of time (run off the request path)."""
        template = self.root / f"ext4-{size_mb}.img"
        spare = self.root / f"spare-{size_mb}.img"
        if not self._usable or spare.exists() or not template.exists():
            return
        building = spare.with_name(f"{spare.name}.{secrets.token_hex(4)}.tmp")
        try:
            self._copy(template, building)
            os.replace(building, spare)
        except (OSError, subprocess.CalledProcessError):
            with contextlib.suppress(OSError):
                building.unlink()

    @staticmethod
    def _copy(template: Path, dest: Path) -> None:
        subprocess.run(
            ["cp", "--sparse=always", str(template), str(dest)], check=True, capture_output=True
        )
