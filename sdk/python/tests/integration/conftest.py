from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import robotrace as rt

from ..support.robotrace_server import RunningServer


class Api:
    """Reads what the server stored, with plain httpx (not through the SDK under test)."""

    def __init__(self, server: RunningServer) -> None:
        self._http = httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {server.api_key}"}, timeout=30
        )

    def episode(self, episode_id: str) -> dict[str, Any]:
        response = self._http.get(f"/api/episodes/{episode_id}")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def list(self, **params: str) -> list[dict[str, Any]]:
        response = self._http.get("/api/episodes", params=params)
        response.raise_for_status()
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    def artifact(self, episode_id: str, kind: str) -> bytes:
        redirect = self._http.get(f"/api/episodes/{episode_id}/artifact/{kind}")
        assert redirect.status_code == 302, redirect.text
        signed = httpx.get(httpx.URL(str(self._http.base_url)).join(redirect.headers["Location"]), timeout=30)
        signed.raise_for_status()
        return signed.content

    def close(self) -> None:
        self._http.close()


@pytest.fixture(scope="session")
def api(robotrace_server: RunningServer) -> Iterator[Api]:
    reader = Api(robotrace_server)
    yield reader
    reader.close()


@pytest.fixture
def client(robotrace_server: RunningServer) -> Iterator[rt.Client]:
    with rt.Client(api_key=robotrace_server.api_key, base_url=robotrace_server.base_url) as c:
        yield c


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "rollout.mp4"
    # Not a playable MP4, but bytes with structure: every byte value, at odd offsets.
    path.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 97 + b"tail")
    return path
