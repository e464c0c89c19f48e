"""Plain HTTP records passed between the edge, the protocol codecs and the data planes."""

from __future__ import annotations

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


@dataclass(slots=True)
class HttpRequest:
    """A request as it arrived. `path` is the raw (still percent-encoded) path; header names are
    lower-case; `header_list` keeps repeated headers in order."""

    method: str
    path: str
    query_string: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    header_list: list[tuple[str, str]] = field(default_factory=list)
    client_ip: str = "127.0.0.1"
    scheme: str = "http"

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
