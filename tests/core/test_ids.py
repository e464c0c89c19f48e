"""Identifiers: request ids are UUID4-shaped, unique, and differ between a process and its forks."""

from __future__ import annotations

import os
import re
import uuid

from overcast.core import ids

_UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_request_ids_are_uuid4_shaped_and_unique() -> None:
    seen = {ids.request_id() for _ in range(10_000)}
    assert len(seen) == 10_000
    for rid in list(seen)[:500]:
        assert _UUID4.match(rid), rid
        parsed = uuid.UUID(rid)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == rid


def test_a_forked_process_draws_its_own_request_ids() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ids and leave at once
        os.close(read)
        os.write(write, ",".join(ids.request_id() for _ in range(3)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        child = f.read().split(",")
    os.waitpid(pid, 0)
    ours = [ids.request_id() for _ in range(3)]
    assert len(child) == 3 and not set(child) & set(ours)
    assert child[0][:24] != ours[0][:24]  # a fresh random prefix, not the parent's


def test_other_ids_have_their_forms() -> None:
    assert re.fullmatch(r"[a-z0-9]{10}", ids.short_id())
    assert re.fullmatch(r"AKIA[A-Z0-9]{16}", ids.upper_id(20, "AKIA"))
    assert len(ids.token()) >= 32
