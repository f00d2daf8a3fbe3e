"""Where the key and base URL come from, and what a missing one says."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import robotrace as rt
from robotrace._credentials import parse_minimal_toml

CREDENTIALS = """\
# written by `robotrace login`
[default]
api_key    = "rt_file_0123456789abcdefghij"
base_url   = "http://file.example:3000/"
client_id  = "c-1"
written_at = "2026-05-04T20:08:14Z"

[staging]
api_key = 'rt_staging_literal'
"""


def _write_credentials(text: str = CREDENTIALS) -> Path:
    path = Path(os.environ["ROBOTRACE_HOME"]) / "credentials"
    path.write_text(text)
    return path


def test_missing_key_says_exactly_how_to_set_one() -> None:
    with pytest.raises(rt.ConfigurationError) as caught:
        rt.Client(base_url="http://localhost:3000")
    message = str(caught.value)
    assert "ROBOTRACE_API_KEY=rt_..." in message
    assert "rt.init(api_key=" in message
    assert str(Path(os.environ["ROBOTRACE_HOME"]) / "credentials") in message


def test_missing_base_url_names_the_variable() -> None:
    with pytest.raises(rt.ConfigurationError, match="ROBOTRACE_BASE_URL"):
        rt.Client(api_key="rt_x")


def test_base_url_must_be_http() -> None:
    with pytest.raises(rt.ConfigurationError, match="http:// or https://"):
        rt.Client(api_key="rt_x", base_url="localhost:3000")


def test_credentials_file_is_the_last_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    _write_credentials()
    client = rt.Client()
    assert client.base_url == "http://file.example:3000"
    monkeypatch.setenv("ROBOTRACE_BASE_URL", "http://env.example")
    assert rt.Client().base_url == "http://env.example"
    assert rt.Client(base_url="http://arg.example").base_url == "http://arg.example"


def test_malformed_credentials_file_reads_as_missing() -> None:
    _write_credentials("[default\napi_key = ")
    with pytest.raises(rt.ConfigurationError, match="No RoboTrace API key"):
        rt.Client(base_url="http://x")


def test_minimal_toml_parser_reads_what_the_cli_writes() -> None:
    # The parser used on Python 3.9/3.10, where tomllib does not exist.
    parsed = parse_minimal_toml(CREDENTIALS + 'escaped = "a\\"b\\\\c\\u00e9"\nnumber = 3\n')
    assert parsed["default"]["api_key"] == "rt_file_0123456789abcdefghij"
    assert parsed["default"]["base_url"] == "http://file.example:3000/"
    assert parsed["staging"] == {"api_key": "rt_staging_literal", "escaped": 'a"b\\c\u00e9'}


@pytest.mark.parametrize("bad", ['key = "open', "just words", "key = 'open"])
def test_minimal_toml_parser_rejects_garbage(bad: str) -> None:
    with pytest.raises(ValueError, match=r"unterminated|cannot parse"):
        parse_minimal_toml(bad)
