"""S3's aws-chunked request bodies, decoded.

A body sent with `Content-Encoding: aws-chunked` is a series of `hex-size[;chunk-signature=sig]`
lines each followed by that many bytes, a zero-size chunk, then (for the `-TRAILER` forms)
trailing headers such as `x-amz-checksum-crc32:...` and `x-amz-trailer-signature:...`. The outer
HTTP chunked transfer encoding has already been removed by the ASGI server. `decode_aws_chunked`
returns the object's bytes and the trailers; `unwrap_request` gives the request as S3 should see
it (decoded body, trailers merged into the headers, `aws-chunked` gone from Content-Encoding).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Protocol

from overcast.core.errors import ServiceError
from overcast.core.http import HttpRequest

STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
MIN_SIGNED_CHUNK = 8192
TRAILER_SIGNATURE = "x-amz-trailer-signature"


class ChunkVerifier(Protocol):
    """Checks chained chunk signatures (sigv4.ChunkSigner is one)."""

    def verify_chunk(self, data: bytes | memoryview, signature: str) -> None: ...

    def verify_trailer(self, canonical_trailer: bytes, signature: str) -> None: ...


@dataclass(slots=True)
class DecodedBody:
    """The object's bytes and the trailing headers (lower-case names; the trailer signature is
    not among them)."""

    data: bytes
    trailers: dict[str, str]


class IncompleteBody(ServiceError):
    code = "IncompleteBody"
    status = 400


class InvalidChunkSizeError(ServiceError):
    code = "InvalidChunkSizeError"
    status = 403


class MalformedTrailerError(ServiceError):
    code = "MalformedTrailerError"
    status = 400


class InvalidArgument(ServiceError):
    code = "InvalidArgument"
    status = 400


class SignatureDoesNotMatch(ServiceError):
    code = "SignatureDoesNotMatch"
    status = 403


_TRUNCATED = "The request body terminated unexpectedly"
_BAD_TRAILER = (
    "The request contained trailing data that was not well-formed or did not conform to our "
    "published schema."
)


def is_aws_chunked(req: HttpRequest) -> bool:
    """True when the body is aws-chunked (by Content-Encoding or a STREAMING-* payload hash)."""
    return is_aws_chunked_headers(req.headers)


def is_aws_chunked_headers(headers: dict[str, str]) -> bool:
    if headers.get("x-amz-content-sha256", "").startswith("STREAMING-"):
        return True
    return "aws-chunked" in headers.get("content-encoding", "").lower()


def strip_aws_chunked(content_encoding: str | None) -> str | None:
    """The Content-Encoding to store: `aws-chunked` removed, None when nothing is left."""
    if not content_encoding:
        return None
    kept = [
        c.strip()
        for c in content_encoding.split(",")
        if c.strip() and c.strip().lower() != "aws-chunked"
    ]
    return ", ".join(kept) or None


def decode_aws_chunked(
    body: bytes,
    *,
    content_sha256: str,
    decoded_length: int | None = None,
    verifier: ChunkVerifier | None = None,
) -> DecodedBody:
    """Decode an aws-chunked body. `content_sha256` is the request's x-amz-content-sha256 (it
    says whether chunks are signed and whether trailers follow); `decoded_length` is
    x-amz-decoded-content-length; `verifier` checks chunk and trailer signatures (None: read them
    but do not check). Malformed input raises S3's errors."""
    signed = content_sha256 in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER) or (
        content_sha256.startswith("STREAMING-AWS4-ECDSA")
    )
    check = verifier if signed else None
    view = memoryview(body)
    parts: list[memoryview] = []
    total = 0
    pos = 0
    short_chunk_seen = False
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            raise IncompleteBody(_TRUNCATED)
        size, signature = _chunk_header(body[pos:eol])
        if signed and signature is None and verifier is not None:
            raise SignatureDoesNotMatch(
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method."
            )
        start = eol + 2
        end = start + size
        if end > len(body):
            raise IncompleteBody(_TRUNCATED)
        data = view[start:end]
        if check is not None and signature is not None:
            check.verify_chunk(data, signature)
        if size == 0:
            pos = start
            break
        if signed and short_chunk_seen:
            raise InvalidChunkSizeError(
                "Only the last chunk is allowed to have a size less than 8192 bytes"
            )
        short_chunk_seen = size < MIN_SIGNED_CHUNK
        if body[end : end + 2] != b"\r\n":
            raise IncompleteBody(_TRUNCATED)
        parts.append(data)
        total += size
        pos = end + 2
    trailers, trailer_sig, canonical = _trailers(body, pos)
    if check is not None and content_sha256.endswith("-TRAILER"):
        if trailer_sig is None:
            raise MalformedTrailerError(_BAD_TRAILER)
        check.verify_trailer(canonical, trailer_sig)
    if decoded_length is not None and total != decoded_length:
        raise IncompleteBody(
            "You did not provide the number of bytes specified by the "
            "x-amz-decoded-content-length HTTP header"
        )
    return DecodedBody(b"".join(parts), trailers)


class UnsignedChunkDecoder:
    """aws-chunked framing taken off as the body arrives, for the unsigned form
    (STREAMING-UNSIGNED-PAYLOAD-TRAILER: no chunk signatures, whose check needs the request
    authenticated first). `feed` returns the object's bytes found in each piece; `finish` the
    trailers. Malformed framing raises S3's errors, as `decode_aws_chunked` does."""

    _MAX_LINE = 4096
    _MAX_TRAILERS = 64 * 1024

    def __init__(self) -> None:
        self._line = bytearray()
        self._tail = bytearray()
        self._need = 0  # bytes of the current chunk still to come
        self._state = "header"  # header | data | end-of-data | trailers
        self.total = 0

    def feed(self, data: bytes) -> list[bytes | memoryview]:
        out: list[bytes | memoryview] = []
        view = memoryview(data)
        pos, n = 0, len(data)
        while pos < n:
            state = self._state
            if state == "data":
                take = min(self._need, n - pos)
                out.append(view[pos : pos + take])
                pos += take
                self._need -= take
                self.total += take
                if self._need == 0:
                    self._state = "end-of-data"
                continue
            if state == "trailers":
                self._tail += view[pos:]
                if len(self._tail) > self._MAX_TRAILERS:
                    raise MalformedTrailerError(_BAD_TRAILER)
                break
            eol = data.find(b"\n", pos)
            if eol < 0:
                self._line += view[pos:]
                if len(self._line) > self._MAX_LINE:
                    raise IncompleteBody(_TRUNCATED)
                break
            self._line += view[pos : eol + 1]
            pos = eol + 1
            line = bytes(self._line)
            self._line.clear()
            if not line.endswith(b"\r\n"):
                raise IncompleteBody(_TRUNCATED)
            if state == "end-of-data":
                if line != b"\r\n":
                    raise IncompleteBody(_TRUNCATED)
                self._state = "header"
                continue
            size, _ = _chunk_header(line[:-2])
            if size == 0:
                self._state = "trailers"
            else:
                self._need, self._state = size, "data"
        return out

    def finish(self) -> dict[str, str]:
        """The trailers, once the whole body has been fed."""
        if self._state != "trailers":
            raise IncompleteBody(_TRUNCATED)
        trailers, _, _ = _trailers(bytes(self._tail), 0)
        return trailers


def _chunk_header(line: bytes) -> tuple[int, str | None]:
    size_text, _, ext = line.partition(b";")
    size_text = size_text.strip()
    if not size_text or len(size_text) > 16:
        raise IncompleteBody(_TRUNCATED)
    try:
        size = int(size_text, 16)
    except ValueError:
        raise IncompleteBody(_TRUNCATED)
    if size < 0:
        raise IncompleteBody(_TRUNCATED)
    signature = None
    for item in ext.split(b";") if ext else ():
        name, _, value = item.partition(b"=")
        if name.strip() == b"chunk-signature":
            signature = value.strip().decode("ascii", "replace")
    return size, signature


def _trailers(body: bytes, pos: int) -> tuple[dict[str, str], str | None, bytes]:
    """Parse what follows the zero-size chunk: trailer lines up to an empty line (or the end)."""
    trailers: dict[str, str] = {}
    signature = None
    canonical: list[bytes] = []
    n = len(body)
    while pos < n:
        eol = body.find(b"\r\n", pos)
        line = body[pos:] if eol < 0 else body[pos:eol]
        pos = n if eol < 0 else eol + 2
        if not line.strip():
            if not trailers and signature is None:
                continue  # some clients put an empty line between the last chunk and trailers
            break
        name, colon, value = line.partition(b":")
        if not colon or not name.strip():
            raise MalformedTrailerError(_BAD_TRAILER)
        key = name.strip().decode("latin-1").lower()
        text = value.strip().decode("latin-1")
        if key == TRAILER_SIGNATURE:
            signature = text
            continue
        trailers[key] = text
        canonical.append(f"{key}:{text}\n".encode("latin-1"))
    if body[pos:].strip():
        raise MalformedTrailerError(_BAD_TRAILER)
    return trailers, signature, b"".join(canonical)


def decode_request(req: HttpRequest, verifier: ChunkVerifier | None = None) -> DecodedBody:
    """Decode an aws-chunked request's body using its own headers; checks that the trailers the
    request declared in x-amz-trailer arrived."""
    length = decoded_length(req)
    content_sha = req.headers.get("x-amz-content-sha256", STREAMING_UNSIGNED_TRAILER)
    decoded = decode_aws_chunked(
        req.body, content_sha256=content_sha, decoded_length=length, verifier=verifier
    )
    _check_declared_trailers(req, decoded.trailers)
    return decoded


def decoded_length(req: HttpRequest) -> int | None:
    """x-amz-decoded-content-length, if sent (InvalidArgument if it is not a number)."""
    declared = req.headers.get("x-amz-decoded-content-length")
    if declared is None:
        return None
    try:
        return int(declared)
    except ValueError:
        raise InvalidArgument(
            "Invalid x-amz-decoded-content-length",
            fields={"ArgumentName": "x-amz-decoded-content-length", "ArgumentValue": declared},
        )


def _check_declared_trailers(req: HttpRequest, trailers: dict[str, str]) -> None:
    for name in req.headers.get("x-amz-trailer", "").split(","):
        name = name.strip().lower()
        if name and name not in trailers:
            raise MalformedTrailerError(_BAD_TRAILER)


def finish_spooled(req: HttpRequest) -> None:
    """For an aws-chunked body the edge decoded while spooling it: the same checks and header
    changes as `decode_request_body` (the spool already holds the object's bytes)."""
    spooled = req.spool
    assert spooled is not None and spooled.trailers is not None
    if spooled.error is not None:
        raise spooled.error
    length = decoded_length(req)
    if length is not None and length != spooled.size:
        raise IncompleteBody(
            "You did not provide the number of bytes specified by the "
            "x-amz-decoded-content-length HTTP header"
        )
    _check_declared_trailers(req, spooled.trailers)
    _apply(req, spooled.size, spooled.trailers)


def decode_request_body(req: HttpRequest, verifier: ChunkVerifier | None = None) -> None:
    """Undo aws-chunked framing in place: the decoded body, its Content-Length, the trailers
    merged into the headers, `aws-chunked` removed from Content-Encoding (and the header dropped
    when nothing is left). A request that is not aws-chunked is left as it is. Pass the
    `AuthResult.chunk_signer` from `sigv4.authenticate` as `verifier` so that chunk signatures
    are checked for known keys."""
    if not is_aws_chunked(req):
        return
    if req.spool is not None:  # decoded while it was spooled (edge/spool.py)
        if req.spool.trailers is not None:
            finish_spooled(req)
        return
    decoded = decode_request(req, verifier)
    _apply(req, len(decoded.data), decoded.trailers)
    req.body = decoded.data
    req.body_sha256 = None


def _apply(req: HttpRequest, length: int, trailers: dict[str, str]) -> None:
    """The headers of a decoded body: its Content-Length, the trailers merged in, `aws-chunked`
    removed from Content-Encoding (the header dropped when nothing is left)."""
    encoding = strip_aws_chunked(req.headers.get("content-encoding"))
    replaced = {"content-encoding", "content-length", *trailers}
    req.headers.pop("content-encoding", None)
    if encoding:
        req.headers["content-encoding"] = encoding
    req.headers["content-length"] = str(length)
    req.headers.update(trailers)
    if req.header_list:
        kept = [(k, v) for k, v in req.header_list if k.lower() not in replaced]
        if encoding:
            kept.append(("content-encoding", encoding))
        kept.append(("content-length", req.headers["content-length"]))
        kept.extend(trailers.items())
        req.header_list = kept


def unwrap_request(req: HttpRequest, verifier: ChunkVerifier | None = None) -> HttpRequest:
    """Like `decode_request_body`, on a copy: the original request is left untouched."""
    copy = dataclasses.replace(req, headers=dict(req.headers), header_list=list(req.header_list))
    decode_request_body(copy, verifier)
    return copy
