"""Large uploads, spooled to disk as they arrive.

A PUT body larger than SPOOL_AT is not held in memory. Its bytes go to a file in the spool folder
(in the data directory, so that S3 can move the file into place instead of copying it), and the
digests the request will need — its SHA-256 for the signature's payload check, plus what the
edge's `digests` hook asks for (S3: the MD5 that becomes the ETag, and the declared checksum) —
are computed while it arrives. Two worker threads share the work (hashlib and zlib release the
GIL): one writes the file and runs every digest but MD5, the other runs MD5, the slowest. So a
64 MiB upload is hashed and written while its last bytes are still on the wire, in bounded
memory, and the event loop only hands over batches of chunks.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import queue
import secrets
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from overcast.core import writeback
from overcast.core.errors import ServiceError
from overcast.core.http import HttpRequest, SpooledBody
from overcast.edge import chunked

SPOOL_AT = 8 * 1024 * 1024
"""Bodies larger than this are spooled. 8 MiB is the part size of the aws CLI and boto3's
transfer manager: their multipart parts stay in memory."""

_BATCH = 1 << 20  # bytes handed to the workers at a time
_DEPTH = 8  # batches a worker may have queued before the reader waits for it


class Digest(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...
    def digest(self) -> bytes: ...


DigestHook = Callable[[dict[str, str]], Mapping[str, Digest]]
"""Given a request's headers, the digests (by name) its service will want of the body."""

RefusalHook = Callable[[str, HttpRequest, int], Exception | None]
"""Given a service, the request and its declared body size: the error that refuses the body
unread (larger than the service could take), or None."""


Batch = list[bytes | memoryview]


class ClientGone(Exception):
    """The client went away before its body was complete."""


class _Lane:
    """One worker thread applying `work` to batches in order, with a bounded queue."""

    def __init__(self, loop: asyncio.AbstractEventLoop, work: Callable[[Batch], None]) -> None:
        self._loop = loop
        self._work = work
        self._queue: queue.SimpleQueue[Batch | None] = queue.SimpleQueue()
        self._room = asyncio.Semaphore(_DEPTH)
        self._done: asyncio.Future[None] = loop.create_future()
        self.error: BaseException | None = None
        threading.Thread(target=self._run, name="overcast-spool", daemon=True).start()

    async def put(self, batch: Batch) -> None:
        await self._room.acquire()
        self._queue.put(batch)

    async def finish(self) -> None:
        self._queue.put(None)
        await self._done

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self.error is None:
                try:
                    self._work(batch)
                except BaseException as exc:  # reported by finish's caller, after the body
                    self.error = exc
            self._call(self._room.release)
        self._call(self._resolve)

    def _resolve(self) -> None:
        if not self._done.done():
            self._done.set_result(None)

    def _call(self, fn: Callable[[], None]) -> None:
        try:
            self._loop.call_soon_threadsafe(fn)
        except RuntimeError:  # the loop closed (shutdown): nobody is waiting any more
            pass


class _Writer:
    """Writes the spool file (and runs the digests that share its thread), queueing what it
    wrote for the disk every WRITEBACK bytes, so that the fsync that makes the upload durable
    finds most of it written already."""

    WRITEBACK = 8 * 1024 * 1024

    def __init__(self, f: Any, digests: list[Digest]) -> None:
        self._f = f
        self._digests = digests
        self._written = 0
        self._queued = 0

    def __call__(self, batch: Batch) -> None:
        f = self._f
        for chunk in batch:
            f.write(chunk)
            self._written += len(chunk)
            for d in self._digests:
                d.update(chunk)
        if self._written - self._queued >= self.WRITEBACK:
            f.flush()
            writeback.start_writeback(f.fileno(), self._queued, self._written - self._queued)
            self._queued = self._written


def _feed(digests: list[Digest], batch: Batch) -> None:
    for chunk in batch:
        for d in digests:
            d.update(chunk)


def should_spool(method: str, headers: dict[str, str], signed_for: str | None) -> bool:
    """Whether a request's body is spooled: a PUT that declares more than SPOOL_AT bytes, plain
    or aws-chunked without chunk signatures (then decoded on the way in, and only when signed
    for S3, the one service that speaks it). Signed chunks are checked in memory, after the
    request's own signature."""
    if method != "PUT":
        return False
    if chunked.is_aws_chunked_headers(headers):
        if headers.get("x-amz-content-sha256") != chunked.STREAMING_UNSIGNED_TRAILER:
            return False
        if signed_for != "s3":
            return False
    size = declared_size(headers)
    return size is not None and size > SPOOL_AT


def declared_size(headers: dict[str, str]) -> int | None:
    """The body size a request declares: x-amz-decoded-content-length for aws-chunked, else
    Content-Length (None when it declares none)."""
    if chunked.is_aws_chunked_headers(headers):
        text = headers.get("x-amz-decoded-content-length", "")
    else:
        text = headers.get("content-length", "")
    try:
        return int(text)
    except ValueError:
        return None


async def receive_spooled(
    receive: Any,
    first: dict[str, Any],
    directory: Path,
    digests: dict[str, Digest],
    decoder: chunked.UnsignedChunkDecoder | None = None,
) -> SpooledBody:
    """Read the rest of a body (from the `first` message on) into a new file under `directory`,
    computing `digests` on the way; with a `decoder`, the aws-chunked framing comes off first
    (an error in it is kept in the SpooledBody, and the rest of the body read and dropped).
    Raises ClientGone if the client disconnects, OSError if the file cannot be written; the
    file is removed in both cases."""
    loop = asyncio.get_running_loop()
    path = directory / secrets.token_hex(16)
    f = open(path, "wb")  # noqa: SIM115 - closed below, once the writer is done
    md5 = [d for name, d in digests.items() if name == "md5"]
    others = [d for name, d in digests.items() if name != "md5"]
    lanes: list[_Lane] = []
    size = 0
    error: ServiceError | None = None
    batch: Batch = []
    pending = 0
    message = first
    try:
        try:
            lanes.append(_Lane(loop, _Writer(f, others)))
            if md5:
                lanes.append(_Lane(loop, functools.partial(_feed, md5)))
            while True:
                if message["type"] == "http.disconnect":
                    raise ClientGone()
                chunk = message.get("body", b"")
                pieces: Batch = [chunk] if chunk else []
                if chunk and decoder is not None:
                    try:
                        pieces = decoder.feed(chunk) if error is None else []
                    except ServiceError as exc:
                        error, pieces = exc, []
                for piece in pieces:
                    batch.append(piece)
                    pending += len(piece)
                    size += len(piece)
                more = message.get("more_body", False)
                if pending >= _BATCH or (not more and batch):
                    for lane in lanes:
                        await lane.put(batch)
                    batch, pending = [], 0
                if not more:
                    break
                message = await receive()
        finally:
            for lane in lanes:
                await lane.finish()
            f.close()
        for lane in lanes:
            if lane.error is not None:
                raise lane.error
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    trailers: dict[str, str] | None = None
    if decoder is not None:
        trailers = {}
        if error is None:
            try:
                trailers = decoder.finish()
            except ServiceError as exc:
                error = exc
    return SpooledBody(
        path, size, {name: d.digest() for name, d in digests.items()}, trailers, error
    )


def sha256_wanted(headers: dict[str, str]) -> bool:
    """Whether the signature check will want the body's SHA-256: x-amz-content-sha256 is a
    hash to compare with, or absent (then the body's hash is in the canonical request)."""
    declared = headers.get("x-amz-content-sha256")
    return declared is None or len(declared) == 64


def new_sha256() -> Digest:
    return hashlib.sha256()


def clear(directory: Path) -> None:
    """Remove what a previous run left in the spool folder (a crash mid-upload)."""
    directory.mkdir(parents=True, exist_ok=True)
    for p in directory.iterdir():
        p.unlink(missing_ok=True)
