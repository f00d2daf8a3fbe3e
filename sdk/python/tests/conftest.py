from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .support.api import Api
from .support.robotrace_server import RunningServer, start_server

REPO_ROOT = Path(__file__).resolve().parents[3]
VECTORS = REPO_ROOT / "spec" / "trace-context-vectors.json"


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """No test sees the developer's ROBOTRACE_* variables or ~/.robotrace/credentials."""
    for name in list(os.environ):
        if name.startswith("ROBOTRACE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ROBOTRACE_HOME", str(tmp_path_factory.mktemp("robotrace-home")))
    yield
    import robotrace

    robotrace.close()


@pytest.fixture(scope="session")
def robotrace_server() -> Iterator[RunningServer]:
    """The server built from this repo, on a fresh data dir, for the whole test session."""
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def api(robotrace_server: RunningServer) -> Iterator[Api]:
    reader = Api(robotrace_server)
    yield reader
    reader.close()


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "rollout.mp4"
    # Not a playable MP4, but bytes with structure: every byte value, at odd offsets.
    path.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 97 + b"tail")
    return path


def capture_vectors() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(VECTORS.read_text())["capture"]["cases"]
    return cases
