"""Plain HTTP records passed between the edge, the protocol codecs and the data planes."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl


def parse_form(text: str) -> list[tuple[str, str]]:
    """`a=1&b=&c` as [(a, 1), (b, ""), (c, "")], percent- and plus-decoded like parse_qsl with
    blanks kept; the common case with nothing to decode skips the decoder (it runs per request)."""
    if "%" in text or "+" in text:
        return parse_qsl(text, keep_blank_values=True)
    out: list[tuple[str, str]] = []
    for part in text.split("&"):
        if part:
            name, _, value = part.partition("=")
            out.append((name, value))
    return out


@dataclass(frozen=True, slots=True)
class Caller:
    """Who signed a request, as the edge's signature check established it."""

    account_id: str
    access_key_id: str | None
    principal_arn: str | None
    signed: bool


class SpooledBody:
    """A request body too large to hold in memory: its bytes in a file, and the digests (by name:
    `sha256`, `md5`, a checksum algorithm such as `CRC32`) computed while it arrived. Whoever
    takes the file over (`take`) moves it; otherwise the edge discards it after the request."""

    __slots__ = ("digests", "error", "path", "size", "trailers")

    def __init__(
        self,
        path: Path,
        size: int,
        digests: dict[str, bytes],
        trailers: dict[str, str] | None = None,
        error: Exception | None = None,
    ) -> None:
        self.path = path
        self.size = size
        self.digests = digests
        # For an aws-chunked body, decoded on the way in: its trailers, and the error its
        # framing raised (reported when the request is processed).
        self.trailers = trailers
        self.error = error

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"SpooledBody({self.size} bytes)"

    def read(self) -> bytes:
        return self.path.read_bytes()

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        with open(self.path, "rb") as f:
            while chunk := f.read(size):
                yield chunk

    def take(self, dest: Path) -> None:
        """Move the file to `dest`; it is no longer the spool's to remove."""
        shutil.move(self.path, dest)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass(slots=True)
class HttpRequest:
    """A request as it arrived. `path` is the raw (still percent-encoded) path; header names are
    lower-case; `header_list` keeps repeated headers in order. For a data plane the edge sets
    `authenticate`: called with a signing service name, it checks the request's SigV4 signature
    by the same rules as the AWS APIs and returns the `Caller`, or raises a ServiceError.
    `body_sha256` is set when the edge hashed a large body off the event loop. A large upload
    arrives as `spool` (and an empty `body`) where the operation takes a streaming payload;
    anything else sees its bytes in `body`. `refused` is the error for a body its service
    refuses by its declared size alone; it was never read."""

    method: str
    path: str
    query_string: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    header_list: list[tuple[str, str]] = field(default_factory=list)
    client_ip: str = "127.0.0.1"
    scheme: str = "http"
    authenticate: Callable[[str], Caller] | None = None
    body_sha256: str | None = None  # hex SHA-256 of the body, when the edge computed it already
    spool: SpooledBody | None = None
    refused: Exception | None = None  # a body refused before it was read (too large)

    def unspool(self) -> None:
        """Bring a spooled body into `body` (for consumers that read bytes)."""
        if self.spool is not None:
            self.body = self.spool.read()
            self.spool.discard()
            self.spool = None

    def query_params(self) -> list[tuple[str, str]]:
        """The decoded query string as (name, value) pairs, in order, blanks kept."""
        return parse_form(self.query_string)

    @property
    def host(self) -> str:
        return self.headers.get("host", "")


@dataclass(slots=True)
class FileBody:
    """A response body read from a file slice, streamed by the edge instead of held in memory."""

    path: str
    offset: int = 0
    length: int = -1


@dataclass(slots=True)
class HttpResponse:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | FileBody = b""

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for k, v in self.headers:
            if k.lower() == lname:
                return v
        return None
