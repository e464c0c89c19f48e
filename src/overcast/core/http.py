"""Plain HTTP records passed between the edge, the protocol codecs and the data planes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass(slots=True)
class HttpRequest:
    """A request as it arrived. `path` is the raw (still percent-encoded) path; header names are
    lower-case; `header_list` keeps repeated headers in order. For a data plane the edge sets
    `authenticate`: called with a signing service name, it checks the request's SigV4 signature
    by the same rules as the AWS APIs and returns the `Caller`, or raises a ServiceError.
    `body_sha256` is set when the edge hashed a large body off the event loop."""

    method: str
    path: str
    query_string: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    header_list: list[tuple[str, str]] = field(default_factory=list)
    client_ip: str = "127.0.0.1"
    scheme: str = "http"
    authenticate: Callable[[str], Caller] | None = None
    body_sha256: str | None = None  # hex SHA-256 of `body`, when the edge computed it already

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
