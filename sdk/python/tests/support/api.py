"""Reads what the server stored, with plain httpx (never through the SDK under test)."""

from __future__ import annotations

from typing import Any

import httpx

from .robotrace_server import RunningServer


class Api:
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

    def tracks(self, episode_id: str) -> dict[str, Any]:
        """The server's replay index of the episode's sensors/actions files (GET …/tracks)."""
        response = self._http.get(f"/api/episodes/{episode_id}/tracks")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def close(self) -> None:
        self._http.close()
