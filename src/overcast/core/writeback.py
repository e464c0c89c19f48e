"""Starting the write-back of a file's dirty pages early, so that its final fsync has less to
wait for. Linux's sync_file_range(SYNC_FILE_RANGE_WRITE) queues the pages for writing and
returns at once; durability still comes only from fsync. Elsewhere this does nothing."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable

_SYNC_FILE_RANGE_WRITE = 2


def _binding() -> Callable[[int, int, int], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int

    def start(fd: int, offset: int, length: int) -> None:
        fn(fd, offset, length, _SYNC_FILE_RANGE_WRITE)  # a failure only means no head start

    return start


_start = _binding()


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Queue the file's bytes [offset, offset+length) for writing to disk, without waiting."""
    if _start is not None and length > 0:
        _start(fd, offset, length)


def available() -> bool:
    return _start is not None
