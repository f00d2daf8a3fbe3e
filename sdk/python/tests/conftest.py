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
UPLOAD_URL_TTL_S = 10


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
    """The server built from this repo, on a fresh data dir, for the whole test session.

    Its signed upload URLs live 10 s (the least it allows), so the URL-renewal test waits ~11 s instead of
    15 min; any other test slower than that between create and upload renews its URL the same way.
    """
    server = start_server(env={"ROBOTRACE_UPLOAD_URL_TTL_S": str(UPLOAD_URL_TTL_S)})
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
