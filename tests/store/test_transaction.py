"""Database.transaction(): commit, rollback, nesting, after-commit hooks and the writer lock."""

from __future__ import annotations

import threading
from contextlib import nullcontext
from pathlib import Path

import pytest

from overcast.store import Store
from overcast.store.db import Database, Migration

SCHEMA = [Migration("0001_t", "CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)")]


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Store(tmp_path).open("unit", SCHEMA)


def rows(db: Database) -> dict[str, int]:
    return {r["k"]: r["v"] for r in db.query("SELECT k, v FROM t")}


def test_a_committed_write_is_kept_and_hooks_run_after_it(db: Database) -> None:
    seen: list[dict[str, int]] = []
    with db.transaction() as tx:
        tx.execute("INSERT INTO t VALUES ('a', 1)")
        db.after_commit(lambda: seen.append(rows(db)))
        assert seen == []
    assert rows(db) == {"a": 1} and seen == [{"a": 1}]


def test_an_exception_rolls_back_drops_the_hooks_and_propagates(db: Database) -> None:
    seen: list[int] = []
    with pytest.raises(ValueError, match="boom"), db.transaction() as tx:
        tx.execute("INSERT INTO t VALUES ('a', 1)")
        db.after_commit(lambda: seen.append(1))
        raise ValueError("boom")
    assert rows(db) == {} and seen == []
    with db.transaction() as tx:  # the next one starts clean
        tx.execute("INSERT INTO t VALUES ('b', 2)")
    assert rows(db) == {"b": 2} and seen == []


@pytest.mark.parametrize("fail_inner", [False, True])
def test_a_nested_transaction_joins_the_outer_one(db: Database, fail_inner: bool) -> None:
    expected = pytest.raises(RuntimeError) if fail_inner else nullcontext()
    with expected, db.transaction() as outer:
        outer.execute("INSERT INTO t VALUES ('a', 1)")
        with db.transaction() as inner:
            assert inner is outer
            inner.execute("INSERT INTO t VALUES ('b', 2)")
            if fail_inner:
                raise RuntimeError("inner")
        assert outer.in_transaction  # the inner exit did not commit
    assert rows(db) == ({} if fail_inner else {"a": 1, "b": 2})


def test_a_failed_begin_or_body_releases_the_writer_lock(db: Database) -> None:
    with pytest.raises(ValueError), db.transaction():
        raise ValueError()
    done = threading.Event()

    def other_thread() -> None:
        with db.transaction() as tx:
            tx.execute("INSERT INTO t VALUES ('c', 3)")
        done.set()

    t = threading.Thread(target=other_thread)
    t.start()
    t.join(10)
    assert done.is_set() and rows(db) == {"c": 3}
