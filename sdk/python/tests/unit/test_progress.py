"""The progress bar appears for large uploads on a terminal only, and never under ROBOTRACE_QUIET."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ..support.fake_server import FakeServer
from .helpers import client_for


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def big_video(tmp_path: Path) -> Path:
    path = tmp_path / "big.mp4"
    with path.open("wb") as fh:
        fh.truncate(9 * 1024 * 1024)
    return path


def test_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch, big_video: Path) -> None:
    term = Terminal()
    monkeypatch.setattr("sys.stderr", term)
    with client_for(FakeServer()) as client:
        client.log_episode(video=big_video)
    assert "[robotrace] video big.mp4 [" in term.getvalue()
    assert term.getvalue().endswith("100% 9.0/9.0 MiB\n")


def test_no_bar_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch, big_video: Path) -> None:
    pipe = io.StringIO()
    monkeypatch.setattr("sys.stderr", pipe)
    with client_for(FakeServer()) as client:
        client.log_episode(video=big_video)
    assert pipe.getvalue() == ""


def test_no_bar_under_quiet(monkeypatch: pytest.MonkeyPatch, big_video: Path) -> None:
    monkeypatch.setenv("ROBOTRACE_QUIET", "yes")
    term = Terminal()
    monkeypatch.setattr("sys.stderr", term)
    with client_for(FakeServer()) as client:
        client.log_episode(video=big_video)
    assert term.getvalue() == ""


def test_no_bar_for_small_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    small = tmp_path / "small.mp4"
    small.write_bytes(b"x" * 1000)
    term = Terminal()
    monkeypatch.setattr("sys.stderr", term)
    with client_for(FakeServer()) as client:
        client.log_episode(video=small)
    assert term.getvalue() == ""
