"""Taking in an upload's bytes: its MD5 (the ETag), its checksum and, unless it is small enough
to live in its row, a durable blob file.

For a large body they overlap: MD5 runs in a pool thread from the start (hashlib and zlib
release the GIL on large buffers) while the calling thread copies the bytes into a temporary
file, and the checksum runs in the pool while the calling thread waits for the fsync. So a PUT
costs about its slowest step, MD5 (~600 MB/s), instead of the sum of all of them; on two cores
this order keeps MD5 alone on its core (three CPU-bound threads at once slowed it by a quarter).
An upload the edge spooled to disk (larger than 8 MiB) arrives with its digests computed on the
way in, and its file is moved into place as the blob. `store` either returns a blob that is on
disk and matches every digest the client sent, or raises with nothing left behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from overcast.core.http import SpooledBody
from overcast.services.s3 import checksums
from overcast.store import BlobStore

PARALLEL = 1 << 20
"""Bodies from this size on are hashed in pool threads while they are written; below it the
hop to a thread costs more than it saves."""

_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="s3-hash")


@dataclass(frozen=True, slots=True)
class Stored:
    """What `store` produced: the blob (None when the bytes stay inline), the MD5 digest and
    the checksum value to keep."""

    blob_id: str | None
    md5: bytes
    checksum: str


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data).digest()


def _commit(blobs: BlobStore, blob_id: str) -> None:
    """Make a staged blob durable and visible (one fsync of the file, one of its folder), or
    remove it."""
    try:
        blobs.commit_tmp(blob_id)
    except BaseException:
        blobs.discard_tmp(blob_id)
        blobs.delete(blob_id)  # in case it was already renamed into place
        raise


def store(
    blobs: BlobStore,
    body: bytes | SpooledBody,
    checksum: Callable[[bytes | SpooledBody], str],
    *,
    inline: bool,
    content_md5: str | None = None,
) -> Stored:
    """Digest `body` and, unless `inline`, write it to a new durable blob. `checksum` computes
    (and verifies) the checksum to keep; `content_md5` is the Content-MD5 header, if sent.
    Digest errors are raised in S3's order: the checksum's, then Content-MD5's."""
    if isinstance(body, SpooledBody):
        return _adopt(blobs, body, checksum, content_md5)
    blob_id: str | None = None
    if len(body) < PARALLEL:
        value = checksum(body)
        md5 = _md5(body)
        checksums.check_content_md5(content_md5, md5)
        if not inline:
            blob_id = blobs.stage(body)
            _commit(blobs, blob_id)
        return Stored(blob_id, md5, value)
    # Two cores suffice: MD5 (the slowest) runs in a pool thread from the start, this thread
    # copies the bytes into the page cache, then the checksum runs while the kernel writes them
    # back and this thread waits for the fsync.
    md5_f: Future[bytes] = _POOL.submit(_md5, body)
    try:
        if inline:
            value = checksum(body)
        else:
            blob_id = blobs.stage(body)
            value_f: Future[str] = _POOL.submit(checksum, body)
            _commit(blobs, blob_id)
            value = value_f.result()
        md5 = md5_f.result()
        checksums.check_content_md5(content_md5, md5)
    except BaseException:
        if blob_id is not None:
            blobs.delete(blob_id)
        raise
    return Stored(blob_id, md5, value)


def _adopt(
    blobs: BlobStore,
    body: SpooledBody,
    checksum: Callable[[bytes | SpooledBody], str],
    content_md5: str | None,
) -> Stored:
    """A large upload the edge spooled: its digests were computed while it arrived (any it
    lacks is computed from the file); the file itself becomes the blob, without a copy."""
    value = checksum(body)
    md5 = body.digests.get("md5")
    if md5 is None:
        with open(body.path, "rb") as f:
            md5 = hashlib.file_digest(f, "md5").digest()
    checksums.check_content_md5(content_md5, md5)
    return Stored(blobs.adopt(body.take), md5, value)
