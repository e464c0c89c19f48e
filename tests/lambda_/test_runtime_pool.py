"""The runtime's pool used directly (no server): the machine-wide environment cap evicts the
least recently used idle environment instead of waiting for the idle reaper."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

from overcast.runtime import FunctionSpec, Invocation, Pool, PoolConfig


def spec(tmp: Path, key: str) -> FunctionSpec:
    code = tmp / key
    code.mkdir()
    (code / "app.py").write_text("import os\ndef handler(e, c):\n    return os.getpid()\n")
    return FunctionSpec(
        key=key, function_name=key, version="$LATEST", runtime="python3.12",
        handler="app.handler", code_dir=code, opt_dir=None, memory_mb=128, timeout=5.0,
        ephemeral_mb=512, region="us-east-1", account_id="000000000000",
        log_group=f"/aws/lambda/{key}",
    )  # fmt: skip


def test_cap_evicts_least_recently_used_idle_environment(tmp_path: Path) -> None:
    async def scenario() -> None:
        pool = Pool(PoolConfig(work_root=tmp_path / "work", max_environments=1))
        await pool.start()
        try:
            a, b = spec(tmp_path, "a"), spec(tmp_path, "b")

            async def run(s: FunctionSpec) -> int:
                inv = Invocation(str(uuid.uuid4()), b"{}", "arn:aws:lambda:::function:x")
                result = await asyncio.wait_for(pool.invoke(s, inv, function_id=s.key), 20)
                assert result.error_type is None, result.payload
                return int(json.loads(result.payload))

            first = await run(a)
            assert await run(a) == first  # warm
            await run(b)  # the cap is 1: a's idle environment makes room
            assert pool.environments("a") == []
            assert await run(a) != first  # a cold start again
        finally:
            await pool.stop()

    asyncio.run(scenario())
