"""SIGKILL the process running the delivery loop while deliveries and timers are pending; after a
restart every one happens, and none that was acknowledged before the kill happens again.

"Acknowledged" means the row's delete committed. SQLite commits durably, so after the kill the
outbox itself says exactly which deliveries were acknowledged: those no longer in it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from overcast.dispatch import Delivery, Dispatcher, OperationTable
from overcast.store import Store

WORKER = Path(__file__).with_name("crash_worker.py")
N, M = 120, 10


def _start(data: Path, log: Path, run: str, *extra: str) -> subprocess.Popen[bytes]:
    # The worker's log (retries are logged) goes to a file: a full pipe would stall it.
    with open(log.with_name(f"worker{run}.err"), "wb") as err:
        return subprocess.Popen(
            [sys.executable, str(WORKER), str(data), str(log), run, *extra],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


def _stderr(log: Path, run: str) -> str:
    return log.with_name(f"worker{run}.err").read_text()


def _lines(log: Path) -> list[tuple[str, str, float]]:
    """Complete lines only (a line is written in one call, before its delivery is acknowledged)."""
    if not log.exists():
        return []
    out = []
    for line in log.read_text().splitlines(keepends=True):
        if line.endswith("\n"):
            run, key, at = line.split()
            out.append((run, key, float(at)))
    return out


def _wait_for(cond: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path, run: str) -> None:
    deadline = time.monotonic() + 60
    while not cond():
        if proc.poll() is not None:
            raise AssertionError(f"worker {run} exited ({proc.returncode}): {_stderr(log, run)}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"worker {run} made no progress: {_stderr(log, run)}")
        time.sleep(0.01)


def _pending(data: Path) -> dict[str, Delivery]:
    """What the outbox holds (read after the kill, with no process running): key → row."""
    store = Store(data)
    try:
        db = store.open("crash")
        return {d.payload["key"]: d for d in Dispatcher(OperationTable()).pending(db)}
    finally:
        store.close()


def test_sigkill_with_pending_deliveries_and_timers(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "acks.log"
    everything = {f"d{i}" for i in range(N)} | {f"t{i}" for i in range(M)}

    first = _start(data, log, "1", "--enqueue", str(N), str(M), "--hold")
    _wait_for(lambda: len(_lines(log)) >= 30, first, log, "1")
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert first.returncode == -signal.SIGKILL

    pending = _pending(data)
    acknowledged = everything - set(pending)
    before: dict[str, list[float]] = defaultdict(list)
    for _, key, at in _lines(log):
        before[key].append(at)
    # Not vacuous: some were acknowledged, and deliveries, retries and timers were pending.
    assert len(acknowledged) >= 20
    assert {"d5", "d60", "t0", f"t{M - 1}"} <= set(pending)
    assert pending["d1"].attempts >= 1
    # An acknowledgement is only ever written after the delivery happened.
    assert acknowledged <= set(before)
    # d5 did its work but was killed before its acknowledgement: the one allowed repeat.
    assert "d5" in before

    second = _start(data, log, "2", "--until-empty")
    try:
        # Generous: every delivery and acknowledgement is an fsync, and the rest of the suite
        # may be writing to the same disk meanwhile.
        second.wait(timeout=180)
    finally:
        second.kill()
    assert second.returncode == 0, _stderr(log, "2")

    runs: dict[str, list[str]] = defaultdict(list)
    times: dict[str, list[float]] = defaultdict(list)
    for run, key, at in _lines(log):
        runs[key].append(run)
        times[key].append(at)
    assert set(runs) == everything  # every delivery and timer happened
    assert _pending(data) == {}
    repeated = {k for k in acknowledged if "2" in runs[k]}
    assert repeated == set(), f"acknowledged before the kill, delivered again: {sorted(repeated)}"
    assert all("2" in runs[k] for k in pending)  # what was pending ran after the restart
    assert runs["d5"] == ["1", "2"]
    for i in range(M):  # no timer fired before it was due
        assert min(times[f"t{i}"]) >= pending[f"t{i}"].payload["due"]
