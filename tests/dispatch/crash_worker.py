"""A process that runs the delivery loop over a real data directory, for the SIGKILL test.

    crash_worker.py DATA_DIR LOG RUN [--enqueue N M] [--hold] [--until-empty]

Each delivery's handler appends "RUN KEY TIME" to LOG (written and fsynced before the handler
returns, i.e. before the dispatcher deletes the row). `--enqueue N M` first writes N deliveries
(d0..) and M timers (t0.., due 2-4 s later) in one transaction and then creates DATA_DIR/enqueued.
`--hold` makes some deliveries never finish in this run, so that some are certainly pending
when the test kills the process: d60 and above and every timer block before writing, d5 writes
its line and then blocks (a kill between the effect and the acknowledgement), and d1 fails every
attempt (a retry pending at the kill). Deliveries d0, d10, d20... fail their first attempt in
each run.
`--until-empty` exits once the outbox is empty.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path
from typing import Any

from overcast.core.clock import SystemClock
from overcast.core.context import RequestContext
from overcast.dispatch import Dispatcher, OperationTable, RetryPolicy, Target
from overcast.store import Store

TARGET = Target("handler", "crash.record")
POLICY = RetryPolicy(max_attempts=1000, base_delay=0.05, max_delay=0.2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("log", type=Path)
    ap.add_argument("run")
    ap.add_argument("--enqueue", nargs=2, type=int, metavar=("N", "M"))
    ap.add_argument("--hold", action="store_true")
    ap.add_argument("--until-empty", action="store_true")
    args = ap.parse_args()
    asyncio.run(run(args))


async def run(args: argparse.Namespace) -> None:
    store = Store(args.data_dir)
    db = store.open("crash")
    dispatcher = Dispatcher(OperationTable(), store, SystemClock(), max_in_flight=4)
    failed_once: set[str] = set()
    forever = asyncio.Event()
    log_fd = os.open(args.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def record(key: str) -> None:
        os.write(log_fd, f"{args.run} {key} {time.time()!r}\n".encode())
        os.fsync(log_fd)

    async def handler(ctx: RequestContext, payload: dict[str, Any]) -> None:
        key: str = payload["key"]
        await asyncio.sleep(0.02)  # some work, so that deliveries overlap and the kill lands amid
        if payload.get("fail_first") and key not in failed_once:
            failed_once.add(key)
            raise RuntimeError(f"{key} fails its first attempt")
        if args.hold and key == "d1":
            raise RuntimeError("d1 fails while held")
        if args.hold and (key.startswith("t") or int(key[1:]) >= 60):
            await forever.wait()
        record(key)
        if args.hold and key == "d5":
            await forever.wait()

    dispatcher.register_handler(TARGET.name, handler)
    if args.enqueue:
        n, m = args.enqueue
        ctx = RequestContext(request_id="crash-test")
        now = time.time()
        with db.transaction():
            for i in range(n):
                payload = {"key": f"d{i}", "fail_first": i % 10 == 0}
                dispatcher.enqueue(db, TARGET, payload, ctx=ctx, policy=POLICY)
            for i in range(m):
                delay = 2.0 + 2.0 * i / max(m, 1)
                payload = {"key": f"t{i}", "due": now + delay}
                dispatcher.enqueue(db, TARGET, payload, ctx=ctx, policy=POLICY, delay=delay)
        (args.data_dir / "enqueued").write_text("yes")
    await dispatcher.start()
    try:
        while True:
            await asyncio.sleep(0.05)
            if args.until_empty and not dispatcher.pending(db):
                return
    finally:
        await dispatcher.stop()
        os.close(log_fd)
        store.close()


if __name__ == "__main__":
    main()
