"""parse_form must agree with the standard library's decoder on every input."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from overcast.core.http import parse_form

CASES = [
    "",
    "a=1&b=&c",
    "Action=GetCallerIdentity&Version=2011-06-15",
    "a=%20b+c&d",
    "&&a=1&",
    "x==y",
    "a=1&a=2",
    "Attribute.1.Name=x&Attribute.1.Value=%E2%9C%93",
    "k=v;w",
]


@pytest.mark.parametrize("text", CASES)
def test_parse_form_matches_parse_qsl(text: str) -> None:
    assert parse_form(text) == parse_qsl(text, keep_blank_values=True)


@given(st.text(alphabet="ab=&%+;2F0 ", max_size=30))
def test_parse_form_matches_parse_qsl_generated(text: str) -> None:
    assert parse_form(text) == parse_qsl(text, keep_blank_values=True)


@pytest.mark.parametrize(
    ("method", "host", "path", "expected"),
    [
        ("POST", "127.0.0.1:4566", "/", False),
        ("GET", "localhost:4566", "/bucket/key", False),
        ("GET", "[::1]:4566", "/", False),
        ("GET", "127.0.0.1:4566", "/_aws/execute-api/abc/prod/x", True),
        ("OPTIONS", "127.0.0.1:4566", "/bucket/key", True),
        ("GET", "1abc2def.execute-api.localhost:4566", "/prod/x", True),
        ("GET", "9f0e.lambda-url.us-east-1.localhost", "/", True),
        ("GET", "api.example.com", "/", True),
        ("GET", "bucket.s3.localhost:4566", "/key", True),
    ],
)
def test_data_plane_candidates(method: str, host: str, path: str, expected: bool) -> None:
    from overcast.core.http import HttpRequest
    from overcast.edge.app import _may_be_data_plane

    req = HttpRequest(method, path, headers={"host": host})
    assert _may_be_data_plane(req) is expected
