"""Group commit of small writes: concurrent PUTs and DELETEs share one durable commit, each in
its own savepoint, conditions evaluated in order inside the group transaction; and a SIGKILL
during concurrent small uploads loses no acknowledged object."""

from __future__ import annotations

import asyncio
import hashlib
import random
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from overcast.core.load import Load
from overcast.store import Migration, Store
from overcast.store.group import GroupCommit

_SCHEMA = [Migration("0001_t", "CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL);")]


def _group(tmp_path: Path, in_hand: int = 8) -> GroupCommit:
    """A group commit that sees `in_hand` requests in hand (by default several: writes wait for
    the round, and group)."""
    db = Store(tmp_path).open("g", _SCHEMA)
    load = Load()
    load.in_hand = in_hand
    return GroupCommit(db, load=load)


def test_group_runs_writes_in_order_and_a_failing_one_rolls_back_alone(tmp_path: Path) -> None:
    group = _group(tmp_path)

    def put(k: str, v: int) -> Callable[[sqlite3.Connection], int]:
        def fn(tx: sqlite3.Connection) -> int:
            tx.execute("INSERT OR REPLACE INTO t(k, v) VALUES (?, ?)", (k, v))
            return v

        return fn

    def put_then_fail(tx: sqlite3.Connection) -> int:
        tx.execute("INSERT OR REPLACE INTO t(k, v) VALUES ('a', 99)")
        tx.execute("INSERT INTO t(k, v) VALUES ('z', 1)")
        raise ValueError("boom")

    def create_only(tx: sqlite3.Connection) -> int:  # a conditional write: fails if 'a' exists
        if tx.execute("SELECT 1 FROM t WHERE k = 'a'").fetchone():
            raise KeyError("a")
        return 0

    async def main() -> list[Any]:
        return await asyncio.gather(  # type: ignore[return-value]
            group.submit(put("a", 1)),
            group.submit(put_then_fail),
            group.submit(put("a", 2)),
            group.submit(create_only),
            group.submit(put("b", 3)),
            return_exceptions=True,
        )

    results = asyncio.run(main())
    assert results[0] == 1 and results[2] == 2 and results[4] == 3
    assert isinstance(results[1], ValueError)
    assert isinstance(results[3], KeyError)  # evaluated after 'a' was written, in order
    assert {r["k"]: r["v"] for r in group.db.query("SELECT k, v FROM t")} == {"a": 2, "b": 3}
    fresh = sqlite3.connect(group.db.path)
    assert sorted(fresh.execute("SELECT k, v FROM t").fetchall()) == [("a", 2), ("b", 3)]
    fresh.close()


def test_a_lone_write_commits_and_fails_alone(tmp_path: Path) -> None:
    group = _group(tmp_path)

    def fail(tx: sqlite3.Connection) -> None:
        tx.execute("INSERT INTO t(k, v) VALUES ('x', 1)")
        raise RuntimeError("no")

    async def main() -> None:
        with pytest.raises(RuntimeError):
            await group.submit(fail)
        await group.submit(lambda tx: tx.execute("INSERT INTO t(k, v) VALUES ('y', 2)"))

    asyncio.run(main())
    assert [r["k"] for r in group.db.query("SELECT k FROM t")] == ["y"]


def test_writes_issued_together_share_one_commit(tmp_path: Path) -> None:
    group = _group(tmp_path)
    commits = 0

    def count(_: str) -> None:
        nonlocal commits
        commits += 1

    async def main() -> list[Any]:
        futures = [
            group.submit(lambda tx, i=i: tx.execute("INSERT INTO t VALUES (?, ?)", (f"k{i}", i)))
            for i in range(10)
        ]
        assert not any(f.done() for f in futures)  # waiting for the round
        return await asyncio.gather(*futures)

    group.db.conn.set_trace_callback(lambda sql: count(sql) if sql == "COMMIT" else None)
    asyncio.run(main())
    assert commits == 1
    assert group.db.query("SELECT count(*) AS n FROM t")[0]["n"] == 10


@pytest.mark.parametrize("in_hand", [0, 1])
def test_a_write_with_no_other_request_in_hand_is_committed_before_submit_returns(
    tmp_path: Path, in_hand: int
) -> None:
    group = _group(tmp_path, in_hand=in_hand)

    async def main() -> None:
        fut = group.submit(lambda tx: tx.execute("INSERT INTO t VALUES ('now', 1)") and 7)
        assert fut.done() and fut.result() == 7
        fresh = sqlite3.connect(group.db.path)  # committed: another connection sees it
        assert fresh.execute("SELECT v FROM t WHERE k = 'now'").fetchall() == [(1,)]
        fresh.close()
        failing = group.submit(lambda tx: tx.execute("INSERT INTO t VALUES ('now', 2)"))
        assert failing.done()
        with pytest.raises(sqlite3.IntegrityError):
            await failing

    asyncio.run(main())


def test_concurrent_create_only_puts_have_exactly_one_winner(s3: Any, bucket: str) -> None:
    def put(i: int) -> str:
        try:
            s3.put_object(Bucket=bucket, Key="once", Body=f"v{i}".encode(), IfNoneMatch="*")
        except ClientError as err:
            return str(err.response["Error"]["Code"])
        return f"v{i}"

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(put, range(32)))
    winners = [o for o in outcomes if o.startswith("v")]
    assert len(winners) == 1
    assert sorted(set(outcomes) - set(winners)) == ["PreconditionFailed"]
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == winners[0].encode()


def test_concurrent_if_match_chain_serializes(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"base")["ETag"]

    def put(i: int) -> bool:
        try:
            s3.put_object(Bucket=bucket, Key="k", Body=f"n{i}".encode(), IfMatch=etag)
        except ClientError as err:
            assert err.response["Error"]["Code"] == "PreconditionFailed"
            return False
        return True

    with ThreadPoolExecutor(16) as pool:
        won = list(pool.map(put, range(16)))
    assert sum(won) == 1  # only the first one in the serial order still saw `etag`
    body = s3.get_object(Bucket=bucket, Key="k")["Body"].read()
    assert body == f"n{won.index(True)}".encode()


def test_concurrent_small_puts_and_deletes(s3: Any, bucket: str) -> None:
    bodies = {f"k{i}": random.Random(i).randbytes(i * 997) for i in range(40)}

    def put(key: str) -> str:
        return str(s3.put_object(Bucket=bucket, Key=key, Body=bodies[key])["ETag"])

    with ThreadPoolExecutor(16) as pool:
        etags = dict(zip(bodies, pool.map(put, bodies), strict=True))
    for key, body in bodies.items():
        assert etags[key] == f'"{hashlib.md5(body).hexdigest()}"'
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    doomed = [k for i, k in enumerate(bodies) if i % 2]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: s3.delete_object(Bucket=bucket, Key=k), doomed))
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert listed == set(bodies) - set(doomed)
    with pytest.raises(ClientError) as exc:  # a bad conditional delete fails alone
        s3.delete_object(Bucket=bucket, Key="k0", IfMatch='"nope"')
    assert exc.value.response["Error"]["Code"] == "PreconditionFailed"


def test_delete_objects_failing_key_rolls_back_alone(s3: Any, bucket: str) -> None:
    etags = {k: s3.put_object(Bucket=bucket, Key=k, Body=k.encode())["ETag"] for k in "abc"}
    out = s3.delete_objects(
        Bucket=bucket,
        Delete={
            "Objects": [
                {"Key": "a", "ETag": etags["a"]},
                {"Key": "b", "ETag": '"0123456789abcdef0123456789abcdef"'},
                {"Key": "c"},
            ]
        },
    )
    assert sorted(d["Key"] for d in out["Deleted"]) == ["a", "c"]
    assert [(e["Key"], e["Code"]) for e in out["Errors"]] == [("b", "PreconditionFailed")]
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert listed == ["b"]
