"""An in-process stand-in for the RoboTrace ingest API, for unit tests through ``httpx.MockTransport``.

It answers like WIRE_CONTRACT.md says and records every request. ``fail_next`` queues error answers for a
route ("create", "upload", "upload_url", "finalize", "get"), so retry and error paths are exercised without a
network.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import httpx

BASE_URL = "http://robotrace.test"
API_KEY = "rt_unit_0123456789abcdefghijklmnop"


@dataclass
class Recorded:
    method: str
    path: str
    headers: httpx.Headers
    body: bytes
    chunks: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeServer:
    requests: list[Recorded] = field(default_factory=list)
    episodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[tuple[str, str], bytes] = field(default_factory=dict)
    _queued: dict[str, deque[httpx.Response | Exception]] = field(default_factory=lambda: defaultdict(deque))

    def fail_next(self, route: str, *answers: httpx.Response | Exception) -> None:
        self._queued[route].extend(answers)

    def transport(self) -> httpx.BaseTransport:
        return _Transport(self)

    def async_transport(self) -> httpx.AsyncBaseTransport:
        return _AsyncTransport(self)

    def routes(self, route: str) -> list[Recorded]:
        return [r for r in self.requests if _route(r.method, r.path) == route]

    def handle(self, request: httpx.Request, body: bytes, chunks: int) -> httpx.Response:
        path = request.url.path
        self.requests.append(Recorded(request.method, path, request.headers, body, chunks))
        route = _route(request.method, path)
        if self._queued[route]:
            answer = self._queued[route].popleft()
            if isinstance(answer, Exception):
                raise answer
            return answer
        if route == "create":
            return self._create(json.loads(body))
        if route == "upload":
            _, episode_id, kind = path.strip("/").split("/")
            self.uploads[(episode_id, kind)] = body
            return httpx.Response(200)
        if route == "upload_url":
            episode_id, kind = path.split("/")[4], json.loads(body)["kind"]
            return httpx.Response(200, json=_slot(episode_id, kind, renewed=True))
        if route == "finalize":
            episode_id = path.split("/")[4]
            episode = self.episodes[episode_id]
            episode.update(json.loads(body))
            return httpx.Response(200, json=episode)
        if route == "get":
            episode_id = path.rsplit("/", 1)[1]
            if episode_id not in self.episodes:
                return httpx.Response(404, json={"error": "episode not found", "code": "not_found"})
            return httpx.Response(200, json=self.episodes[episode_id])
        return httpx.Response(404, json={"error": f"no route {request.method} {path}"})

    def _create(self, body: dict[str, Any]) -> httpx.Response:
        episode_id = f"ep{len(self.episodes) + 1:04d}"
        self.episodes[episode_id] = {"id": episode_id, "status": "recording", **body}
        return httpx.Response(
            201,
            json={
                "episode_id": episode_id,
                "status": "recording",
                "storage": "local",
                "upload_urls": [_slot(episode_id, kind) for kind in body.get("request_uploads", [])],
                "portal_url": f"{BASE_URL}/portal/episodes/{episode_id}",
                "warnings": [],
            },
        )


def _slot(episode_id: str, kind: str, *, renewed: bool = False) -> dict[str, str]:
    return {
        "kind": kind,
        "url": f"{BASE_URL}/upload/{episode_id}/{kind}" + ("?renewed=1" if renewed else ""),
        "expires_at": "2030-01-01T00:00:00Z",
    }


class _Transport(httpx.BaseTransport):
    """Like httpx.MockTransport, but hands the request body over unread, so chunking stays visible."""

    def __init__(self, server: FakeServer) -> None:
        self._server = server

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        parts = list(request.stream)  # type: ignore[arg-type]
        return self._server.handle(request, b"".join(parts), len(parts))


class _AsyncTransport(httpx.AsyncBaseTransport):
    def __init__(self, server: FakeServer) -> None:
        self._server = server

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        parts = [chunk async for chunk in request.stream]  # type: ignore[union-attr]
        return self._server.handle(request, b"".join(parts), len(parts))


def _route(method: str, path: str) -> str:
    if method == "POST" and path == "/api/ingest/episode":
        return "create"
    if method == "POST" and re.fullmatch(r"/api/ingest/episode/[^/]+/finalize", path):
        return "finalize"
    if method == "POST" and re.fullmatch(r"/api/ingest/episode/[^/]+/upload-url", path):
        return "upload_url"
    if method == "PUT" and path.startswith("/upload/"):
        return "upload"
    if method == "GET" and path.startswith("/api/episodes/"):
        return "get"
    return "other"


def error(status: int, message: str, code: str, **extra: Any) -> httpx.Response:
    headers = extra.pop("headers", None)
    return httpx.Response(
        status,
        json={"error": message, "code": code, "details": None, "request_id": f"req_{status}", **extra},
        headers=headers,
    )
