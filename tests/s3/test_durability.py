"""Durability: SIGKILL during concurrent uploads loses no acknowledged object and leaves no
partial object, temporary file or orphan blob behind."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from overcast.services.s3.objects import INLINE_MAX
from tests.conftest import Server


def payload(key: str, max_bytes: int) -> bytes:
    rng = random.Random(key)
    return rng.randbytes(rng.randint(0, max_bytes))


@pytest.mark.parametrize(
    ("max_bytes", "wanted"),
    [
        (2 * 1024 * 1024, 60),  # mostly blob files, each fsynced and renamed before its row
        (200 * 1024, 150),  # inline rows and small blob files, through the group commit
    ],
)
def test_sigkill_during_concurrent_uploads(
    server_factory: Callable[..., Server], max_bytes: int, wanted: int
) -> None:
    srv = server_factory().start()
    srv.client("s3").create_bucket(Bucket="durable")
    acked: dict[str, str] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def worker(i: int) -> None:
        c = srv.client("s3")
        n = 0
        while not stop.is_set():
            key = f"w{i}/{n}"
            data = payload(key, max_bytes)
            try:
                c.put_object(Bucket="durable", Key=key, Body=data)
            except Exception:
                return
            with lock:
                acked[key] = hashlib.md5(data).hexdigest()
            n += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(acked) < wanted and time.monotonic() < deadline:
        time.sleep(0.02)
    srv.kill()
    stop.set()
    for t in threads:
        t.join()
    assert len(acked) >= wanted

    srv.start()
    s3: Any = srv.client("s3")
    visible = {
        o["Key"]: o
        for p in s3.get_paginator("list_objects_v2").paginate(Bucket="durable")
        for o in p.get("Contents", [])
    }
    # Every acknowledged object is there, intact.
    for key in acked:
        assert key in visible, key
    # Whatever is visible (acknowledged or not) is complete: its bytes are what was sent.
    for key, entry in visible.items():
        expected = payload(key, max_bytes)
        body = s3.get_object(Bucket="durable", Key=key)["Body"].read()
        assert hashlib.md5(body).hexdigest() == hashlib.md5(expected).hexdigest(), key
        assert entry["Size"] == len(expected)
    # Nothing half-written is left on disk: no temporary files, one blob file per object too
    # large to be stored inline.
    blobs = srv.data_dir / "blobs" / "s3"
    assert list((blobs / ".tmp").iterdir()) == []
    files = [p for sub in blobs.iterdir() if sub.name != ".tmp" for p in sub.iterdir()]
    assert len(files) == len([o for o in visible.values() if o["Size"] > INLINE_MAX])


def test_deletes_free_files(server_factory: Callable[..., Server]) -> None:
    srv = server_factory(env={"OVERCAST_S3_FREE_GRACE": "0"}).start()
    s3: Any = srv.client("s3")
    s3.create_bucket(Bucket="freeing")
    for i in range(5):
        s3.put_object(Bucket="freeing", Key=f"k{i}", Body=b"x" * (INLINE_MAX + 1))
    s3.put_object(Bucket="freeing", Key="k0", Body=b"overwritten" * 10000)
    blobs = srv.data_dir / "blobs" / "s3"
    assert len([p for sub in blobs.iterdir() if sub.name != ".tmp" for p in sub.iterdir()]) >= 5
    for i in range(5):
        s3.delete_object(Bucket="freeing", Key=f"k{i}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        files = [p for sub in blobs.iterdir() if sub.name != ".tmp" for p in sub.iterdir()]
        if not files:
            break
        time.sleep(0.1)
    assert files == []
