"""Where the key and base URL come from, and what a missing one says."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import robotrace as rt

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


def test_every_profile_and_string_form_reads() -> None:
    _write_credentials(CREDENTIALS)
    assert rt.Client().base_url == "http://file.example:3000"
    assert rt._credentials.read_profile(Path(os.environ["ROBOTRACE_HOME"]) / "credentials", "staging") == {
        "api_key": "rt_staging_literal"
    }


def test_comment_after_a_table_header_is_read() -> None:
    # Regression: the hand-written parser once used on Python 3.9/3.10 refused `[default] # comment`, so the
    # whole file was ignored and the user got "No RoboTrace API key". tests/packaging runs this on 3.9 too.
    _write_credentials(
        '[default] # written by hand\napi_key = "rt_c_0123456789"  # the key\nbase_url = "http://c.example"\n'
    )
    assert rt.Client().base_url == "http://c.example"
