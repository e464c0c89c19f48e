"""Blob files (object bytes, function code): written atomically and durably."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    """Files under one folder, named by opaque ids that never come from user input.

    `write` returns the blob id only after the bytes are on disk; the caller then commits the row
    that refers to it. Leftover temporary files (a crash mid-write) are removed by `sweep_tmp`.
    """

    def __init__(self, root: Path, *, durable: bool = True) -> None:
        self.root = root
        self.tmp = root / ".tmp"
        self.durable = durable
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.sweep_tmp()

    def sweep_tmp(self) -> None:
        """Remove half-written files left by a crash."""
        for p in self.tmp.iterdir():
            p.unlink(missing_ok=True)

    def new_id(self) -> str:
        return secrets.token_hex(16)

    def path(self, blob_id: str) -> Path:
        """Where a blob lives (two levels of fan-out keep directories small)."""
        if not blob_id or not all(c in "0123456789abcdef" for c in blob_id):
            raise ValueError("invalid blob id")
        return self.root / blob_id[:2] / blob_id

    def write(self, data: bytes | Iterable[bytes]) -> str:
        """Write bytes (or chunks) durably; return the new blob's id."""
        blob_id = self.new_id()
        tmp = self.tmp / blob_id
        with open(tmp, "wb") as f:
            if isinstance(data, bytes | bytearray | memoryview):
                f.write(data)
            else:
                for chunk in data:
                    f.write(chunk)
            if self.durable:
                f.flush()
                os.fsync(f.fileno())
        return self.commit_tmp(blob_id)

    def stage(self, data: bytes) -> str:
        """Write bytes to a new temporary file without waiting for the disk; `commit_tmp` then
        makes it durable and visible (or `discard_tmp` drops it). Lets a caller do other work
        while the kernel writes the bytes back."""
        blob_id, tmp = self.open_tmp()
        try:
            with open(tmp, "wb") as f:
                f.write(data)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return blob_id

    def adopt(self, move: Callable[[Path], None]) -> str:
        """A new blob from a file that already holds its bytes: `move` moves it to the
        temporary path given (same file system), then it is made durable as by `commit_tmp`."""
        blob_id, tmp = self.open_tmp()
        move(tmp)
        try:
            return self.commit_tmp(blob_id)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def discard_tmp(self, blob_id: str) -> None:
        """Remove a temporary file that will not be committed."""
        self.path(blob_id)  # validates the id
        (self.tmp / blob_id).unlink(missing_ok=True)

    def open_tmp(self) -> tuple[str, Path]:
        """A fresh temporary path for a caller that streams into it; finish with `commit_tmp`."""
        blob_id = self.new_id()
        return blob_id, self.tmp / blob_id

    def commit_tmp(self, blob_id: str) -> str:
        """Move a finished temporary file into place (fsyncing it and both folders)."""
        tmp = self.tmp / blob_id
        final = self.path(blob_id)
        final.parent.mkdir(exist_ok=True)
        if self.durable:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp, final)
        if self.durable:
            _fsync_dir(final.parent)
        return blob_id

    def read(self, blob_id: str) -> bytes:
        return self.path(blob_id).read_bytes()

    def size(self, blob_id: str) -> int:
        return self.path(blob_id).stat().st_size

    def delete(self, blob_id: str) -> None:
        """Free a blob's file (after the row that named it is gone)."""
        self.path(blob_id).unlink(missing_ok=True)

    def all_ids(self) -> Iterable[str]:
        """Every stored blob id (for sweeping orphans at start-up)."""
        for sub in self.root.iterdir():
            if sub.is_dir() and sub.name != ".tmp":
                for p in sub.iterdir():
                    yield p.name
