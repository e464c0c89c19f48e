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
