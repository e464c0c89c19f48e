"""Object checksums: the algorithms S3 verifies, stores and returns, and how multipart objects
combine their parts' checksums (full-object CRCs are combined arithmetically, COMPOSITE ones are
a checksum of the parts' checksums with a `-N` suffix)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from base64 import b64encode
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from awscrt import checksums as crt

from overcast.core.http import SpooledBody
from overcast.services.s3.errors import BadDigest, InvalidDigest, InvalidRequest

# Checksum algorithms by the name S3 uses, with the member suffix of their params.
_CRCS: dict[str, tuple[int, Callable[[bytes, int], int]]] = {
    "CRC32": (4, lambda data, prev: zlib.crc32(data, prev)),
    "CRC32C": (4, lambda data, prev: crt.crc32c(data, prev)),
    "CRC64NVME": (8, lambda data, prev: crt.crc64nvme(data, prev)),
}
_HASHES = {"SHA1": "sha1", "SHA256": "sha256", "SHA512": "sha512", "MD5": "md5"}
ALGORITHMS = (*_CRCS, *_HASHES)
FULL_OBJECT_ONLY = {"CRC64NVME"}
COMPOSITE_ONLY = {"SHA1", "SHA256", "SHA512", "MD5"}


def member(algorithm: str) -> str:
    """The param/output member that carries an algorithm's value (`ChecksumCRC32`)."""
    return "Checksum" + algorithm


class Hasher:
    """Running checksum of one algorithm, fed chunk by chunk."""

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        self._crc = 0
        self._hash = hashlib.new(_HASHES[algorithm]) if algorithm in _HASHES else None

    def update(self, data: bytes | memoryview) -> None:
        if self._hash is not None:
            self._hash.update(data)
        else:
            self._crc = _CRCS[self.algorithm][1](bytes(data), self._crc)

    def digest(self) -> bytes:
        if self._hash is not None:
            return self._hash.digest()
        return self._crc.to_bytes(_CRCS[self.algorithm][0], "big")

    def b64(self) -> str:
        return base64.b64encode(self.digest()).decode()


Body = bytes | SpooledBody


def compute(algorithm: str, data: bytes | SpooledBody | Iterable[bytes]) -> str:
    """The base64 checksum of `data` (bytes, chunks, or a spooled upload, whose digest may
    have been computed as it arrived)."""
    if isinstance(data, SpooledBody):
        ready = data.digests.get(algorithm)
        if ready is not None:
            return b64encode(ready).decode()
        data = data.chunks()
    if type(data) is bytes:  # the common case, without a Hasher
        crc = _CRCS.get(algorithm)
        if crc is not None:
            return binascii.b2a_base64(
                crc[1](data, 0).to_bytes(crc[0], "big"), newline=False
            ).decode()
        return b64encode(hashlib.new(_HASHES[algorithm], data).digest()).decode()
    h = Hasher(algorithm)
    if isinstance(data, bytes | bytearray | memoryview):
        h.update(data)
    else:
        for chunk in data:
            h.update(chunk)
    return h.b64()


def combine_full(algorithm: str, parts: list[tuple[str, int]]) -> str:
    """The CRC of a concatenation, from each part's (base64 CRC, length)."""
    width, _ = _CRCS[algorithm]
    fn = {
        "CRC32": crt.combine_crc32,
        "CRC32C": crt.combine_crc32c,
        "CRC64NVME": crt.combine_crc64nvme,
    }[algorithm]
    total: int | None = None
    for value, size in parts:
        crc = int.from_bytes(base64.b64decode(value), "big")
        total = crc if total is None else fn(total, crc, size)
    return base64.b64encode((total or 0).to_bytes(width, "big")).decode()


def composite(algorithm: str, part_values: list[str]) -> str:
    """S3's COMPOSITE checksum: the checksum of the parts' raw checksums, then `-N`."""
    raw = b"".join(base64.b64decode(v) for v in part_values)
    return f"{compute(algorithm, raw)}-{len(part_values)}"


@dataclass(frozen=True, slots=True)
class Declared:
    """The checksum a request declared: the algorithm and, if sent, its base64 value."""

    algorithm: str
    value: str | None


# (algorithm, param member, header) for each algorithm, spelled out once.
_SOURCES = [(alg, member(alg), f"x-amz-checksum-{alg.lower()}") for alg in ALGORITHMS]


def declared(params: dict[str, Any], headers: dict[str, str]) -> Declared | None:
    """Which checksum the client sent (params first, then raw headers merged from trailers)."""
    found: list[Declared] = []
    for alg, name, header in _SOURCES:
        value = params.get(name) or headers.get(header)
        if value:
            found.append(Declared(alg, value))
    if len(found) > 1:
        raise InvalidRequest(
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
        )
    if found:
        return found[0]
    named = params.get("ChecksumAlgorithm") or headers.get("x-amz-sdk-checksum-algorithm")
    if named:
        alg = str(named).upper()
        if alg not in ALGORITHMS:
            raise InvalidRequest(
                "Checksum algorithm provided is unsupported. Please try again with any of the "
                "valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]"
            )
        return Declared(alg, None)
    return None


def check_format(decl: Declared) -> None:
    """InvalidRequest if a sent checksum value cannot be one of its algorithm (wrong length or
    not base64): checked before any byte of the body is digested or stored."""
    if decl.value is not None:
        _check_format(decl.algorithm, decl.value)


_SIZES = {
    **{alg: width for alg, (width, _) in _CRCS.items()},
    **{alg: hashlib.new(name).digest_size for alg, name in _HASHES.items()},
}


def _check_format(algorithm: str, value: str) -> None:
    try:
        # Strict: only the base64 alphabet, padding only at the end (what b64decode's
        # validate=True accepts, without its regular expression).
        raw = binascii.a2b_base64(value, strict_mode=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _SIZES[algorithm]:
        raise InvalidRequest(f"Value for x-amz-checksum-{algorithm.lower()} header is invalid.")


def verify(decl: Declared, data: bytes | SpooledBody) -> str:
    """Compute the declared algorithm over `data`; raise BadDigest if a sent value differs.
    Returns the (base64) checksum to store."""
    if decl.value is not None:
        _check_format(decl.algorithm, decl.value)
    return verify_checked(decl, data)


def verify_checked(decl: Declared, data: bytes | SpooledBody) -> str:
    """`verify` for a declaration whose value already passed `check_format`."""
    actual = compute(decl.algorithm, data)
    if decl.value is not None and decl.value != actual:
        raise BadDigest(
            f"The {decl.algorithm} you specified did not match the calculated checksum."
        )
    return actual


def spool_digests(headers: dict[str, str]) -> dict[str, Hasher]:
    """What a large upload's bytes are digested with as they arrive (edge/spool.py): MD5 for
    the ETag, and the checksum the client declared in its headers (S3's default, CRC64NVME,
    when it declared none)."""
    algorithm = "CRC64NVME"
    trailers = {t.strip() for t in headers.get("x-amz-trailer", "").lower().split(",")}
    for alg, _, header in _SOURCES:
        if header in headers or header in trailers:
            algorithm = alg
            break
    else:
        named = headers.get("x-amz-sdk-checksum-algorithm", "").upper()
        if named in ALGORITHMS:
            algorithm = named
    return {"md5": Hasher("MD5"), algorithm: Hasher(algorithm)}


def check_content_md5(content_md5: str | None, md5_digest: bytes) -> None:
    """Content-MD5: InvalidDigest if it is not a base64 MD5, BadDigest if it does not match."""
    if content_md5 is None:
        return
    try:
        raw = base64.b64decode(content_md5, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidDigest()
    if len(raw) != 16:
        raise InvalidDigest()
    if raw != md5_digest:
        raise BadDigest()
